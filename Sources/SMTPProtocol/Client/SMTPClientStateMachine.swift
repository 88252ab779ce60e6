/// The client side of one SMTP session (RFC 5321 §3, §4.1.4 command ordering; RFC 3207
/// STARTTLS; RFC 2920 PIPELINING). It decides every command; the connection glue does the
/// I/O. Every event returns an ``SMTPClientAction``.
///
/// Opening (``receive(_:)`` from the start; the glue reads the greeting first):
///
/// ```
/// S: 220 mx.example.org ESMTP                  receive → .send([EHLO])
/// C: EHLO relay.example.com
/// S: 250-mx.example.org / 250 STARTTLS         receive → .send([STARTTLS])
/// C: STARTTLS
/// S: 220 2.0.0 Ready                           receive → .startTLS
///    (TLS handshake)                           tlsEstablished → .send([EHLO])
/// C: EHLO relay.example.com
/// S: 250-mx.example.org / 250 PIPELINING       receive → .ready(capabilities)
/// ```
///
/// An EHLO refused with anything but `421` is retried as HELO (RFC 5321 §3.2, §4.1.4): a
/// server that does not know EHLO still takes mail. A `421` at any point means the server
/// is closing the connection (§3.8): the session fails with it, or — inside a transaction —
/// every recipient not yet decided gets it. Transactions are in
/// `SMTPClientStateMachine+Transaction.swift`.
public struct SMTPClientStateMachine: Sendable {
    /// What the session does about TLS, decided by the caller's policy (opportunistic TLS,
    /// RFC 7435; mandatory under MTA-STS RFC 8461, DANE RFC 7672 or a site's rule).
    public struct Configuration: Hashable, Sendable {
        /// The name sent with EHLO/HELO (RFC 5321 §4.1.1.1).
        public var heloName: String
        /// Send STARTTLS when the server offers it (the caller can do TLS for this host).
        public var attemptStartTLS: Bool
        /// Without TLS the session must not carry mail: not offered → QUIT and fail.
        public var requireTLS: Bool

        public init(heloName: String, attemptStartTLS: Bool = true, requireTLS: Bool = false) {
            self.heloName = heloName
            self.attemptStartTLS = attemptStartTLS
            self.requireTLS = requireTLS
        }
    }

    enum State: Hashable, Sendable {
        case awaitingGreeting
        /// EHLO sent; `afterTLS` once the handshake is done (RFC 3207 §4.2).
        case awaitingEHLO(afterTLS: Bool)
        case awaitingHELO(afterTLS: Bool)
        case awaitingStartTLS
        /// `220` to STARTTLS received; the glue runs the handshake.
        case startingTLS
        case ready
        case transaction(Transaction)
        /// `354` received, the content is being sent; waiting for the end-of-data reply.
        /// `then`: the next transaction, whose commands followed the content.
        case sendingBody(Transaction, then: Transaction?)
        /// An empty content is being sent after an unwanted `354`.
        case abortingData(Transaction)
        /// RSET sent after a failed transaction; its reply only frees the session.
        case resetting(SMTPTransactionOutcome)
        case quitting
        /// The server said it is closing (`421`), or the session failed or ended.
        case closed
    }

    public let configuration: Configuration
    var state: State = .awaitingGreeting

    /// What the last EHLO offered; none before it, after HELO, and right after TLS starts
    /// (RFC 3207 §4.2: the client forgets what it learnt in clear).
    public internal(set) var capabilities = SMTPCapabilities()
    /// Whether the TLS handshake after STARTTLS succeeded.
    public internal(set) var isTLS = false

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// From the `220` to STARTTLS until the EHLO over TLS is answered: a failure here is a
    /// failure of TLS (a refused certificate shows up as a lost connection at the next read).
    public var isNegotiatingTLS: Bool {
        switch state {
        case .startingTLS, .awaitingEHLO(afterTLS: true), .awaitingHELO(afterTLS: true): true
        default: false
        }
    }

    /// Whether a transaction can be started now.
    public var isReady: Bool { state == .ready }

    /// Whether the connection can still be used for anything (false after a `421` or a failure).
    public var isUsable: Bool {
        switch state {
        case .closed, .quitting: false
        default: true
        }
    }

