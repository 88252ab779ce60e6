/// Why ``SMTPReplyParser`` could not read a reply. Any of these means the peer is not
/// speaking SMTP correctly; the client should close the connection.
public struct SMTPReplyParserError: Error, Hashable, Sendable {
    private enum Code: Hashable, Sendable {
        case lineTooLong
        case invalidReplyLine
        case inconsistentCodes
        case tooManyLines
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// A reply line exceeded the parser's maximum line length.
    public static let lineTooLong = SMTPReplyParserError(.lineTooLong)
    /// A line did not start with a three-digit code followed by SP, `-` or the line end.
    public static let invalidReplyLine = SMTPReplyParserError(.invalidReplyLine)
    /// The lines of a multi-line reply carried different codes (RFC 5321 §4.2.1).
    public static let inconsistentCodes = SMTPReplyParserError(.inconsistentCodes)
    /// A multi-line reply exceeded the parser's maximum number of lines.
    public static let tooManyLines = SMTPReplyParserError(.tooManyLines)
}

extension SMTPReplyParserError: CustomStringConvertible {
    public var description: String {
        switch self.code {
        case .lineTooLong: "SMTP reply line too long"
        case .invalidReplyLine: "Invalid SMTP reply line"
        case .inconsistentCodes: "Multi-line SMTP reply with inconsistent codes"
        case .tooManyLines: "SMTP reply with too many lines"
        }
    }
}
