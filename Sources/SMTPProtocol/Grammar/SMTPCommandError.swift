/// Why a command line could not be parsed, with the reply the server sends for it
/// (RFC 5321 §4.2.2, enhanced codes from RFC 3463 / RFC 5248).
///
/// Errors compare equal by kind; ``detail`` (the human-readable text) is not compared.
///
/// ```
/// C: FOO bar                  S: 500 5.5.2 Syntax error, command unrecognized
/// C: EXPN staff               S: 502 5.5.1 Command not implemented
/// C: EHLO                     S: 501 5.5.4 Syntax: EHLO hostname
/// C: MAIL FROM:a@b            S: 501 5.1.7 Bad sender address syntax
/// C: RCPT TO:<a@-b>           S: 501 5.1.3 Bad recipient address syntax
/// C: MAIL FROM:<a@b> FOO=1    S: 555 5.5.4 Unsupported parameter: FOO
/// ```
public struct SMTPCommandError: Error, Hashable, Sendable {
    private enum Code: Hashable, Sendable {
        case unrecognizedCommand
        case commandNotImplemented
        case invalidArguments
        case badSenderAddress
        case badRecipientAddress
        case unrecognizedParameter
        case forbiddenCommand
    }

    private let code: Code
    /// Human-readable text of the reply.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `500 5.5.2`: the verb is not an SMTP command.
    public static let unrecognizedCommand = SMTPCommandError(.unrecognizedCommand, "Syntax error, command unrecognized")
    /// `502 5.5.1`: a known SMTP verb this server does not implement (EXPN, TURN, ETRN, BDAT…).
    public static let commandNotImplemented = SMTPCommandError(.commandNotImplemented, "Command not implemented")
    /// `501 5.5.4`: a known verb with bad arguments.
    public static let invalidArguments = SMTPCommandError(.invalidArguments, "Syntax error in parameters or arguments")
    /// `501 5.1.7`: the reverse-path of MAIL is malformed.
    public static let badSenderAddress = SMTPCommandError(.badSenderAddress, "Bad sender address syntax")
    /// `501 5.1.3`: the forward-path of RCPT is malformed.
    public static let badRecipientAddress = SMTPCommandError(.badRecipientAddress, "Bad recipient address syntax")
    /// `555 5.5.4`: a MAIL/RCPT parameter that is not recognised (RFC 5321 §4.1.1.11).
    public static let unrecognizedParameter = SMTPCommandError(.unrecognizedParameter, "Unsupported parameter")
    /// `500 5.5.2`: an HTTP or proxy verb (`GET`, `POST`, `CONNECT`…) sent to an SMTP port;
    /// servers close the connection (cross-protocol attacks, as Postfix's
    /// `smtpd_forbidden_commands`).
    public static let forbiddenCommand = SMTPCommandError(.forbiddenCommand, "Syntax error, command unrecognized")

    static func invalidArguments(_ detail: String) -> SMTPCommandError {
        SMTPCommandError(.invalidArguments, detail)
    }

    static func unrecognizedParameter(_ keyword: String) -> SMTPCommandError {
        SMTPCommandError(.unrecognizedParameter, "Unsupported parameter: \(keyword)")
    }

    /// Whether the connection should be closed rather than answered (see ``forbiddenCommand``).
    public var closesConnection: Bool {
        self.code == .forbiddenCommand
    }

    /// The reply a server sends for this error.
    public var reply: SMTPReply {
        switch self.code {
        case .unrecognizedCommand, .forbiddenCommand:
            SMTPReply(code: 500, enhancedStatus: EnhancedStatusCode(5, 5, 2), lines: [self.detail])
        case .commandNotImplemented:
            SMTPReply(code: 502, enhancedStatus: EnhancedStatusCode(5, 5, 1), lines: [self.detail])
        case .invalidArguments:
            SMTPReply(code: 501, enhancedStatus: EnhancedStatusCode(5, 5, 4), lines: [self.detail])
        case .badSenderAddress:
            SMTPReply(code: 501, enhancedStatus: EnhancedStatusCode(5, 1, 7), lines: [self.detail])
        case .badRecipientAddress:
            SMTPReply(code: 501, enhancedStatus: EnhancedStatusCode(5, 1, 3), lines: [self.detail])
        case .unrecognizedParameter:
            SMTPReply(code: 555, enhancedStatus: EnhancedStatusCode(5, 5, 4), lines: [self.detail])
        }
    }

    public static func == (lhs: SMTPCommandError, rhs: SMTPCommandError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension SMTPCommandError: CustomStringConvertible {
    public var description: String {
        let reply = self.reply
        return "SMTPCommandError(\(reply.code) \(reply.enhancedStatus.map { "\($0) " } ?? "")\(self.detail))"
    }
}
