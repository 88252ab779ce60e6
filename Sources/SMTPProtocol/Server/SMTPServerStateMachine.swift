import NIOCore

/// The server side of one SMTP session (RFC 5321 §4.1.4 command ordering, RFC 3207
/// STARTTLS, RFC 4954 AUTH). It decides every reply; the NIO handler does the I/O.
///
/// Each event returns an ``SMTPServerAction``. Actions that wait for the handler
/// (``SMTPServerAction/startTLS(_:)``, ``SMTPServerAction/checkCredentials(username:password:mechanism:)``,
/// ``SMTPServerAction/startData(_:)``, ``SMTPServerAction/enqueue(_:)``) are completed by
/// the matching call (`tlsEstablished`, `credentialsChecked`, `dataEnded`,
/// `messageQueued`); until then the handler feeds no lines (they stay in the framer).
/// After an action, the handler sets its framer to ``framerMode``.
///
/// ```
/// S: 220 mx.example.net ESMTP Hikyaku          greeting()
/// C: EHLO client.example.com                   receiveLine → .reply(250-…)
/// C: MAIL FROM:<a@example.com>                 receiveLine → .reply(250 2.1.0)
/// C: RCPT TO:<b@example.org>                   receiveLine → .reply(250 2.1.5)
/// C: DATA                                      receiveLine → .startData(354)
/// C: …content… .                               dataEnded   → .enqueue(transaction)
/// S: 250 2.0.0 Ok: queued as 1A2B              messageQueued(.queued("1A2B"))
/// ```
///
/// Syntax errors never end the session by themselves, but after
/// ``SMTPServerConfiguration/badCommandLimit`` bad commands the server answers
/// `421 4.7.0` and closes.
public struct SMTPServerStateMachine: Sendable {
    enum State: Sendable {
        /// No (valid) EHLO/HELO yet, or TLS just started (RFC 3207 §4.2).
        case awaitingHelo
        /// Greeted, no mail transaction.
        case ready
        /// MAIL accepted; collecting recipients.
        case transaction(PendingTransaction)
        /// 354 sent; the handler streams content until `dataEnded`.
        case receivingData(PendingTransaction)
        /// Waiting for `messageQueued`.
        case enqueueing
        /// Inside an AUTH exchange, waiting for a response line to a 334 challenge.
        case authenticating(AuthExchange)
        /// Waiting for `credentialsChecked`.
        case checkingCredentials
        /// Waiting for `recipientChecked` about the last accepted-looking RCPT.
        case checkingRecipient(PendingTransaction, ForwardPath)
        /// Waiting for `tlsEstablished`.
        case startingTLS
        case closed
    }

    struct PendingTransaction: Sendable {
        var reversePath: ReversePath
        var parameters: MailParameters
        var recipients: [ForwardPath] = []
        /// Recipients refused by policy, to answer DATA with 554 when none was accepted.
        var refusedRecipients = 0
    }

    enum AuthExchange: Sendable {
        case plain
        case loginUsername
        case loginPassword(username: String)
    }

    /// SASL mechanisms this state machine implements.
    static let implementedMechanisms = ["PLAIN", "LOGIN"]

    let configuration: SMTPServerConfiguration
    var state: State = .awaitingHelo
    var badCommands = 0

    /// Whether the connection is TLS-protected (implicit TLS or after STARTTLS).
    public internal(set) var isTLS: Bool
    /// The name from the last EHLO/HELO, if any.
    public internal(set) var heloName: String?
    /// Whether the last greeting was EHLO (extensions in effect).
    public internal(set) var isExtendedSession = false
    /// The SASL identity after a successful AUTH.
    public internal(set) var authenticatedUser: String?
    /// The account's rules, once the handler knows the account.
    public internal(set) var senderPolicy: SenderPolicy?

    /// Applies an account's rules to the transactions that follow (RFC 5321 lets a server
    /// refuse a sender it does not accept mail from, §4.1.1.2 and §3.3).
    public mutating func setSenderPolicy(_ policy: SenderPolicy?) {
        self.senderPolicy = policy
    }

    /// The size limit in force: the listener's, or the account's if lower.
    public var effectiveMaxMessageSize: Int {
        min(self.configuration.maxMessageSize, self.senderPolicy?.maxMessageSize ?? Int.max)
    }

    /// The recipients-per-transaction limit in force.
    var effectiveMaxRecipients: Int {
        min(self.configuration.maxRecipients, self.senderPolicy?.maxRecipients ?? Int.max)
    }

    /// - Parameter isTLS: true on implicit-TLS listeners (port 465, RFC 8314).
    public init(configuration: SMTPServerConfiguration, isTLS: Bool) {
        self.configuration = configuration
        self.isTLS = isTLS
    }

