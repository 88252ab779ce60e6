import HikyakuMetrics
import Logging
import NIOCore
import Queue
import RelayCore
import SMTPProtocol
import SMTPServer

/// The relay's SMTP session logic (RFC 5321) behind an ``SMTPServerHandler``: the
/// ``SMTPServerStateMachine`` decides the protocol; this adds who may relay (allow-listed
/// networks, an account's networks, AUTH — see `+Auth`), streams a large body into Redis
/// while DATA arrives, and hands each complete message to the ``MessageIntake``.
///
/// ```
/// C: DATA                       S: 354 …          intake.startMessage (Received:, Message-ID:)
/// C: …256 KiB…                  (APPEND tmp:<id>, while the client goes on sending)
/// C: .                          intake.check (loop, author fields)  — on the event loop
///                               intake.enqueue (sign, store, WAIT)   — the one async step
/// S: 250 2.0.0 Ok: queued as <id>
/// ```
/// Everything here runs on the channel's event loop; Redis is reached by one task per
/// stored piece (APPEND, the final enqueue, a deletion).
final class SMTPIngestSession: SMTPServerSession {
    /// Data is written to Redis in pieces of this size once a message outgrows it; smaller
    /// messages go in the enqueue call itself.
    static let streamingChunkSize = 256 * 1024

    let context: IngestContext
    let intake: MessageIntake
    var stateMachine: SMTPServerStateMachine
    var logger: Logger
    let clientIP: String?
    /// The account this session sends as: by its source address (relay listeners), or
    /// after AUTH. nil: an allow-listed client without an account, or not permitted.
    var account: Account?

    // The message being received.
    private var message: IncomingMessage?
    private var receivedSize = 0
    private var streamingBody = false
    /// An APPEND to Redis in flight (they must be sequential: order matters).
    private var appendInFlight: EventLoopFuture<Void>?
    /// The deletion of a streamed body that will not be queued, while in flight.
    private var discardInFlight: EventLoopFuture<Void>?
    private var streamingFailed: QueueError?
    /// A transaction waiting for the last APPEND before it can be enqueued.
    private var pendingEnqueue: SMTPTransaction?

    init(context: IngestContext, clientAddress: SocketAddress?, isImplicitTLS: Bool) {
        self.context = context
        self.intake = context.intake
        self.clientIP = clientAddress?.ipAddress
        var logger = context.logger
        logger[metadataKey: "client"] = "\(clientAddress?.ipAddress ?? "?")"
        logger[metadataKey: "listener"] = "\(context.listener.name)"
        self.logger = logger
        let listenerTLS = context.listener.effectiveTLS(tlsConfigured: context.tls != nil)
        let isRelayListener = context.listener.mode == .relay
        // An account's networks relay as that account (relay listeners only; submission
        // listeners always want AUTH).
        let networkAccount = isRelayListener ? clientAddress?.ipAddress.flatMap(context.accounts.account(forClientIP:)) : nil
        let allowListed = isRelayListener && (context.isAllowListed(clientAddress) || networkAccount != nil)
        let refusal: RelayRefusal
        if context.listener.mode == .submission {
            refusal = .authenticationRequired
        } else {
            // Until the accounts are loaded, a client that may be in an account's network
            // is told to come back rather than refused for good.
            refusal = context.accounts.isLoaded ? .relayDenied : .notYetKnown
        }
        var configuration = SMTPServerConfiguration(
            hostname: context.hostname,
            maxMessageSize: context.settings.maxMessageSize.bytes,
            maxRecipients: context.settings.maxRecipients,
            startTLSAvailable: listenerTLS == .starttls && context.tls != nil,
            authMechanisms: context.accounts.offersAuth || !context.accounts.isLoaded ? ["PLAIN", "LOGIN"] : [],
            allowAuthWithoutTLS: context.settings.allowAuthWithoutTLS,
            clientIsAllowListed: allowListed,
            refusalWhenNotPermitted: refusal)
        configuration.checksRecipients = true
        self.stateMachine = SMTPServerStateMachine(configuration: configuration, isTLS: isImplicitTLS)
        if let networkAccount, !context.isAllowListed(clientAddress) {
            self.sendAs(networkAccount)
        }
    }

    /// Who submits the messages of this session, for the intake.
    var submitter: MessageIntake.Submitter {
        MessageIntake.Submitter(
            listener: context.listener.name, clientIP: clientIP, authUser: stateMachine.authenticatedUser,
            account: account, logger: logger)
    }

    func sendAs(_ account: Account) {
        self.account = account
        self.logger[metadataKey: "account"] = "\(account.name)"
        self.stateMachine.setSenderPolicy(AccountDirectory.policy(for: account))
    }

    // MARK: Session events

