import Logging
import NIOCore
import SMTPProtocol
import SMTPServer
import Secrets

/// One SMTP session at the bounce listener (the MX of the return-path domains): decides
/// each `RCPT` with ``InboundRecipient`` (anything else gets `550 5.1.1`), keeps at most
/// ``BounceListener/Configuration/keptBytes`` of the content (a report's parts come
/// first; the rest of a huge original message is counted but not held), and answers the
/// final dot only once ``InboundReportHandler`` has recorded what the report says — `250`,
/// or `451 4.3.0` when Redis could not take it, so the sender tries again later.
///
/// ```
/// S: 220 bounces.example.com ESMTP Hikyaku bounce listener
/// C: MAIL FROM:<>
/// C: RCPT TO:<b-aexk…@bounces.example.com>   → 250 (token verifies)
/// C: RCPT TO:<u-mfrg…@bounces.example.com>   → 250 (an unsubscribe token that verifies)
/// C: RCPT TO:<someone@bounces.example.com>    → 550 5.1.1 (never accepted, never bounced)
/// C: DATA … .                                  → 250 2.0.0 Ok: recorded
/// ```
final class BounceSession: SMTPServerSession {
    private let environment: BounceListener.Environment
    private let clientIP: String
    private var stateMachine: SMTPServerStateMachine
    private var accepted: [(mailbox: Mailbox, recipient: InboundRecipient)] = []
    private var content: [UInt8] = []
    private var logger: Logger

    init(environment: BounceListener.Environment, clientAddress: SocketAddress?) {
        self.environment = environment
        self.clientIP = clientAddress?.ipAddress ?? "unknown"
        self.stateMachine = SMTPServerStateMachine(
            configuration: SMTPServerConfiguration(
                hostname: environment.configuration.hostname,
                maxMessageSize: environment.configuration.maxMessageSize, maxRecipients: 100,
                // Recipients are decided here before the state machine sees them.
                clientIsAllowListed: true),
            isTLS: false)
        var logger = environment.logger
        logger[metadataKey: "client"] = "\(clientIP)"
        self.logger = logger
    }

    func sessionStarted(on server: SMTPServerHandler) {
        server.write(SMTPReply(code: 220, lines: ["\(environment.configuration.hostname) ESMTP Hikyaku bounce listener"]))
    }

    func closing(because reason: SMTPServerCloseReason, on server: SMTPServerHandler) {
        if case .error(let error) = reason { logger.debug("session error: \(error)") }
    }

    func sessionEnded(on server: SMTPServerHandler) {}

    func receive(_ frame: SMTPFrame, on server: SMTPServerHandler) {
        switch frame {
        case .line(let line):
            guard let command = try? SMTPCommandParser.parse(line) else {
                perform(stateMachine.receiveLine(line), server)
                return
            }
            receive(command, server)
        case .lineTooLong:
            perform(stateMachine.receiveLineTooLong(), server)
        case .dataChunk(var chunk):
            let room = environment.configuration.keptBytes - content.count
            if room > 0, let bytes = chunk.readBytes(length: min(room, chunk.readableBytes)) {
                content.append(contentsOf: bytes)
            }
        case .dataEnd(let summary):
            perform(stateMachine.dataEnded(summary), server)
        }
    }

    private func receive(_ command: SMTPCommand, _ server: SMTPServerHandler) {
        switch command {
        case .mail, .rset, .helo, .ehlo:
            accepted = []
            perform(stateMachine.receiveCommand(command), server)
        case .rcpt(let path, _):
            guard stateMachine.transactionReversePath != nil, let mailbox = path.mailbox else {
                perform(stateMachine.receiveCommand(command), server)
                return
            }
            let decision = InboundRecipient.classify(
                mailbox, keyring: environment.keyring(), feedbackLoopAddresses: environment.configuration.feedbackLoopAddresses,
                unsubscribe: environment.unsubscribe)
            switch decision {
            case .success(let recipient):
                let action = stateMachine.receiveCommand(command)
                if case .reply(let reply) = action, reply.code == 250 { accepted.append((mailbox, recipient)) }
                perform(action, server)
            case .failure(let refusal):
                BounceMetrics.refused(refusal)
                logger.info("refused RCPT <\(mailbox)>: \(refusal == .invalidToken ? "token does not verify" : "unknown recipient")")
                server.write(.noSuchRecipient(mailbox))
            }
        default:
            perform(stateMachine.receiveCommand(command), server)
        }
    }

    private func perform(_ action: SMTPServerAction, _ server: SMTPServerHandler) {
        switch action {
        case .reply(let reply):
            server.write(reply)
        case .replyAndClose(let reply):
            server.close(with: reply)
        case .startTLS(let reply):
            // STARTTLS is not offered; the state machine refuses it itself.
            server.write(reply)
        case .checkCredentials:
            perform(stateMachine.credentialsChecked(.failure), server)
        case .checkRecipient:
            // Recipients are decided before the state machine sees them (its check is off).
            perform(stateMachine.recipientChecked(refusal: nil), server)
        case .startData(let reply):
            content = []
            content.reserveCapacity(64 * 1024)
            server.write(reply)
        case .enqueue(let transaction):
            finish(transaction, server)
        }
        server.framerMode = stateMachine.framerMode
    }

    /// Records what the report says, then answers the final dot.
    private func finish(_ transaction: SMTPTransaction, _ server: SMTPServerHandler) {
        let message = InboundMessage(
            sender: transaction.reversePath.mailbox?.description ?? "", clientIP: clientIP,
            recipients: accepted.map(\.recipient), content: content, size: transaction.dataSummary.size)
        content = []
        accepted = []
        let handler = environment.handler
        let promise = server.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await handler.handle(message) }
        server.hold(until: promise.futureResult) { server, result in
            let reply: QueueResult
            switch result {
            case .success: reply = .queued("recorded")
            case .failure(let error):
                self.logger.warning("could not record an inbound report from \(message.sender): \(error)")
                reply = .failed(SMTPReply(451, "4.3.0", "Cannot record the report now; try again later"))
            }
            self.perform(self.stateMachine.messageQueued(reply), server)
        }
    }
}
