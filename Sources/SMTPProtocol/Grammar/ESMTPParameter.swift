/// One `esmtp-param` of `MAIL` or `RCPT` (RFC 5321 §4.1.2):
/// `esmtp-keyword ["=" esmtp-value]`.
///
/// The keyword is stored uppercased (keywords are case-insensitive).
public struct ESMTPParameter: Hashable, Sendable {
    public var keyword: String
    public var value: String?

    public init(keyword: String, value: String? = nil) {
        self.keyword = keyword.uppercased()
        self.value = value
    }
}

extension ESMTPParameter: CustomStringConvertible {
    /// `KEYWORD` or `KEYWORD=value`.
    public var description: String {
        if let value = self.value {
            return "\(self.keyword)=\(value)"
        }
        return self.keyword
    }
}