    /// The mechanisms offered: the configured ones that are implemented, uppercased.
    var offeredMechanisms: [String] {
        var mechanisms: [String] = []
        for mechanism in self.configuration.authMechanisms.map({ $0.uppercased() })
        where Self.implementedMechanisms.contains(mechanism) && !mechanisms.contains(mechanism) {
            mechanisms.append(mechanism)
        }
        return mechanisms
    }

    /// Whether AUTH is advertised and accepted on this connection now.
    var isAuthAvailable: Bool {
        !self.offeredMechanisms.isEmpty && (self.isTLS || self.configuration.allowAuthWithoutTLS)
    }

    /// What the handler sets on its ``SMTPFramer`` after performing the last action:
    /// `.data` after 354, `.authResponse` during an AUTH exchange, else `.command`.
    public var framerMode: SMTPFramer.Mode {
        switch self.state {
        case .receivingData: .data
        case .authenticating: .authResponse
        default: .command
        }
    }

    /// Whether the session has ended (after QUIT, too many errors, or a protocol violation).
    public var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    /// The opening reply (RFC 5321 §4.2, §3.1): `220 <hostname> ESMTP Hikyaku`.
    public mutating func greeting() -> SMTPReply {
        SMTPReply(code: 220, lines: ["\(self.configuration.hostname) ESMTP Hikyaku"])
    }

    /// A line from the framer: a command, or the answer to a 334 during AUTH.
    public mutating func receiveLine(_ line: ByteBuffer) -> SMTPServerAction {
        switch self.state {
        case .authenticating(let exchange):
            return self.receiveAuthResponse(Array(line.readableBytesView), exchange: exchange)
        case .awaitingHelo, .ready, .transaction:
            break
        case .receivingData, .enqueueing, .checkingCredentials, .checkingRecipient, .startingTLS, .closed:
            return self.handlerMisuse()
        }
        let command: SMTPCommand
        do {
            command = try SMTPCommandParser.parse(line)
        } catch {
            if error.closesConnection {
                self.state = .closed
                return .replyAndClose(.protocolViolation)
            }
            return self.badCommand(error.reply)
        }
        return self.receiveCommand(command)
    }

    /// A line longer than the framer's limit: `500 5.5.6`; an AUTH exchange is abandoned.
    public mutating func receiveLineTooLong() -> SMTPServerAction {
        switch self.state {
        case .authenticating:
            self.state = .ready
        case .awaitingHelo, .ready, .transaction:
            break
        case .receivingData, .enqueueing, .checkingCredentials, .checkingRecipient, .startingTLS, .closed:
            return self.handlerMisuse()
        }
        return self.badCommand(.lineTooLong)
    }

    /// A parsed command (``receiveLine(_:)`` calls this after parsing).
    public mutating func receiveCommand(_ command: SMTPCommand) -> SMTPServerAction {
        switch self.state {
        case .awaitingHelo, .ready, .transaction:
            break
        case .receivingData, .enqueueing, .authenticating, .checkingCredentials, .checkingRecipient, .startingTLS, .closed:
            return self.handlerMisuse()
        }
        switch command {
        case .ehlo(let name):
            return self.receiveHelo(name, extended: true)
        case .helo(let name):
            return self.receiveHelo(name, extended: false)
        case .mail(let path, let parameters):
            return self.receiveMail(path, parameters)
        case .rcpt(let path, let parameters):
            return self.receiveRcpt(path, parameters)
        case .data:
            return self.receiveData()
        case .rset:
            // RFC 5321 §4.1.1.5: clears the transaction, keeps the greeting.
            if case .transaction = self.state {
                self.state = .ready
            }
            return .reply(.ok)
        case .noop:
            return .reply(.ok)
        case .vrfy:
            // RFC 5321 §3.5.3: 252 when the server will not verify.
            return .reply(.cannotVRFY)
        case .help:
            return .reply(.help)
        case .quit:
            self.state = .closed
            return .replyAndClose(.serviceClosing)
        case .startTLS:
            return self.receiveStartTLS()
        case .auth(let mechanism, let initialResponse):
            return self.receiveAuth(mechanism: mechanism, initialResponse: initialResponse)
        }
    }

    /// Answers a bad command, or closes with `421 4.7.0` when it is one too many.
    mutating func badCommand(_ reply: SMTPReply) -> SMTPServerAction {
        self.badCommands += 1
        if self.badCommands >= self.configuration.badCommandLimit {
            self.state = .closed
            return .replyAndClose(.tooManyErrors)
        }
        return .reply(reply)
    }

    /// An event that the current state does not expect: the handler broke the contract
    /// (e.g. fed a line while a credential check was pending). Closing is the only safe answer.
    mutating func handlerMisuse() -> SMTPServerAction {
        self.state = .closed
        return .replyAndClose(.serviceNotAvailable)
    }
}