    func sessionStarted(on server: SMTPServerHandler) {
        logger.debug("session opened")
        IngestMetrics.sessions(listener: context.listener.name, delta: 1)
        if let channel = server.channel { context.sessions.add(channel) }
        if context.sessions.isShuttingDown {
            server.close(with: .shuttingDown(hostname: context.hostname))
            return
        }
        server.write(stateMachine.greeting())
    }

    func sessionEnded(on server: SMTPServerHandler) {
        if let channel = server.channel { context.sessions.remove(channel) }
        IngestMetrics.sessions(listener: context.listener.name, delta: -1)
        discardStreamedBody(server)
        logger.debug("session closed")
    }

    func closing(because reason: SMTPServerCloseReason, on server: SMTPServerHandler) {
        switch reason {
        case .tooSlow(let inData):
            logger.notice("client too slow, closing", metadata: ["phase": "\(inData ? "data" : "command line")"])
            IngestMetrics.refused(listener: context.listener.name, reason: .tooSlow)
        case .startTLSRefused:
            logger.warning("STARTTLS with pipelined plaintext after it; closing")
        case .startTLSFailed(let error):
            logger.error("could not start TLS: \(error)")
        case .error(let error):
            logger.info("session error: \(error)")
        case .idle, .sessionTimeLimit, .shutdown:
            break
        }
    }

    func receive(_ frame: SMTPFrame, on server: SMTPServerHandler) {
        switch frame {
        case .line(let line):
            perform(stateMachine.receiveLine(line), server)
        case .lineTooLong:
            perform(stateMachine.receiveLineTooLong(), server)
        case .dataChunk(let chunk):
            receiveData(chunk, server)
        case .dataEnd(let summary):
            if summary.bareLineEndingsNormalized > 0 || summary.nulBytesRemoved > 0 {
                // Legitimate software rarely does this; SMTP smuggling attempts always do.
                logger.info(
                    "message content normalised",
                    metadata: [
                        "bare_line_endings": "\(summary.bareLineEndingsNormalized)", "nul_removed": "\(summary.nulBytesRemoved)",
                    ])
            }
            message?.finish()
            let action = stateMachine.dataEnded(summary)
            if case .enqueue = action {
                perform(action, server)
            } else if !streamingBody && discardInFlight == nil {
                message = nil
                perform(action, server)
            } else {
                // Refused at the dot (too large): what was streamed goes before the reply.
                server.holdInput()
                discardStreamedBody(server) { session, server in
                    session.perform(action, server)
                    server.releaseInput()
                }
            }
        }
    }

    func perform(_ action: SMTPServerAction, _ server: SMTPServerHandler) {
        switch action {
        case .reply(let reply):
            write(reply, server)
        case .replyAndClose(let reply):
            server.close(with: reply)
        case .startTLS(let reply):
            if server.startTLS(reply, context: context.tls?.context) {
                stateMachine.tlsEstablished()
            }
        case .checkCredentials(let username, let password, _):
            checkCredentials(username: username, password: password, server)
        case .checkRecipient(let mailbox):
            checkSuppression(of: mailbox, server)
        case .startData(let reply):
            beginMessage()
            write(reply, server)
        case .enqueue(let transaction):
            enqueue(transaction, server)
        }
        server.framerMode = stateMachine.framerMode
    }

    private func write(_ reply: SMTPReply, _ server: SMTPServerHandler) {
        if reply.code >= 400 { IngestMetrics.replied(reply, listener: context.listener.name) }
        server.write(reply)
    }

    // MARK: DATA

    private func beginMessage() {
        receivedSize = 0
        streamingBody = false
        streamingFailed = nil
        appendInFlight = nil
        discardInFlight = nil
        let recipients = stateMachine.transactionRecipients
        message = intake.startMessage(
            from: submitter,
            trace: MessageIntake.Trace(
                heloName: stateMachine.heloName ?? "", protocolName: stateMachine.protocolName,
                onlyRecipient: recipients.count == 1 ? recipients[0].mailbox?.description : nil))
    }

    private func receiveData(_ chunk: ByteBuffer, _ server: SMTPServerHandler) {
        receivedSize += chunk.readableBytes
        guard streamingFailed == nil, message != nil else { return }
        // Past the limit in force (the listener's, or the account's `--max-message-size`)
        // nothing more is kept and what was stored goes at once; the rest is read and
        // dropped, and the state machine answers 552 5.3.4 at the dot (RFC 5321 §4.5.3.1.10
        // has the client send it all first).
        guard receivedSize <= stateMachine.effectiveMaxMessageSize else {
            discardStreamedBody(server)
            return
        }
        message!.append(chunk)
        if (message!.flushableBytes ?? 0) >= Self.streamingChunkSize, appendInFlight == nil {
            startAppend(server)
        }
        updateThrottle(server)
    }

