import Foundation

/// The checks `campaign create` runs on a campaign's content before anything is sent. Pure:
/// the caller says what it knows of the relay (unsubscribe configured, DKIM keys).
///
/// Errors are what receivers reject outright (Gmail's and Yahoo's 2024 bulk-sender rules:
/// DKIM-authenticated mail with one-click unsubscribe, RFC 8058); warnings are what lands
/// mail in spam or spoils it (shortened links, Gmail clipping HTML over 102 KB, image-only mail).
public enum ContentChecks {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public enum Severity: String, Sendable { case warning, error }
        public var severity: Severity
        public var code: String
        public var problem: String
        public var fix: String
        public var description: String { "\(severity.rawValue): \(problem) — \(fix)" }
    }

    public struct Input: Sendable {
        public var html: String?
        public var text: String?
        public var fromDomain: String
        public var unsubscribeConfigured: Bool
        public var hasDKIMKey: Bool

        public init(html: String?, text: String?, fromDomain: String, unsubscribeConfigured: Bool, hasDKIMKey: Bool) {
            self.html = html
            self.text = text
            self.fromDomain = fromDomain
            self.unsubscribeConfigured = unsubscribeConfigured
            self.hasDKIMKey = hasDKIMKey
        }
    }

    /// Gmail clips a message whose HTML exceeds about 102 KB ("[Message clipped]").
    public static let gmailClipBytes = 102 * 1024
    /// Visible text below which a message with images counts as "mostly images".
    public static let minimumTextWithImages = 200
    public static let shorteners: Set<String> = [
        "bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "t.ly", "shorturl.at",
        "rb.gy", "tiny.cc", "x.gd", "v.gd", "bl.ink", "lnkd.in", "s.id", "shorturl.com", "amzn.to",
    ]

    public static func run(_ input: Input) -> [Finding] {
        var findings: [Finding] = []
        if !input.unsubscribeConfigured {
            findings.append(
                Finding(
                    severity: .error, code: "no_unsubscribe",
                    problem: "no one-click unsubscribe: Gmail and Yahoo reject bulk mail without List-Unsubscribe-Post (RFC 8058)",
                    fix: "set campaigns.unsubscribe_base_url to the public HTTPS base that serves /u/"))
        }
        if !input.hasDKIMKey {
            findings.append(
                Finding(
                    severity: .error, code: "no_dkim",
                    problem:
                        "no DKIM key for \(input.fromDomain): bulk mail without an aligned DKIM signature is rejected by Gmail and Yahoo",
                    fix: "hikyaku domain add \(input.fromDomain) (or domain key rotate), publish the TXT record, then create the campaign"))
        }
        let bodies = [input.html, input.text].compactMap { $0 }
        let shortened = Set(bodies.flatMap(linkHosts)).filter { shorteners.contains($0) }.sorted()
        if !shortened.isEmpty {
            findings.append(
                Finding(
                    severity: .warning, code: "url_shortener",
                    problem:
                        "links through URL shorteners (\(shortened.joined(separator: ", "))): spam filters distrust hidden destinations",
                    fix: "link to your own domain directly"))
        }
        if let html = input.html {
            let size = html.utf8.count
            if size > gmailClipBytes {
                findings.append(
                    Finding(
                        severity: .warning, code: "html_too_large",
                        problem: "the HTML is \(size / 1024) KB; Gmail clips messages over 102 KB (and the unsubscribe footer with them)",
                        fix: "trim the HTML (inline CSS, unused markup) below 102 KB"))
            }
            let images = html.lowercased().components(separatedBy: "<img").count - 1
            let visible = HTMLText.plain(html).filter { !$0.isWhitespace }.count
            if images > 0, visible < minimumTextWithImages {
                findings.append(
                    Finding(
                        severity: .warning, code: "mostly_images",
                        problem:
                            "\(images) image(s) and only \(visible) characters of text: image-only mail looks like spam and shows blank with images off",
                        fix: "add the message as text too (at least a few sentences), with alt text on images"))
            }
        }
        return findings
    }

    /// The host names of `http://` and `https://` URLs in `text`, lower-cased.
    static func linkHosts(_ text: String) -> [String] {
        var hosts: [String] = []
        var rest = Substring(text)
        while let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].suffix(5).lowercased()
            let after = rest[range.upperBound...]
            if scheme.hasSuffix("http") || scheme.hasSuffix("https") {
                let host = after.prefix { !"/?#\"' <>)".contains($0) && !$0.isWhitespace }
                hosts.append(host.split(separator: "@").last.map { String($0).lowercased() } ?? "")
            }
            rest = after
        }
        return hosts.map { $0.split(separator: ":").first.map(String.init) ?? $0 }
    }

    /// Whether any finding refuses the campaign.
    public static func refuses(_ findings: [Finding]) -> Bool { findings.contains { $0.severity == .error } }
}
