import SMTPProtocol

extension SMTPReply {
    /// A refusal written in a scenario as it appears on the wire: `code [enhanced] text`,
    /// e.g. `"421 4.7.28 rate limited"` or `"550 No such user"`. Only 4yz and 5yz codes
    /// (RFC 5321 §4.2.1) are refusals; an enhanced code must share the reply's class
    /// (RFC 3463 §2).
    ///
    /// ```
    /// "452 4.2.2 Mailbox full"  →  S: 452 4.2.2 Mailbox full
    /// ```
    init(configured text: String, key: String) throws(ScenarioError) {
        let words = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let first = words.first, first.count == 3, let code = Int(first), (400..<600).contains(code) else {
            throw .invalidValue(key, "'\(text)' must start with a 4yz or 5yz reply code")
        }
        var rest = words.count > 1 ? String(words[1]) : ""
        var enhanced: EnhancedStatusCode?
        let restWords = rest.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        if let candidate = restWords.first, let status = EnhancedStatusCode(String(candidate)) {
            guard status.class == code / 100 else {
                throw .invalidValue(key, "enhanced status \(candidate) does not match reply code \(code)")
            }
            enhanced = status
            rest = restWords.count > 1 ? String(restWords[1]) : ""
        }
        if rest.isEmpty {
            rest = code < 500 ? "Try again later" : "Refused"
        }
        self.init(code: code, enhancedStatus: enhanced, lines: [rest])
    }

    /// One line as written in records and logs: `421 4.7.28 rate limited`.
    var singleLine: String {
        let status = self.enhancedStatus.map { "\($0) " } ?? ""
        return "\(self.code) \(status)\(self.text)"
    }
}
