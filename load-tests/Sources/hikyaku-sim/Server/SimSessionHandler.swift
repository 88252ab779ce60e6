import Logging
import NIOCore
import NIOSSL
import SMTPProtocol

/// One SMTP session with a simulated site. The project's ``SMTPServerStateMachine`` decides
/// the protocol (sequence, EHLO, STARTTLS, DATA); this handler puts the site's
/// ``SitePolicy`` in front of `RCPT`, adds latency, records outcomes and may drop the
/// connection. DATA content is never stored: it streams through ``HeaderScanner``.
///
/// ```
/// S: 220 mx1.gmail.sim ESMTP hikyaku-sim
/// C: EHLO relay.test
/// S: 250-mx1.gmail.sim Hello relay.test … 250 HELP
/// C: MAIL FROM:<a@relay.test>
/// S: 250 2.1.0 Ok
/// C: RCPT TO:<nouser@gmail.sim>          (policy: unknown_users)
/// S: 550 5.1.1 No such user              → refused record
/// C: RCPT TO:<b@gmail.sim>               (policy: accept; state machine: 250)
/// S: 250 2.1.5 Ok
/// C: DATA / content / .
/// S: 250 2.0.0 Ok: queued as k3f9.7      → accepted record
/// ```
/// Refusals are answered here, not by the state machine, so they never count as bad
/// commands; a `DATA` after only refused recipients gets `554 5.5.1 No valid recipients`
/// (RFC 2920 §3.1). A `421` refusal closes the connection after it is sent. Pipelined input
/// waits in the framer while a reply is delayed, so replies stay in order.
final class SimSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let environment: SessionEnvironment
    private let clientIP: String
    private var stateMachine: SMTPServerStateMachine
    private var framer = SMTPFramer()
    private var headers = HeaderScanner()
    private var logger: Logger

    /// Set while a delayed reply is pending; frames stay in the framer meanwhile.
    private var isWaiting = false
    private var isClosing = false
    private var needsFlush = false
    /// Recipients of the current transaction refused by the site policy.
    private var refusedInTransaction = 0
    /// Whether the current transaction holds its place in the client's rate window.
    private var transactionCounted = false

    private var site: SimulatedSite { self.environment.site }
    private var latency: Latency { self.environment.site.behaviours.latency }

    init(environment: SessionEnvironment, clientAddress: SocketAddress?) {
        self.environment = environment
        self.clientIP = clientAddress?.ipAddress ?? "unknown"
        self.stateMachine = SMTPServerStateMachine(configuration: environment.site.serverConfiguration, isTLS: false)
        var logger = environment.logger
        logger[metadataKey: "site"] = "\(environment.site.name)"
        logger[metadataKey: "client"] = "\(self.clientIP)"
        self.logger = logger
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.logger.trace("session opened")
        let greeting = SMTPReply(code: 220, lines: ["\(self.site.hostname) ESMTP hikyaku-sim"])
        self.send(greeting, afterMilliseconds: self.latency.greeting, context: context)
        self.flushIfNeeded(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.framer.append(self.unwrapInboundIn(data))
        self.processFrames(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            self.close(with: SMTPReply(421, "4.4.2", "\(self.site.hostname) Idle timeout, closing connection"), context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("session error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Frames

    private func processFrames(context: ChannelHandlerContext) {
        while !self.isWaiting, !self.isClosing, let frame = self.framer.next() {
            self.handle(frame, context: context)
        }
        self.flushIfNeeded(context: context)
    }

    private func handle(_ frame: SMTPFrame, context: ChannelHandlerContext) {
        switch frame {
        case .line(let line):
            let command: SMTPCommand
            do {
                command = try SMTPCommandParser.parse(line)
            } catch {
                // The state machine parses again and answers the error (or closes).
                self.perform(self.stateMachine.receiveLine(line), context: context)
                return
            }
            self.receive(command, context: context)
        case .lineTooLong:
            self.perform(self.stateMachine.receiveLineTooLong(), context: context)
        case .dataChunk(let chunk):
            self.headers.feed(chunk)
        case .dataEnd(let summary):
            self.headers.finish()
            self.perform(self.stateMachine.dataEnded(summary), context: context)
        }
    }

    private func receive(_ command: SMTPCommand, context: ChannelHandlerContext) {
        switch command {
        case .mail:
            let action = self.stateMachine.receiveCommand(command)
            if self.stateMachine.transactionReversePath != nil, case .reply(let reply) = action, reply.code == 250 {
                // A new transaction (a refused or nested MAIL leaves the counts alone).
                self.refusedInTransaction = 0
                self.transactionCounted = false
            }
            self.perform(action, delay: self.latency.mail, context: context)
        case .rcpt(let path, _):
            guard let reversePath = self.stateMachine.transactionReversePath, let mailbox = path.mailbox else {
                self.perform(self.stateMachine.receiveCommand(command), context: context)
                return
            }
            let sender = reversePath.mailbox?.description ?? ""
            let decision = self.site.decide(
                recipient: "\(mailbox.localPart)@\(mailbox.normalizedDomain)", sender: sender, client: self.clientIP,
                transactionCounted: self.transactionCounted)
            switch decision {
            case .accept:
                self.transactionCounted = true
                self.perform(self.stateMachine.receiveCommand(command), delay: self.latency.rcpt, context: context)
            case .refuse(let reply, let reason):
                self.refusedInTransaction += 1
                self.site.countRefused(reason)
                self.record(.refused(self.refusal(sender: sender, recipient: mailbox.description, reason: reason, reply: reply.singleLine)))
                if reply.code == 421 {
                    self.close(with: reply, afterMilliseconds: self.latency.rcpt, context: context)
                } else {
                    self.send(reply, afterMilliseconds: self.latency.rcpt, context: context)
                }
            }
        case .data where self.stateMachine.transactionReversePath != nil && self.stateMachine.transactionRecipients.isEmpty
            && self.refusedInTransaction > 0:
            // The state machine does not know of the policy refusals: end its transaction.
            _ = self.stateMachine.receiveCommand(.rset)
            self.send(.noValidRecipients, context: context)
        default:
            self.perform(self.stateMachine.receiveCommand(command), context: context)
        }
    }

    private func perform(_ action: SMTPServerAction, delay: Int = 0, context: ChannelHandlerContext) {
        switch action {
        case .reply(let reply):
            self.send(reply, afterMilliseconds: delay, context: context)
        case .replyAndClose(let reply):
            self.close(with: reply, context: context)
        case .startTLS(let reply):
            self.startTLS(reply, context: context)
        case .checkCredentials:
            // No AUTH is offered, so the state machine never asks; refuse if it does.
            self.perform(self.stateMachine.credentialsChecked(.failure), context: context)
        case .startData(let reply):
            self.headers = HeaderScanner()
            self.send(reply, context: context)
        case .enqueue(let transaction):
            self.finish(transaction, context: context)
        }
        self.framer.mode = self.stateMachine.framerMode
    }

    // MARK: End of data

    /// Accepts the message (after the `data` latency), or drops the connection instead.
    private func finish(_ transaction: SMTPTransaction, context: ChannelHandlerContext) {
        let probability = self.site.behaviours.dropConnectionProbability
        let drop = probability > 0 && Double.random(in: 0..<1) < probability
        self.after(milliseconds: self.latency.data, context: context) { handler, context in
            if drop {
                handler.drop(transaction, context: context)
            } else {
                handler.accept(transaction, context: context)
            }
        }
    }

    private func accept(_ transaction: SMTPTransaction, context: ChannelHandlerContext) {
        let id = self.environment.queueIDs.next()
        let recipients = transaction.recipients.compactMap { $0.mailbox?.description }
        self.site.countAccepted(recipients: recipients.count)
        self.record(
            .accepted(
                SimRecord.Accepted(
                    time: WallClock.microseconds(), site: self.site.name, clientIP: self.clientIP,
                    serverIP: self.environment.serverIP, id: id, sender: transaction.reversePath.mailbox?.description ?? "",
                    recipients: recipients, messageID: self.headers.messageID, sequence: self.headers.sequence,
                    size: transaction.dataSummary.size, tls: transaction.isTLS)))
        self.perform(self.stateMachine.messageQueued(.queued(id)), context: context)
    }

    private func drop(_ transaction: SMTPTransaction, context: ChannelHandlerContext) {
        let sender = transaction.reversePath.mailbox?.description ?? ""
        for recipient in transaction.recipients.compactMap({ $0.mailbox?.description }) {
            var refusal = self.refusal(sender: sender, recipient: recipient, reason: .dropped, reply: "")
            refusal.messageID = self.headers.messageID
            refusal.sequence = self.headers.sequence
            self.record(.refused(refusal))
        }
        self.site.countRefused(.dropped, recipients: transaction.recipients.count)
        self.logger.debug("dropping the connection after the end of data")
        self.isClosing = true
        context.close(promise: nil)
    }

    // MARK: Records

    private func refusal(sender: String, recipient: String, reason: RefusalReason, reply: String) -> SimRecord.Refused {
        SimRecord.Refused(
            time: WallClock.microseconds(), site: self.site.name, clientIP: self.clientIP, serverIP: self.environment.serverIP,
            sender: sender, recipient: recipient, reason: reason, reply: reply)
    }

    private func record(_ record: SimRecord) {
        self.environment.recorder?.append(record)
    }

    // MARK: Writing

    /// Writes `reply` now, or after a delay during which no further input is processed.
    private func send(_ reply: SMTPReply, afterMilliseconds delay: Int = 0, context: ChannelHandlerContext) {
        self.after(milliseconds: delay, context: context) { handler, context in
            handler.write(reply, context: context)
        }
    }

    /// Runs `body` now, or after `milliseconds` with input processing paused until then.
    private func after(
        milliseconds: Int, context: ChannelHandlerContext,
        _ body: @escaping (SimSessionHandler, ChannelHandlerContext) -> Void
    ) {
        guard milliseconds > 0 else {
            body(self, context)
            return
        }
        self.isWaiting = true
        self.flushIfNeeded(context: context)
        let bound = NIOLoopBound((self, context, body), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
            let (handler, context, body) = bound.value
            guard context.channel.isActive, !handler.isClosing else { return }
            body(handler, context)
            handler.isWaiting = false
            handler.processFrames(context: context)
        }
    }

    private func write(_ reply: SMTPReply, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        reply.encode(into: &buffer)
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        self.needsFlush = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
    }

    /// Sends `reply` (after a delay, if any), then closes the connection.
    private func close(with reply: SMTPReply, afterMilliseconds delay: Int = 0, context: ChannelHandlerContext) {
        self.after(milliseconds: delay, context: context) { handler, context in
            guard !handler.isClosing else { return }
            handler.isClosing = true
            var buffer = context.channel.allocator.buffer(capacity: 64)
            reply.encode(into: &buffer)
            handler.needsFlush = false
            let channel = context.channel
            context.writeAndFlush(handler.wrapOutboundOut(buffer)).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    // MARK: STARTTLS (RFC 3207)

    private func startTLS(_ reply: SMTPReply, context: ChannelHandlerContext) {
        // Bytes pipelined after STARTTLS came in plaintext and must not be taken as sent
        // over TLS (CVE-2011-0411).
        guard self.framer.bufferedByteCount == 0, let tls = self.environment.tls else {
            self.close(with: SMTPReply(501, "5.5.4", "No data may follow STARTTLS before the TLS handshake"), context: context)
            return
        }
        self.write(reply, context: context)
        self.flushIfNeeded(context: context)
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
        } catch {
            self.logger.error("could not start TLS: \(error)")
            context.close(promise: nil)
            return
        }
        self.stateMachine.tlsEstablished()
    }
}
