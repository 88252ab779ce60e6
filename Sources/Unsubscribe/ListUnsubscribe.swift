import RelayCore

/// The two header fields of one-click unsubscribe for one recipient (RFC 2369 §3.2,
/// RFC 8058 §3.1), to be added before DKIM signing so the signature covers them (RFC 8058
/// §4; the DKIM signer lists both in `h=`):
///
///     List-Unsubscribe: <https://mail.example.com/u/TOKEN>, <mailto:u-TOKEN@bounces.example.com>
///     List-Unsubscribe-Post: List-Unsubscribe=One-Click
///
/// The HTTPS URI comes first (RFC 2369 §2: the client takes the first it supports).
/// The mailto form is there only when `campaigns.unsubscribe_mailto_domain` is set and
/// `u-TOKEN` fits a 64-octet local part (see `UnsubscribeSigner`).
public struct ListUnsubscribe: Sendable {
    public let settings: CampaignSettings
    public let signer: UnsubscribeSigner

    /// The URL path's prefix (`<base>/u/<token>`) and the mailto local part's.
    public static let pathPrefix = "/u/"
    public static let localPartPrefix = "u-"
    /// RFC 5321 §4.5.3.1.1.
    public static let maximumLocalPartLength = 64

    public static let listUnsubscribe = "List-Unsubscribe"
    public static let listUnsubscribePost = "List-Unsubscribe-Post"
    /// RFC 8058 §3.1: the one value of `List-Unsubscribe-Post`, and the body a receiver POSTs.
    public static let oneClick = "List-Unsubscribe=One-Click"

    public init(settings: CampaignSettings, signer: UnsubscribeSigner) {
        self.settings = settings
        self.signer = signer
    }

    /// The fields for `token`'s recipient, or nil when `campaigns.unsubscribe_base_url`
    /// is unset (there is no endpoint to point at). The values are unfolded; the longest
    /// (a 254-octet address) stays well under the 998-octet line limit of RFC 5322 §2.1.1.
    public func headers(for token: UnsubscribeToken) -> [(name: String, value: String)]? {
        uris(for: token).map { [(Self.listUnsubscribe, $0.joined(separator: ", ")), (Self.listUnsubscribePost, Self.oneClick)] }
    }

    /// The two fields as they go into a message's header section, each ending in CRLF; the
    /// `List-Unsubscribe` value folded between its URIs (RFC 5322 §2.2.3) to keep lines short.
    public func fieldText(for token: UnsubscribeToken) -> String? {
        uris(for: token).map {
            "\(Self.listUnsubscribe): \($0.joined(separator: ",\r\n "))\r\n\(Self.listUnsubscribePost): \(Self.oneClick)\r\n"
        }
    }

    private func uris(for token: UnsubscribeToken) -> [String]? {
        guard let base = settings.unsubscribeBaseURL else { return nil }
        let text = signer.token(token)
        var uris = ["<\(base)\(Self.pathPrefix)\(text)>"]
        if let domain = settings.unsubscribeMailtoDomain, let local = Self.mailtoLocalPart(text) {
            uris.append("<mailto:\(local)@\(domain)>")
        }
        return uris
    }

    /// `u-<token>`, or nil when longer than a local part may be.
    public static func mailtoLocalPart(_ token: String) -> String? {
        let local = localPartPrefix + token
        return local.utf8.count <= maximumLocalPartLength ? local : nil
    }

    /// The token of a local part `u-<token>` (any case of the prefix), or nil when it has
    /// another form — for the bounce listener to tell these addresses from VERP ones.
    public static func token(ofLocalPart local: String) -> String? {
        let utf8 = local.utf8
        guard utf8.count > 2, utf8.count <= maximumLocalPartLength, utf8.prefix(2).map({ $0 | 0x20 }) == Array("u-".utf8) else {
            return nil
        }
        return String(local.dropFirst(2))
    }
}
