import RelayCore
import Secrets
import Unsubscribe

/// `hikyaku unsubscribe link|decode`: one-click unsubscribe links made and read with the
/// key file — to see which address and account a link a reader forwarded stands for, and
/// to try the endpoint without sending mail.
public enum UnsubscribeTools {
    /// What a token says.
    public struct Decoded: Sendable {
        public var account: String
        public var recipient: String
        public var campaign: String?
        /// The issue day (RFC 3339 date) and the end of validity (RFC 3339).
        public var issued: String
        public var validUntil: String
        public var expired: Bool
    }

    static func signer(_ configuration: HikyakuConfiguration) throws -> UnsubscribeSigner {
        guard let path = configuration.secrets.keyFile else {
            throw OperatorError("secrets.key_file is not set: unsubscribe tokens are signed with the key file")
        }
        do {
            return UnsubscribeSigner(
                keyring: try SecretKeyFile.load(path: path), validity: configuration.campaigns.unsubscribeTokenValidity)
        } catch let error as SecretsError {
            throw OperatorError("secrets.key_file: \(error.detail)")
        }
    }

    /// The `List-Unsubscribe` and `List-Unsubscribe-Post` fields a message to `recipient` of
    /// `account` would carry today, as they would be written.
    public static func fields(
        account: String, recipient: String, campaign: String?, configuration: HikyakuConfiguration
    ) throws -> String {
        guard configuration.campaigns.unsubscribeBaseURL != nil else { throw OperatorError("campaigns.unsubscribe_base_url is not set") }
        let list = ListUnsubscribe(settings: configuration.campaigns, signer: try signer(configuration))
        let token = UnsubscribeToken(
            account: account, recipient: recipient, campaign: campaign, nowMilliseconds: WallClock.nowMilliseconds())
        return list.fieldText(for: token)?.replacing("\r\n", with: "\n") ?? ""
    }

    /// A link (`https://…/u/TOKEN`), a mailto address (`u-TOKEN@…`) or the token alone,
    /// checked with the key file. An expired token is decoded and marked so; a forged one throws.
    public static func decode(_ text: String, configuration: HikyakuConfiguration) throws -> Decoded {
        var token = Substring(text)
        if let slash = token.lastIndex(of: "/") { token = token[token.index(after: slash)...] }
        if let at = token.firstIndex(of: "@") { token = token[..<at] }
        if token.lowercased().hasPrefix(ListUnsubscribe.localPartPrefix) { token = token.dropFirst(2) }
        let signer = try signer(configuration)
        let decoded: UnsubscribeToken
        var expired = false
        do {
            decoded = try signer.verify(String(token), nowMilliseconds: WallClock.nowMilliseconds())
        } catch  where error.isExpired {
            // Verified but past its validity: read it with a clock at its issue.
            let issued = UnsubscribeSigner(keyring: signer.keyring, validity: .days(60_000))
            decoded = try issued.verify(String(token), nowMilliseconds: WallClock.nowMilliseconds())
            expired = true
        } catch {
            throw OperatorError("'\(token)' is not a valid unsubscribe token: \(error)")
        }
        let day = Int64(decoded.issuedDay) * 86_400_000
        return Decoded(
            account: decoded.account, recipient: decoded.recipient, campaign: decoded.campaign,
            issued: String(WallClock.iso8601(milliseconds: day).prefix(10)),
            validUntil: WallClock.iso8601(milliseconds: day + 86_400_000 + signer.validity.milliseconds), expired: expired)
    }
}
