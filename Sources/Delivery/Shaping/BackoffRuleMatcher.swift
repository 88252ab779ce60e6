import RelayCore
import SMTPProtocol

/// One adaptive-backoff rule, prepared for matching: its reply-code pattern parsed, its
/// text pattern compiled once.
///
/// A rule matches a reply when every field it gives matches:
/// - `code`: the exact code (`421`) or a class pattern where `x` stands for any digit
///   (`4xx`, `45x`);
/// - `enhanced`: a prefix of the reply's enhanced status code as text (`4.7` matches
///   `4.7.28`; `4.7.5` matches `4.7.5`, `4.7.50`–`4.7.59` and `4.7.500`–`4.7.599`); a
///   reply without an enhanced code never matches a rule that gives one;
/// - `text`: a case-insensitive regular expression (Swift `Regex` syntax, `\b` at
///   simple ASCII-style word boundaries) found anywhere in the reply text (all lines
///   joined by a space);
/// - `sites`: the site is one of these.
///
/// Positive replies (2yz, 3yz) never match. A text pattern that does not compile (the
/// configuration check rejects those) makes its rule match nothing.
struct BackoffRuleMatcher: Sendable {
    let rule: BackoffRuleSettings
    /// Three characters, each a digit or `x`.
    private let code: [Character]?
    /// `Regex` is `Sendable` for `Sendable` outputs: its storage is immutable and its
    /// lazily compiled program is published atomically. Only the type-erased capture
    /// output (`AnyRegexOutput`) is not, and it never leaves ``matches(_:text:site:)``.
    nonisolated(unsafe) private let regex: Regex<AnyRegexOutput>?
    private let compiled: Bool
    private let sites: Set<SiteName>?

    init(_ rule: BackoffRuleSettings) {
        self.rule = rule
        self.code = rule.code.map { Array($0.lowercased()) }
        if let text = rule.text {
            let regex = try? Regex(text).ignoresCase().wordBoundaryKind(.simple)
            self.regex = regex
            self.compiled = regex != nil
        } else {
            self.regex = nil
            self.compiled = true
        }
        self.sites = rule.sites.map { Set($0.map(SiteName.init(rawValue:))) }
    }

    func matches(_ reply: SMTPReply, text: String, site: SiteName) -> Bool {
        guard reply.code >= 400, compiled else { return false }
        if let sites, !sites.contains(site) {
            return false
        }
        if let code, !BackoffRuleMatcher.code(reply.code, matches: code) {
            return false
        }
        if let enhanced = rule.enhanced {
            guard let status = reply.enhancedStatus, status.description.hasPrefix(enhanced) else { return false }
        }
        if let regex {
            guard (try? regex.firstMatch(in: text)) != nil else { return false }
        }
        return true
    }

    private static func code(_ code: Int, matches pattern: [Character]) -> Bool {
        let digits = Array(String(code))
        guard digits.count == 3, pattern.count == 3 else { return false }
        return zip(digits, pattern).allSatisfy { digit, want in want == "x" || want == digit }
    }
}
