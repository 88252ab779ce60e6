import DKIM
import Logging
import NIOCore
import NIOSSL
import Queue
import RelayCore
import SMTPProtocol

/// One SMTP server session (RFC 5321) on a channel: feeds bytes to an `SMTPFramer`, lines
/// to the `SMTPServerStateMachine`, performs the actions it returns (replies, STARTTLS,
/// credential checks off the event loop, streaming DATA into Redis, enqueueing), and
/// holds further pipelined input while an action is in progress (RFC 2920 keeps replies
/// in command order).
final class SMTPSessionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Data is written to Redis in pieces of this size once a message outgrows it; smaller
    /// messages go in the enqueue call itself.
    static let streamingChunkSize = 256 * 1024

    private let context: IngestContext
    private var stateMachine: SMTPServerStateMachine
    private var framer = SMTPFramer()
    private var logger: Logger
    private var clientIP: String?
    private var isTLS: Bool
    /// The account this session sends as: by its source address (relay listeners), or
    /// after AUTH. nil: an allow-listed client without an account, or not permitted.
    private var account: Account?

    /// Set while an action's result is awaited; frames stay in the framer meanwhile.
    private var isWaiting = false
    private var needsFlush = false
    private var isClosing = false

    // The message being received.
    private var assembler: MessageAssembler?
    private var queueID: QueueID?
    private var receivedSize = 0
    private var streamingBody = false
    /// An APPEND to Redis in flight (they must be sequential: order matters).
    private var appendInFlight: EventLoopFuture<Void>?
    /// The deletion of a streamed body that will not be queued, while in flight.
    private var discardInFlight: EventLoopFuture<Void>?
    private var streamingFailed: QueueError?
    private var readPaused = false
    private var sessionTimer: Scheduled<Void>?
    /// Slow clients: lines and DATA must make progress (``SlowClientGuard``).
    private var slowClientGuard: SlowClientGuard
    private var progressTimer: Scheduled<Void>?
    private var progressTimerDeadline: NIODeadline?
    /// Set by ``ShutdownEvent``: answer 421 and close as soon as no message is in progress.
    private var shuttingDown = false

    /// Sent by the listener on graceful shutdown. RFC 5321 §3.8: a server that must shut
    /// down answers `421` and closes the connection. A session between commands gets that
    /// at once; one receiving a message (or waiting for Redis to store it) first gets the
    /// real reply to its final dot — so its client knows whether the message was taken.
    struct ShutdownEvent {}

    init(context: IngestContext, clientAddress: SocketAddress?, isImplicitTLS: Bool) {
        self.context = context
        self.isTLS = isImplicitTLS
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
        let configuration = SMTPServerConfiguration(
            hostname: context.hostname,
            maxMessageSize: context.settings.maxMessageSize.bytes,
            maxRecipients: context.settings.maxRecipients,
            startTLSAvailable: listenerTLS == .starttls && context.tls != nil,
            authMechanisms: context.accounts.offersAuth || !context.accounts.isLoaded ? ["PLAIN", "LOGIN"] : [],
            allowAuthWithoutTLS: context.settings.allowAuthWithoutTLS,
            clientIsAllowListed: allowListed,
            refusalWhenNotPermitted: refusal)
        self.stateMachine = SMTPServerStateMachine(configuration: configuration, isTLS: isImplicitTLS)
        self.slowClientGuard = SlowClientGuard(
            commandTimeout: .milliseconds(context.settings.commandTimeout.milliseconds),
            minimumDataRate: context.settings.minDataRate.bytes)
        if let networkAccount, !context.isAllowListed(clientAddress) {
            self.account = networkAccount
            self.stateMachine.setSenderPolicy(AccountDirectory.policy(for: networkAccount))
            self.logger[metadataKey: "account"] = "\(networkAccount.name)"
        }
    }

    // MARK: Channel events

    func channelActive(context channelContext: ChannelHandlerContext) {
        logger.debug("session opened")
        IngestMetrics.sessions(listener: context.listener.name, delta: 1)
        context.sessions.add(channelContext.channel)
        if context.sessions.isShuttingDown {
            closeWith(shutdownReply, context: channelContext)
            channelContext.fireChannelActive()
            return
        }
        write(stateMachine.greeting(), context: channelContext)
        flushIfNeeded(context: channelContext)
        let timeout = self.context.settings.sessionTimeout.duration
        let loopBound = NIOLoopBound((self, channelContext), eventLoop: channelContext.eventLoop)
        sessionTimer = channelContext.eventLoop.scheduleTask(in: .milliseconds(timeout.milliseconds)) {
            let (handler, channelContext) = loopBound.value
            handler.closeWith(.init(code: 421, enhancedStatus: .init(4, 4, 2), lines: ["\(handler.context.hostname) Session time limit exceeded, closing"]), context: channelContext)
        }
        channelContext.fireChannelActive()
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        sessionTimer?.cancel()
        progressTimer?.cancel()
        context.sessions.remove(channelContext.channel)
        IngestMetrics.sessions(listener: context.listener.name, delta: -1)
        discardStreamedBody(context: channelContext)
        logger.debug("session closed")
        channelContext.fireChannelInactive()
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        framer.append(bytes)
        processFrames(context: channelContext)
    }

    func channelWritabilityChanged(context channelContext: ChannelHandlerContext) {
        updateReadPause(context: channelContext)
        channelContext.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context channelContext: ChannelHandlerContext, event: Any) {
        if event is ShutdownEvent {
            shuttingDown = true
            processFrames(context: channelContext)
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            closeWith(.init(code: 421, enhancedStatus: .init(4, 4, 2), lines: ["\(context.hostname) Idle timeout, closing connection"]), context: channelContext)
            return
        }
        channelContext.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: Error) {
        logger.info("session error: \(error)")
        channelContext.close(promise: nil)
    }

    // MARK: Frames

    private func processFrames(context channelContext: ChannelHandlerContext) {
        while !isWaiting && !isClosing {
            // Shutting down: no new command is taken once no message is in progress.
            if shuttingDown && framer.mode != .data && appendInFlight == nil {
                closeWith(shutdownReply, context: channelContext)
                return
            }
            guard let frame = framer.next() else { break }
            handle(frame, context: channelContext)
        }
        flushIfNeeded(context: channelContext)
        updateReadPause(context: channelContext)
        updateSlowClientGuard(context: channelContext)
    }

    private var shutdownReply: SMTPReply {
        SMTPReply(code: 421, enhancedStatus: .init(4, 3, 2), lines: ["\(context.hostname) Service shutting down, closing connection"])
    }

    private func handle(_ frame: SMTPFrame, context channelContext: ChannelHandlerContext) {
        switch frame {
        case .line(let line):
            slowClientGuard.lineCompleted()
            perform(stateMachine.receiveLine(line), context: channelContext)
        case .lineTooLong:
            slowClientGuard.lineCompleted()
            perform(stateMachine.receiveLineTooLong(), context: channelContext)
        case .dataChunk(let chunk):
            slowClientGuard.dataReceived(octets: chunk.readableBytes)
            receiveData(chunk, context: channelContext)
        case .dataEnd(let summary):
            slowClientGuard.dataEnded()
            if summary.bareLineEndingsNormalized > 0 || summary.nulBytesRemoved > 0 {
                // Legitimate software rarely does this; SMTP smuggling attempts always do.
                logger.info("message content normalised", metadata: [
                    "bare_line_endings": "\(summary.bareLineEndingsNormalized)", "nul_removed": "\(summary.nulBytesRemoved)",
                ])
            }
            assembler?.finish()
            let action = stateMachine.dataEnded(summary)
            if case .enqueue = action {
                perform(action, context: channelContext)
            } else if !streamingBody && discardInFlight == nil {
                assembler = nil
                perform(action, context: channelContext)
            } else {
                // Refused at the dot (too large): what was streamed goes before the reply.
                isWaiting = true
                discardStreamedBody(context: channelContext) { handler, channelContext in
                    handler.perform(action, context: channelContext)
                    handler.resume(context: channelContext)
                }
            }
        }
    }

    private func perform(_ action: SMTPServerAction, context channelContext: ChannelHandlerContext) {
        switch action {
        case .reply(let reply):
            write(reply, context: channelContext)
        case .replyAndClose(let reply):
            closeWith(reply, context: channelContext)
        case .startTLS(let reply):
            startTLS(reply, context: channelContext)
        case .checkCredentials(let username, let password, _):
            checkCredentials(username: username, password: password, context: channelContext)
        case .startData(let reply):
            beginMessage()
            slowClientGuard.dataStarted(at: .now())
            write(reply, context: channelContext)
        case .enqueue(let transaction):
            enqueue(transaction, context: channelContext)
        }
        framer.mode = stateMachine.framerMode
    }

    private func write(_ reply: SMTPReply, context channelContext: ChannelHandlerContext) {
        if reply.code >= 400 { IngestMetrics.replied(reply, listener: context.listener.name) }
        var buffer = channelContext.channel.allocator.buffer(capacity: 64)
        reply.encode(into: &buffer)
        channelContext.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded(context channelContext: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            channelContext.flush()
        }
    }

    private func closeWith(_ reply: SMTPReply, context channelContext: ChannelHandlerContext) {
        guard !isClosing else { return }
        isClosing = true
        var buffer = channelContext.channel.allocator.buffer(capacity: 64)
        reply.encode(into: &buffer)
        needsFlush = false
        channelContext.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            channelContext.close(promise: nil)
        }
    }

    /// Resumes frame processing after an asynchronous step, on the event loop.
    private func resume(context channelContext: ChannelHandlerContext) {
        isWaiting = false
        processFrames(context: channelContext)
    }

    /// Read back-pressure: the session stops reading from the socket while it waits for an
    /// action's result (a password check, an enqueue with DKIM signing, a deletion — Redis
    /// may be slow), while Redis lags behind a streamed body, and while the client does not
    /// read its replies (the channel is not writable). What the client sends meanwhile
    /// stays in the kernel and TCP's window holds the client back, instead of piling up in
    /// the framer; at most the reads already under way arrive.
    private func updateReadPause(context channelContext: ChannelHandlerContext) {
        let lagging = appendInFlight != nil && (assembler?.pending.readableBytes ?? 0) >= 4 * Self.streamingChunkSize
        let pause = !isClosing && (isWaiting || lagging || !channelContext.channel.isWritable)
        guard pause != readPaused else { return }
        readPaused = pause
        channelContext.channel.setOption(ChannelOptions.autoRead, value: !pause).whenComplete { _ in }
    }

    // MARK: Slow clients

    /// Tells the guard what the session is doing now, and keeps one timer at its deadline.
    private func updateSlowClientGuard(context channelContext: ChannelHandlerContext) {
        guard !isClosing else {
            progressTimer?.cancel()
            return
        }
        let now = NIODeadline.now()
        if isWaiting || readPaused {
            slowClientGuard.pause(at: now)
        } else {
            slowClientGuard.resume(at: now)
            if framer.hasPartialLine {
                slowClientGuard.lineInProgress(at: now)
            } else {
                slowClientGuard.lineCompleted()
            }
        }
        scheduleProgressCheck(context: channelContext)
    }

    private func scheduleProgressCheck(context channelContext: ChannelHandlerContext) {
        guard let deadline = slowClientGuard.deadline else { return }
        // A timer due earlier re-checks and moves on to the later deadline itself.
        if let scheduled = progressTimerDeadline, scheduled <= deadline { return }
        progressTimer?.cancel()
        progressTimerDeadline = deadline
        let loopBound = NIOLoopBound((self, channelContext), eventLoop: channelContext.eventLoop)
        progressTimer = channelContext.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, channelContext) = loopBound.value
            handler.progressTimer = nil
            handler.progressTimerDeadline = nil
            handler.checkProgress(context: channelContext)
        }
    }

    private func checkProgress(context channelContext: ChannelHandlerContext) {
        guard !isClosing else { return }
        guard slowClientGuard.isExpired(at: .now()) else {
            scheduleProgressCheck(context: channelContext)
            return
        }
        let inData = if case .data = slowClientGuard.phase { true } else { false }
        logger.notice("client too slow, closing", metadata: ["phase": "\(inData ? "data" : "command line")"])
        IngestMetrics.refused(listener: context.listener.name, reason: "too_slow")
        closeWith(.tooSlow(hostname: context.hostname), context: channelContext)
    }

    // MARK: STARTTLS (RFC 3207)

    private func startTLS(_ reply: SMTPReply, context channelContext: ChannelHandlerContext) {
        // Anything the client sent after the STARTTLS line arrived in plaintext and must not
        // be taken as coming over TLS (CVE-2011-0411, "STARTTLS command injection").
        guard framer.bufferedByteCount == 0, let tls = context.tls else {
            logger.warning("STARTTLS with pipelined plaintext after it; closing")
            closeWith(.init(code: 501, enhancedStatus: .init(5, 5, 4), lines: ["No data may follow STARTTLS before the TLS handshake"]), context: channelContext)
            return
        }
        write(reply, context: channelContext)
        flushIfNeeded(context: channelContext)
        let handler = NIOSSLServerHandler(context: tls.context)
        do {
            try channelContext.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            logger.error("could not start TLS: \(error)")
            channelContext.close(promise: nil)
            return
        }
        isTLS = true
        stateMachine.tlsEstablished()
    }

    // MARK: AUTH (RFC 4954)

    /// Checks a password against the account's hash, unless the client address or the
    /// user is locked out after repeated failures (counted in Redis, so every ingest node
    /// sees them). The hash is verified off the event loop (yescrypt is slow on purpose).
    private func checkCredentials(username: String, password: String, context channelContext: ChannelHandlerContext) {
        isWaiting = true
        let account = context.accounts.account(named: username)
        let isLoaded = context.accounts.isLoaded
        let store = context.accountStore
        let policy = context.accountSettings
        let threadPool = context.threadPool
        let address = AuthLockout.addressKey(for: clientIP)
        let loopBound = NIOLoopBound((self, channelContext), eventLoop: channelContext.eventLoop)
        let promise = channelContext.eventLoop.makePromise(of: AuthResult.self)
        promise.completeWithTask {
            guard isLoaded else { return .temporaryFailure }
            let locked: Duration
            do { locked = try await store.authLockout(address: address, user: username) } catch { return .temporaryFailure }
            if locked > .zero { return .lockedOut(seconds: Int((locked.milliseconds + 999) / 1000)) }
            let hash = account?.passwordHash
            // Verify against a dummy hash for unknown users so timing does not reveal which exist.
            let valid = try await threadPool.runIfActive {
                PasswordHasher.verify(password, hash: hash ?? "$y$j9T$RqIXSAundvW366C0Ao6rF1$00FWqAV9EMZPJ4/NJBlt6mbi9s7W2TqqGIUi/YLSIk9") && hash != nil
            }
            if valid {
                try? await store.authSucceeded(address: address, user: username, policy: policy)
                return .success(username)
            }
            _ = try? await store.authFailed(address: address, user: username, policy: policy)
            return .failure
        }
        promise.futureResult.whenComplete { result in
            let (handler, channelContext) = loopBound.value
            let outcome: AuthResult
            switch result {
            case .success(let checked): outcome = checked
            case .failure: outcome = .temporaryFailure
            }
            // Never log the password; the user name is useful for abuse handling.
            switch outcome {
            case .success:
                handler.logger.info("AUTH succeeded", metadata: ["user": "\(username)"])
                if let account {
                    handler.account = account
                    handler.logger[metadataKey: "account"] = "\(account.name)"
                    handler.stateMachine.setSenderPolicy(AccountDirectory.policy(for: account))
                }
            case .lockedOut(let seconds):
                handler.logger.notice("AUTH refused: locked out after repeated failures", metadata: ["user": "\(username)", "seconds": "\(seconds)"])
            default:
                handler.logger.info("AUTH failed", metadata: ["user": "\(username)"])
            }
            handler.perform(handler.stateMachine.credentialsChecked(outcome), context: channelContext)
            handler.resume(context: channelContext)
        }
    }

    // MARK: DKIM (RFC 6376)

    /// The signers for this message: the active keys of its author's domain (or the nearest
    /// parent with keys) — if the sender may use them: mail from the operator's own
    /// allow-listed networks, or an account whose sending domains cover the signing domain.
    /// Another tenant (or an `--any-sender` account) never gets a signature in a domain
    /// that is not its own.
    private func dkimSigners(forFrom from: String?) -> (domain: String, signers: [DKIMSigner])? {
        guard let from, let author = FromHeader.domains(of: from).first,
              let found = context.accounts.signers(for: author) else { return nil }
        if let account {
            guard account.restrictSenders, let policy = stateMachine.senderPolicy, policy.allows(domain: found.domain) else { return nil }
        }
        return found
    }

    /// The `DKIM-Signature:` fields for `message`, one per key, each ending in CRLF.
    static func sign(_ message: ByteBuffer, with signers: [DKIMSigner]) throws -> String {
        let now = Clock.nowMilliseconds() / 1000
        var fields = ""
        for signer in signers {
            var field = try message.withUnsafeReadableBytes { try signer.sign($0, time: now) }
            if !field.hasSuffix("\r\n") { field += "\r\n" }
            fields += field
        }
        return fields
    }

    // MARK: DATA

    private func beginMessage() {
        let id = QueueID.generate()
        queueID = id
        receivedSize = 0
        streamingBody = false
        streamingFailed = nil
        appendInFlight = nil
        discardInFlight = nil
        let now = Clock.nowMilliseconds()
        let recipients = stateMachine.transactionRecipients
        assembler = MessageAssembler(
            receivedHeader: ReceivedHeader.render(
                heloName: stateMachine.heloName ?? "", clientIP: clientIP ?? "unknown", hostname: context.hostname,
                protocolName: stateMachine.protocolName, queueID: id,
                recipient: recipients.count == 1 ? recipients[0].mailbox?.description : nil,
                date: Clock.rfc5322Date(milliseconds: now)),
            generatedMessageID: "<\(id.rawValue)@\(context.hostname)>",
            wantsFrom: (account?.restrictSenders ?? false) || context.accounts.hasSigningDomains)
    }

    private func receiveData(_ chunk: ByteBuffer, context channelContext: ChannelHandlerContext) {
        receivedSize += chunk.readableBytes
        guard streamingFailed == nil, assembler != nil else { return }
        // Past the limit in force (the listener's, or the account's `--max-message-size`)
        // nothing more is kept and what was stored goes at once; the rest is read and
        // dropped, and the state machine answers 552 5.3.4 at the dot (RFC 5321 §4.5.3.1.10
        // has the client send it all first).
        guard receivedSize <= stateMachine.effectiveMaxMessageSize else {
            discardStreamedBody(context: channelContext)
            return
        }
        assembler!.append(chunk)
        // Redis slower than the client (pending piling up) pauses reading: `updateReadPause`.
        if assembler!.canFlush, assembler!.pending.readableBytes >= Self.streamingChunkSize, appendInFlight == nil {
            startAppend(context: channelContext)
        }
    }

    /// Forgets the current message's body: drops what is held and deletes what was
    /// streamed to Redis — after the APPEND in flight, which would otherwise recreate the
    /// key — so a refused or abandoned message leaves no `tmp:` key behind for
    /// `streamed_body_ttl`. Then runs `next` (if any) on the event loop.
    private func discardStreamedBody(context channelContext: ChannelHandlerContext,
                                     then next: ((SMTPSessionHandler, ChannelHandlerContext) -> Void)? = nil) {
        assembler = nil
        let done: EventLoopFuture<Void>
        if streamingBody, let id = queueID {
            streamingBody = false
            let queue = context.queue
            let previous = appendInFlight
            let promise = channelContext.eventLoop.makePromise(of: Void.self)
            promise.completeWithTask {
                _ = try? await previous?.get()
                await queue.discardBody(queueID: id)
            }
            done = promise.futureResult
            discardInFlight = done
        } else if let discardInFlight {
            done = discardInFlight
        } else {
            next?(self, channelContext)
            return
        }
        guard let next else { return }
        let loopBound = NIOLoopBound((self, channelContext, next), eventLoop: channelContext.eventLoop)
        done.whenComplete { _ in
            let (handler, channelContext, next) = loopBound.value
            next(handler, channelContext)
        }
    }

    /// Sends what has accumulated to Redis with APPEND; chains the next one when done.
    private func startAppend(context channelContext: ChannelHandlerContext) {
        guard let id = queueID, var assembler, assembler.canFlush, assembler.pending.readableBytes > 0 else { return }
        let chunk = assembler.takePending()
        self.assembler = assembler
        streamingBody = true
        let queue = context.queue
        let promise = channelContext.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await queue.appendBody(queueID: id, chunk: chunk) }
        appendInFlight = promise.futureResult
        let loopBound = NIOLoopBound((self, channelContext), eventLoop: channelContext.eventLoop)
        promise.futureResult.whenComplete { result in
            let (handler, channelContext) = loopBound.value
            handler.appendInFlight = nil
            if case .failure(let error) = result {
                handler.streamingFailed = (error as? QueueError) ?? .redis(error)
            } else if handler.assembler?.pending.readableBytes ?? 0 >= Self.streamingChunkSize {
                handler.startAppend(context: channelContext)
            }
            handler.updateReadPause(context: channelContext)
            if handler.isWaiting, let pending = handler.pendingEnqueue, handler.appendInFlight == nil {
                handler.pendingEnqueue = nil
                handler.finishEnqueue(pending, context: channelContext)
            }
        }
    }

    /// A transaction waiting for the last APPEND before it can be enqueued.
    private var pendingEnqueue: SMTPTransaction?

    private func enqueue(_ transaction: SMTPTransaction, context channelContext: ChannelHandlerContext) {
        isWaiting = true
        if appendInFlight != nil {
            pendingEnqueue = transaction
            return
        }
        finishEnqueue(transaction, context: channelContext)
    }

    private func finishEnqueue(_ transaction: SMTPTransaction, context channelContext: ChannelHandlerContext) {
        guard let id = queueID, var assembler else {
            perform(stateMachine.messageQueued(.failed(.localError)), context: channelContext)
            resume(context: channelContext)
            return
        }
        let loopBound = NIOLoopBound((self, channelContext), eventLoop: channelContext.eventLoop)
        if let failure = streamingFailed {
            logger.warning("message not accepted: storing its body failed: \(failure)")
            refuseAtDot(.localError, context: channelContext)
            return
        }
        if let loop = LoopDetection.refusal(receivedFields: assembler.receivedFieldCount, limit: context.settings.maxReceivedHeaders) {
            logger.notice("refused: mail loop (too many Received: fields)", metadata: ["queue_id": "\(id)", "received": "\(assembler.receivedFieldCount)"])
            IngestMetrics.refused(listener: context.listener.name, reason: "mail_loop")
            if streamingBody { let queue = context.queue; Task { await queue.discardBody(queueID: id) } }
            self.assembler = nil
            perform(stateMachine.messageQueued(.failed(loop)), context: channelContext)
            resume(context: channelContext)
            return
        }
        // RFC 5322 §3.6.2: the author. An account that may send only as its own domains
        // may not put another in From: or Sender: either (see `HeaderPolicy`).
        if let account, account.restrictSenders, let policy = stateMachine.senderPolicy,
           let refusal = HeaderPolicy.refusal(for: assembler.authors, policy: policy) {
            logger.notice("refused: author header fields", metadata: ["queue_id": "\(id)", "reply": "\(refusal.lines.joined(separator: " "))"])
            IngestMetrics.refused(listener: context.listener.name, reason: "from_domain")
            refuseAtDot(refusal, context: channelContext)
            return
        }
        let body: MessageBody
        if streamingBody {
            let rest = assembler.canFlush ? assembler.takePending() : ByteBuffer()
            if rest.readableBytes > 0 {
                // One last APPEND, then the enqueue (sequential: the rename must see it all).
                self.assembler = assembler
                let queue = context.queue
                let promise = channelContext.eventLoop.makePromise(of: Void.self)
                promise.completeWithTask { try await queue.appendBody(queueID: id, chunk: rest) }
                promise.futureResult.whenComplete { result in
                    let (handler, channelContext) = loopBound.value
                    if case .failure(let error) = result { handler.streamingFailed = (error as? QueueError) ?? .redis(error) }
                    handler.finishEnqueue(transaction, context: channelContext)
                }
                return
            }
            body = .streamed
        } else {
            body = .inline(assembler.canFlush ? assembler.takePending() : assembler.pending)
        }
        let message = NewMessage(
            queueID: id, sender: transaction.reversePath.mailbox?.description ?? "",
            recipients: transaction.recipients.compactMap { $0.mailbox?.description },
            messageID: assembler.messageID, size: assembler.flushedBytes + assembler.pending.readableBytes,
            clientIP: clientIP, authUser: transaction.authenticatedUser, pool: account?.pool ?? context.settings.relayPool,
            account: account.map { AccountQuota(name: $0.name, hourly: $0.hourlyQuota, daily: $0.dailyQuota) })
        let signing = dkimSigners(forFrom: assembler.authors.from.first)
        self.assembler = nil
        let queue = context.queue
        let threadPool = context.threadPool
        let deadline = Clock.nowMilliseconds() + context.settings.enqueueTimeout.milliseconds
        let promise = channelContext.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask {
            do {
                var message = message
                if let signing {
                    let bytes: ByteBuffer
                    switch body {
                    case .inline(let inline): bytes = inline
                    case .streamed: bytes = try await queue.streamedBody(queueID: id)
                    }
                    // RSA signing takes a millisecond or so: off the event loop.
                    message.addedHeader = try await threadPool.runIfActive { try Self.sign(bytes, with: signing.signers) }
                }
                try await queue.enqueue(message, body: body, deadline: deadline)
            } catch {
                // Not queued (quota, unsignable, Redis): the streamed body goes before the
                // reply. Safe even if the enqueue did happen: it renamed the key away.
                if case .streamed = body { await queue.discardBody(queueID: id) }
                throw error
            }
        }
        promise.futureResult.whenComplete { result in
            let (handler, channelContext) = loopBound.value
            handler.streamingBody = false
            switch result {
            case .success:
                handler.logger.info("accepted", metadata: [
                    "queue_id": "\(id)", "from": "\(message.sender)", "recipients": "\(message.recipients.count)",
                    "size": "\(message.size)", "message_id": "\(message.messageID ?? "")",
                ])
                IngestMetrics.accepted(listener: handler.context.listener.name)
                handler.perform(handler.stateMachine.messageQueued(.queued(id.rawValue)), context: channelContext)
            case .failure(let error as QueueError) where error.quotaExceeded != nil:
                let quota = error.quotaExceeded!
                handler.logger.notice("message not accepted: \(error)", metadata: ["queue_id": "\(id)"])
                IngestMetrics.refused(listener: handler.context.listener.name, reason: "quota")
                let reply = SMTPReply(451, "4.7.0", "The \(quota.period) quota of \(quota.limit) recipients of account \(message.account?.name ?? "") is used up; try again in \(quota.retryAfterSeconds) seconds")
                handler.perform(handler.stateMachine.messageQueued(.failed(reply)), context: channelContext)
            case .failure(let error as DKIMError) where error.code != .cryptoFailure:
                // A header DKIM cannot sign (two From fields, none, a malformed field) is
                // one no receiver should trust either.
                handler.logger.notice("message not accepted: cannot sign it: \(error)", metadata: ["queue_id": "\(id)"])
                IngestMetrics.refused(listener: handler.context.listener.name, reason: "unsignable")
                let reply = SMTPReply(550, "5.6.0", "Message header cannot be DKIM-signed: \(error.detail)")
                handler.perform(handler.stateMachine.messageQueued(.failed(reply)), context: channelContext)
            case .failure(let error):
                handler.logger.warning("message not accepted, client told to retry: \(error)", metadata: ["queue_id": "\(id)"])
                IngestMetrics.refused(listener: handler.context.listener.name, reason: "queue_unavailable")
                handler.perform(handler.stateMachine.messageQueued(.failed(.localError)), context: channelContext)
            }
            handler.resume(context: channelContext)
        }
    }

    /// Answers the final dot with `reply` once the streamed body is deleted.
    private func refuseAtDot(_ reply: SMTPReply, context channelContext: ChannelHandlerContext) {
        discardStreamedBody(context: channelContext) { handler, channelContext in
            handler.perform(handler.stateMachine.messageQueued(.failed(reply)), context: channelContext)
            handler.resume(context: channelContext)
        }
    }
}