    /// Redis slower than the client (a piece in flight and two more waiting) pauses
    /// reading: what a large message holds in memory stays a few pieces, whatever its size.
    private func updateThrottle(_ server: SMTPServerHandler) {
        server.throttlesReads = appendInFlight != nil && (message?.flushableBytes ?? 0) >= 2 * Self.streamingChunkSize
    }

    /// Runs `operation` as a task and `body` back on the event loop with its result.
    private func onCompletion<T: Sendable>(
        of future: EventLoopFuture<T>, _ server: SMTPServerHandler,
        _ body: @escaping (SMTPIngestSession, SMTPServerHandler, Result<T, any Error>) -> Void
    ) {
        let bound = NIOLoopBound((self, server, body), eventLoop: server.eventLoop)
        future.whenComplete { result in
            let (session, server, body) = bound.value
            body(session, server, result)
        }
    }

    private func task<T: Sendable>(_ server: SMTPServerHandler, _ operation: @Sendable @escaping () async throws -> T) -> EventLoopFuture<T>
    {
        server.task(operation)
    }

    /// Forgets the current message's body: drops what is held and deletes what was
    /// streamed to Redis — after the APPEND in flight, which would otherwise recreate the
    /// key — so a refused or abandoned message leaves no `tmp:` key behind for
    /// `streamed_body_ttl`. Then runs `next` (if any) on the event loop.
    private func discardStreamedBody(_ server: SMTPServerHandler, then next: ((SMTPIngestSession, SMTPServerHandler) -> Void)? = nil) {
        let id = message?.queueID
        message = nil
        updateThrottle(server)
        let done: EventLoopFuture<Void>
        if streamingBody, let id {
            streamingBody = false
            let queue = context.queue
            let previous = appendInFlight
            done = task(server) {
                _ = try? await previous?.get()
                await queue.discardBody(queueID: id)
            }
            discardInFlight = done
        } else if let discardInFlight {
            done = discardInFlight
        } else {
            next?(self, server)
            return
        }
        guard let next else { return }
        onCompletion(of: done, server) { session, server, _ in next(session, server) }
    }

    /// Sends what has accumulated to Redis with APPEND; chains the next one when done.
    private func startAppend(_ server: SMTPServerHandler) {
        guard let id = message?.queueID, (message?.flushableBytes ?? 0) > 0 else { return }
        let chunk = message!.takeFlushable()
        streamingBody = true
        let queue = context.queue
        let appended = task(server) { try await queue.appendBody(queueID: id, chunk: chunk) }
        appendInFlight = appended
        onCompletion(of: appended, server) { session, server, result in
            session.appendInFlight = nil
            if case .failure(let error) = result {
                session.streamingFailed = (error as? QueueError) ?? .redis(error)
            } else if session.message?.flushableBytes ?? 0 >= Self.streamingChunkSize {
                session.startAppend(server)
            }
            session.updateThrottle(server)
            if server.isHeld, let pending = session.pendingEnqueue, session.appendInFlight == nil {
                session.pendingEnqueue = nil
                session.finishEnqueue(pending, server)
            }
        }
    }

    private func enqueue(_ transaction: SMTPTransaction, _ server: SMTPServerHandler) {
        server.holdInput()
        if appendInFlight != nil {
            pendingEnqueue = transaction
            return
        }
        finishEnqueue(transaction, server)
    }

    /// The end of a message: the intake's checks here on the event loop, then its enqueue
    /// as one task; the reply goes out when that completes.
    private func finishEnqueue(_ transaction: SMTPTransaction, _ server: SMTPServerHandler) {
        guard let message else {
            perform(stateMachine.messageQueued(.failed(.localError)), server)
            server.releaseInput()
            return
        }
        let submitter = self.submitter
        if let failure = streamingFailed {
            logger.warning("message not accepted: storing its body failed: \(failure)")
            refuseAtDot(intake.refused(message.queueID, .queueUnavailable, .localError, submitter), server)
            return
        }
        if let refusal = intake.check(message, from: submitter) {
            refuseAtDot(refusal, server)
            return
        }
        self.message = nil
        updateThrottle(server)
        let intake = self.intake
        let streamed = streamingBody
        let envelope = MessageIntake.Envelope(sender: transaction.reversePath, recipients: transaction.recipients.compactMap(\.mailbox))
        let stored = task(server) { await intake.enqueue(message, envelope: envelope, from: submitter, streamed: streamed) }
        server.hold(until: stored) { [self] server, result in
            streamingBody = false
            let outcome = (try? result.get()) ?? .refused(message.queueID, .queueUnavailable, .localError)
            perform(stateMachine.messageQueued(outcome.queueResult), server)
        }
    }

    /// Answers the final dot with the refusal once the streamed body is deleted.
    private func refuseAtDot(_ refusal: IntakeResult, _ server: SMTPServerHandler) {
        discardStreamedBody(server) { session, server in
            session.perform(session.stateMachine.messageQueued(refusal.queueResult), server)
            server.releaseInput()
        }
    }
}
