import Logging
import NIOCore
import SMTPProtocol
import SMTPServer

/// One SMTP session with a simulated site, behind the relay's own ``SMTPServerHandler``
/// (framing, STARTTLS and its injection guard, timers). The project's ``SMTPServerStateMachine`` decides
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
/// waits in the framer while a reply is delayed (``SMTPServerHandler/hold(for:then:)``), so
/// replies stay in order.
final class SimSession: SMTPServerSession {
    private let environment: SessionEnvironment
    private let clientIP: String
    private var stateMachine: SMTPServerStateMachine
    private var headers = HeaderScanner()
    private var logger: Logger

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

    // MARK: Session events

    func sessionStarted(on server: SMTPServerHandler) {
        self.logger.trace("session opened")
        let greeting = SMTPReply(code: 220, lines: ["\(self.site.hostname) ESMTP hikyaku-sim"])
        self.send(greeting, afterMilliseconds: self.latency.greeting, server)
    }

    func closing(because reason: SMTPServerCloseReason, on server: SMTPServerHandler) {
        if case .error(let error) = reason {
            self.logger.debug("session error: \(error)")
        }
    }

    func sessionEnded(on server: SMTPServerHandler) {}

    func receive(_ frame: SMTPFrame, on server: SMTPServerHandler) {
        switch frame {
        case .line(let line):
            let command: SMTPCommand
            do {
                command = try SMTPCommandParser.parse(line)
            } catch {
                // The state machine parses again and answers the error (or closes).
                self.perform(self.stateMachine.receiveLine(line), server)
                return
            }
            self.receive(command, server)
        case .lineTooLong:
            self.perform(self.stateMachine.receiveLineTooLong(), server)
        case .dataChunk(let chunk):
            self.headers.feed(chunk)
        case .dataEnd(let summary):
            self.headers.finish()
            self.perform(self.stateMachine.dataEnded(summary), server)
        }
    }

    private func receive(_ command: SMTPCommand, _ server: SMTPServerHandler) {
        switch command {
        case .mail:
            let action = self.stateMachine.receiveCommand(command)
            if self.stateMachine.transactionReversePath != nil, case .reply(let reply) = action, reply.code == 250 {
                // A new transaction (a refused or nested MAIL leaves the counts alone).
                self.refusedInTransaction = 0
                self.transactionCounted = false
            }
            self.perform(action, delay: self.latency.mail, server)
        case .rcpt(let path, _):
            guard let reversePath = self.stateMachine.transactionReversePath, let mailbox = path.mailbox else {
                self.perform(self.stateMachine.receiveCommand(command), server)
                return
            }
            let sender = reversePath.mailbox?.description ?? ""
            let decision = self.site.decide(
                recipient: "\(mailbox.localPart)@\(mailbox.normalizedDomain)", sender: sender, client: self.clientIP,
                transactionCounted: self.transactionCounted)
            switch decision {
            case .accept:
                self.transactionCounted = true
                self.perform(self.stateMachine.receiveCommand(command), delay: self.latency.rcpt, server)
            case .refuse(let reply, let reason):
                self.refusedInTransaction += 1
                self.site.countRefused(reason)
                self.record(.refused(self.refusal(sender: sender, recipient: mailbox.description, reason: reason, reply: reply.singleLine)))
                if reply.code == 421 {
                    self.close(with: reply, afterMilliseconds: self.latency.rcpt, server)
                } else {
                    self.send(reply, afterMilliseconds: self.latency.rcpt, server)
                }
            }
        case .data
        where self.stateMachine.transactionReversePath != nil && self.stateMachine.transactionRecipients.isEmpty
            && self.refusedInTransaction > 0:
            // The state machine does not know of the policy refusals: end its transaction.
            _ = self.stateMachine.receiveCommand(.rset)
            self.send(.noValidRecipients, server)
        default:
            self.perform(self.stateMachine.receiveCommand(command), server)
        }
    }

    private func perform(_ action: SMTPServerAction, delay: Int = 0, _ server: SMTPServerHandler) {
        switch action {
        case .reply(let reply):
            self.send(reply, afterMilliseconds: delay, server)
        case .replyAndClose(let reply):
            self.close(with: reply, server)
        case .startTLS(let reply):
            self.startTLS(reply, server)
        case .checkCredentials:
            // No AUTH is offered, so the state machine never asks; refuse if it does.
            self.perform(self.stateMachine.credentialsChecked(.failure), server)
        case .checkRecipient:
            // Recipient checks are off in its configuration; accept if asked.
            self.perform(self.stateMachine.recipientChecked(refusal: nil), server)
        case .startData(let reply):
            self.headers = HeaderScanner()
            self.send(reply, server)
        case .enqueue(let transaction):
            self.finish(transaction, server)
        }
        server.framerMode = self.stateMachine.framerMode
    }

    // MARK: End of data

    /// Accepts the message (after the `data` latency), or drops the connection instead.
    private func finish(_ transaction: SMTPTransaction, _ server: SMTPServerHandler) {
        let probability = self.site.behaviours.dropConnectionProbability
        let drop = probability > 0 && Double.random(in: 0..<1) < probability
        self.after(milliseconds: self.latency.data, server) { server in
            if drop {
                self.drop(transaction, server)
            } else {
                self.accept(transaction, server)
            }
        }
    }

    private func accept(_ transaction: SMTPTransaction, _ server: SMTPServerHandler) {
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
        self.perform(self.stateMachine.messageQueued(.queued(id)), server)
    }

    private func drop(_ transaction: SMTPTransaction, _ server: SMTPServerHandler) {
        let sender = transaction.reversePath.mailbox?.description ?? ""
        for recipient in transaction.recipients.compactMap({ $0.mailbox?.description }) {
            var refusal = self.refusal(sender: sender, recipient: recipient, reason: .dropped, reply: "")
            refusal.messageID = self.headers.messageID
            refusal.sequence = self.headers.sequence
            self.record(.refused(refusal))
        }
        self.site.countRefused(.dropped, recipients: transaction.recipients.count)
        self.logger.debug("dropping the connection after the end of data")
        server.close(with: nil)
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
    private func send(_ reply: SMTPReply, afterMilliseconds delay: Int = 0, _ server: SMTPServerHandler) {
        self.after(milliseconds: delay, server) { server in server.write(reply) }
    }

    /// Runs `body` now, or after `milliseconds` with input held until then.
    private func after(milliseconds: Int, _ server: SMTPServerHandler, _ body: @escaping (SMTPServerHandler) -> Void) {
        server.hold(for: .milliseconds(Int64(milliseconds)), then: body)
    }

    /// Sends `reply` (after a delay, if any), then closes the connection.
    private func close(with reply: SMTPReply, afterMilliseconds delay: Int = 0, _ server: SMTPServerHandler) {
        self.after(milliseconds: delay, server) { server in server.close(with: reply) }
    }

    // MARK: STARTTLS (RFC 3207)

    private func startTLS(_ reply: SMTPReply, _ server: SMTPServerHandler) {
        if server.startTLS(reply, context: self.environment.tls) {
            self.stateMachine.tlsEstablished()
        }
    }
}
