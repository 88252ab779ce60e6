import NIOCore

/// Parses one command line (without its CRLF) into an ``SMTPCommand`` (RFC 5321 §4.1).
///
/// Liberal where RFC 5321 and practice allow: verbs are case-insensitive, extra spaces
/// between arguments and trailing whitespace are ignored, and `MAIL FROM: <a@b>` (a space
/// after the colon) is accepted. Strict where it matters for security: paths must be in
/// angle brackets, NUL and other control characters are refused, domains are checked
/// against the `Domain` / `address-literal` grammar.
///
/// ```
/// C: mail from: <alice@example.com> size=2048
/// → .mail(.mailbox(alice@example.com), MailParameters(size: 2048))
/// ```
public enum SMTPCommandParser {
    /// Verbs defined by RFC 5321 or registered extensions that this server does not
    /// implement: answered `502 5.5.1` (RFC 5321 §4.2.4).
    static let unimplementedVerbs: Set<String> = [
        "EXPN", "TURN", "ETRN", "ATRN", "BDAT", "BURL", "SEND", "SOML", "SAML", "XCLIENT", "XFORWARD",
    ]

    /// HTTP and proxy verbs: a client speaking another protocol (possibly a cross-protocol
    /// attack from a browser); servers close the connection.
    static let forbiddenVerbs: Set<String> = ["CONNECT", "GET", "POST", "PUT", "HEAD"]

    /// Parses `line`, which must not include the line terminator.
    public static func parse(_ line: ByteBuffer) throws(SMTPCommandError) -> SMTPCommand {
        try self.parse(bytes: Array(line.readableBytesView))
    }

    /// Parses the bytes of one command line, without the line terminator.
    public static func parse(bytes: [UInt8]) throws(SMTPCommandError) -> SMTPCommand {
        var end = bytes.count
        while end > 0, bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab {
            end -= 1
        }
        var start = 0
        while start < end, bytes[start] == ASCII.space {
            start += 1
        }
        var cursor = ByteCursor(Array(bytes[start..<end]))
        let verbBytes = cursor.readToken()
        guard !verbBytes.isEmpty, verbBytes.count <= 16, verbBytes.allSatisfy(ASCII.isAlpha) else {
            throw .unrecognizedCommand
        }
        let verb = ASCII.uppercasedString(verbBytes)
        cursor.skipSpaces()

        switch verb {
        case "EHLO":
            return .ehlo(try self.parseHeloArgument(&cursor, verb: verb))
        case "HELO":
            return .helo(try self.parseHeloArgument(&cursor, verb: verb))
        case "MAIL":
            return try self.parseMail(&cursor)
        case "RCPT":
            return try self.parseRcpt(&cursor)
        case "DATA":
            try self.expectNoArguments(cursor, verb: verb)
            return .data
        case "RSET":
            try self.expectNoArguments(cursor, verb: verb)
            return .rset
        case "QUIT":
            try self.expectNoArguments(cursor, verb: verb)
            return .quit
        case "STARTTLS":
            try self.expectNoArguments(cursor, verb: verb)
            return .startTLS
        case "NOOP":
            // RFC 5321 §4.1.1.9: "NOOP [ SP String ]"; the argument has no meaning.
            return .noop
        case "VRFY":
            let argument = try self.textArgument(cursor.remaining)
            guard !argument.isEmpty else { throw .invalidArguments("Syntax: VRFY address") }
            return .vrfy(argument)
        case "HELP":
            let topic = try self.textArgument(cursor.remaining)
            return .help(topic.isEmpty ? nil : topic)
        case "AUTH":
            return try self.parseAuth(&cursor)
        default:
            if self.unimplementedVerbs.contains(verb) {
                throw .commandNotImplemented
            }
            if self.forbiddenVerbs.contains(verb) {
                throw .forbiddenCommand
            }
            throw .unrecognizedCommand
        }
    }

    // MARK: - Simple commands

    private static func expectNoArguments(_ cursor: ByteCursor, verb: String) throws(SMTPCommandError) {
        guard cursor.isAtEnd else { throw .invalidArguments("Syntax: \(verb)") }
    }

    /// `EHLO SP ( Domain / address-literal )`: the argument is taken as one token without
    /// checking its grammar (clients send all kinds of names; RFC 5321 §4.1.4 forbids
    /// refusing a message for a wrong EHLO name), but controls and spaces are refused.
    private static func parseHeloArgument(_ cursor: inout ByteCursor, verb: String) throws(SMTPCommandError) -> String {
        let token = cursor.readToken()
        guard !token.isEmpty, cursor.isAtEnd, let name = try? self.textArgument(token) else {
            throw .invalidArguments("Syntax: \(verb) hostname")
        }
        return name
    }

    /// Free text without control characters, valid UTF-8.
    static func textArgument(_ bytes: ArraySlice<UInt8>) throws(SMTPCommandError) -> String {
        guard !bytes.contains(where: ASCII.isControl), let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidArguments("Syntax error: invalid characters in argument")
        }
        return text
    }

    // MARK: - AUTH

    /// `AUTH SP sasl-mech [SP initial-response]` (RFC 4954 §4),
    /// `sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")` (RFC 4422 §3.1, case-insensitive here).
    private static func parseAuth(_ cursor: inout ByteCursor) throws(SMTPCommandError) -> SMTPCommand {
        let mechanism = cursor.readToken()
        guard (1...20).contains(mechanism.count),
            mechanism.allSatisfy({ ASCII.isAlpha($0) || ASCII.isDigit($0) || $0 == ASCII.hyphen || $0 == UInt8(ascii: "_") })
        else {
            throw .invalidArguments("Syntax: AUTH mechanism [initial-response]")
        }
        cursor.skipSpaces()
        let response = cursor.readToken()
        cursor.skipSpaces()
        guard cursor.isAtEnd else { throw .invalidArguments("Syntax: AUTH mechanism [initial-response]") }
        let initialResponse = response.isEmpty ? nil : try self.textArgument(response)
        return .auth(mechanism: ASCII.uppercasedString(mechanism), initialResponse: initialResponse)
    }
}