    /// A reply from the server, in order.
    public mutating func receive(_ reply: SMTPReply) -> SMTPClientAction {
        switch state {
        case .awaitingGreeting:
            // RFC 5321 §3.1: 220 opens the session; 554 (or anything else) refuses it.
            guard reply.code == 220 else { return fail(.refused(reply)) }
            return sendHello(.ehlo(configuration.heloName), afterTLS: false)
        case .awaitingEHLO(let afterTLS):
            if reply.code == 421 { return fail(.refused(reply)) }
            guard reply.code == 250 else {
                // RFC 5321 §3.2: a server that does not know EHLO gets HELO.
                return sendHello(.helo(configuration.heloName), afterTLS: afterTLS)
            }
            capabilities = SMTPCapabilities(ehloReply: reply)
            if !afterTLS, capabilities.startTLS, configuration.attemptStartTLS {
                state = .awaitingStartTLS
                return .send([.startTLS])
            }
            return opened()
        case .awaitingHELO:
            guard reply.code == 250 else { return fail(.refused(reply)) }
            capabilities = SMTPCapabilities()
            return opened()
        case .awaitingStartTLS:
            if reply.code == 220 {
                state = .startingTLS
                return .startTLS
            }
            if reply.code == 421 { return fail(.refused(reply)) }
            // RFC 3207 §4: a refused STARTTLS leaves the session in clear, as it was.
            if configuration.requireTLS { return fail(.startTLSRefused(reply)) }
            return opened()
        case .transaction, .sendingBody, .abortingData, .resetting:
            return receiveInTransaction(reply)
        case .quitting:
            state = .closed
            return .close
        case .startingTLS, .ready, .closed:
            // Nothing was asked: the server is not following the protocol.
            return fail(.unexpectedReply(reply, after: "nothing"))
        }
    }

    /// The TLS handshake after a `220` to STARTTLS succeeded: greet again (RFC 3207 §4.2).
    public mutating func tlsEstablished() -> SMTPClientAction {
        precondition(state == .startingTLS, "tlsEstablished() without a 220 to STARTTLS")
        isTLS = true
        capabilities = SMTPCapabilities()
        return sendHello(.ehlo(configuration.heloName), afterTLS: true)
    }

    /// Ends the session politely (RFC 5321 §4.1.1.10) if the connection is still usable.
    /// In the middle of a transaction (e.g. one chained after the last content, whose own
    /// content will not be sent) the server may be reading content after its `354`, where
    /// QUIT would be taken for content: the connection is just closed, and the server
    /// delivers nothing whose end of data never came (RFC 5321 §6.1: it takes responsibility
    /// with its reply to the end of data).
    public mutating func quit() -> SMTPClientAction {
        guard isUsable, !isNegotiatingTLS, !hasTransactionInProgress else {
            state = .closed
            return .close
        }
        state = .quitting
        return .send([.quit])
    }

    /// Writing a command or reading its reply failed (the connection is gone). Returns the
    /// action that still makes sense — the transaction's outcome when only the RSET after
    /// it was lost — or nil when the failure ends the session.
    public mutating func connectionFailed() -> SMTPClientAction? {
        switch state {
        case .resetting(let outcome):
            // The outcome was decided before RSET; the next command will find the loss.
            state = .ready
            return .transactionComplete(outcome)
        case .quitting:
            state = .closed
            return .close
        default:
            state = .closed
            return nil
        }
    }

    private mutating func sendHello(_ command: SMTPCommand, afterTLS: Bool) -> SMTPClientAction {
        if case .helo = command { state = .awaitingHELO(afterTLS: afterTLS) } else { state = .awaitingEHLO(afterTLS: afterTLS) }
        return .send([command])
    }

    /// The greeting exchange is over: ready, unless TLS was required and did not happen.
    private mutating func opened() -> SMTPClientAction {
        if configuration.requireTLS && !isTLS {
            // RFC 3207 §4: the client may QUIT when the server does not offer STARTTLS.
            state = .closed
            return .fail(.startTLSNotOffered, quit: true)
        }
        state = .ready
        return .ready(capabilities)
    }

    mutating func fail(_ failure: SMTPSessionFailure) -> SMTPClientAction {
        state = .closed
        return .fail(failure, quit: false)
    }
}
