import NIOCore

/// A server reply: a three-digit code, an optional enhanced status code and one or more
/// lines of text (RFC 5321 §4.2, RFC 2034 §4).
///
/// ```
/// S: 250-mx.example.com Hello client.example.com
/// S: 250-PIPELINING
/// S: 250 SIZE 10485760
///
/// S: 550-5.7.1 Relay access denied
/// S: 550 5.7.1 (see the policy page)
/// ```
public struct SMTPReply: Hashable, Sendable {
    /// The reply code, 200-599 (RFC 5321 §4.2.1).
    public var code: Int
    /// The enhanced status code written on every line (RFC 2034 §4).
    public var enhancedStatus: EnhancedStatusCode?
    /// The text lines, without code, enhanced code or line terminator.
    public var lines: [String]

    public init(code: Int, enhancedStatus: EnhancedStatusCode? = nil, lines: [String]) {
        self.code = code
        self.enhancedStatus = enhancedStatus
        self.lines = lines
    }

    /// A one-line reply: `SMTPReply(250, "2.1.0", "Ok")`.
    public init(_ code: Int, _ enhancedStatus: String?, _ text: String) {
        self.code = code
        self.enhancedStatus = enhancedStatus.flatMap(EnhancedStatusCode.init)
        self.lines = [text]
    }

    /// `2yz` or `3yz`: positive completion or positive intermediate (RFC 5321 §4.2.1).
    public var isPositive: Bool {
        (200..<400).contains(self.code)
    }

    /// `3yz`: the server waits for more (354 after DATA, 334 during AUTH).
    public var isIntermediate: Bool {
        (300..<400).contains(self.code)
    }

    /// `4yz`: transient negative completion; the client may retry later.
    public var isTransientFailure: Bool {
        (400..<500).contains(self.code)
    }

    /// `5yz`: permanent negative completion.
    public var isPermanentFailure: Bool {
        (500..<600).contains(self.code)
    }

    /// The lines joined with a space, for logs and bounce reports.
    public var text: String {
        self.lines.joined(separator: " ")
    }

    /// `250 2.0.0 Ok: queued` — the reply as one line, for events and logs.
    public var singleLineText: String {
        let status = self.enhancedStatus.map { " \($0)" } ?? ""
        return "\(self.code)\(status) \(self.text)"
    }

    /// Writes the reply: `code-text` for every line but the last, `code SP text` for the
    /// last, the enhanced code on every line (RFC 2034 §4), each line ended by CRLF.
    /// CR and LF inside the text are replaced by spaces so that no line can be injected.
    public func encode(into buffer: inout ByteBuffer) {
        let lines = self.lines.isEmpty ? [""] : self.lines
        let prefix = self.enhancedStatus.map { "\($0) " } ?? ""
        for (index, line) in lines.enumerated() {
            let separator = index == lines.count - 1 ? " " : "-"
            let safe =
                line.utf8.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf })
                ? String(decoding: line.utf8.map { $0 == ASCII.cr || $0 == ASCII.lf ? ASCII.space : $0 }, as: UTF8.self)
                : line
            let text = prefix + safe
            if text.isEmpty, separator == " ", self.code != 334 {
                // "334 " keeps its space: RFC 4954 §4 continue-req = "334" SP [base64] CRLF.
                buffer.writeString("\(self.code)\r\n")
            } else {
                buffer.writeString("\(self.code)\(separator)\(text)\r\n")
            }
        }
    }
}

extension SMTPReply: CustomStringConvertible {
    /// The reply as it appears on the wire, lines separated by `\n` (no trailing newline).
    public var description: String {
        var buffer = ByteBuffer()
        self.encode(into: &buffer)
        return String(buffer: buffer).replacingCRLF()
    }
}

extension String {
    fileprivate func replacingCRLF() -> String {
        var result = self.split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n")
        if result.hasSuffix("\n") {
            result.removeLast()
        }
        return result
    }
}
