import DKIM
import HikyakuMetrics
import Logging
import NIOCore
import Queue
import RelayCore
import SMTPProtocol
import Unsubscribe

/// The one path every submission takes into the queue, whatever carried it (SMTP now; the
/// HTTP API, campaigns and DSNs next): the relay's `Received:` and a missing `Message-ID:`
/// (``MessageAssembler``), the header checks (RFC 5321 §6.3 loops, ``HeaderPolicy``), DKIM
/// signing (RFC 6376) and the durable enqueue — answered with an ``IntakeResult`` that
/// carries its SMTP reply and HTTP status. It knows no channel: the transport hands it
/// bytes and an envelope.
///
/// ```
/// let message = intake.startMessage(from: submitter, trace: trace)   // Received:, Message-ID:
/// message.append(chunk) … message.finish()                            // as content arrives
/// if let refused = intake.check(message, from: submitter) { … }       // synchronous, no I/O
/// let result = await intake.enqueue(message, envelope: …, from: submitter, streamed: false)
/// ```
///
/// ``check(_:from:)`` runs where the content arrived (an SMTP session's event loop);
/// ``enqueue(_:envelope:from:streamed:)`` is the one asynchronous step per message: the
/// last piece of a streamed body, the signature and the enqueue (with `WAIT` for replicas)
/// in one task.
public struct MessageIntake: Sendable {
    let queue: MessageQueue
    let accounts: AccountDirectory
    let hostname: String
    let settings: IngestSettings
    /// The largest message any transport may hand in (`ingest.max_message_size`).
    public var maxMessageSize: Int { settings.maxMessageSize.bytes }
    /// One-click unsubscribe links for `X-Hikyaku-Unsubscribe: one-click` (``UnsubscribeRequest``);
    /// nil when `campaigns.unsubscribe_base_url` or `secrets.key_file` is unset.
    let unsubscribe: UnsubscribeLinks?

    public init(
        queue: MessageQueue, accounts: AccountDirectory, hostname: String, settings: IngestSettings,
        unsubscribe: UnsubscribeLinks? = nil
    ) {
        self.queue = queue
        self.accounts = accounts
        self.hostname = hostname
        self.settings = settings
        self.unsubscribe = unsubscribe
    }

    /// Who submits a message, for the trace, the policy, the events and the logs.
    public struct Submitter: Sendable {
        /// The listener (or API) name: the metrics' `listener` label.
        public var listener: String
        public var clientIP: String?
        /// The SASL identity or API key's account name, when authenticated.
        public var authUser: String?
        /// The account it sends as; nil for an allow-listed network without one.
        public var account: Account?
        public var logger: Logger
        /// The campaign the message belongs to (a campaign runner's submissions), named in
        /// the unsubscribe link that `X-Hikyaku-Unsubscribe: one-click` becomes.
        public var campaign: String?

        public init(listener: String, clientIP: String?, authUser: String?, account: Account?, logger: Logger) {
            self.listener = listener
            self.clientIP = clientIP
            self.authUser = authUser
            self.account = account
            self.logger = logger
        }
    }

    /// What the `Received:` field records (RFC 5321 §4.4).
    public struct Trace: Sendable {
        /// The EHLO/HELO name (or the API's client name).
        public var heloName: String
        /// RFC 3848 `with`: `ESMTPSA`, … (`HTTPS` for the API).
        public var protocolName: String
        /// The recipient when there is exactly one (named in `for`; with several, none is,
        /// so recipients do not learn of each other).
        public var onlyRecipient: String?

        public init(heloName: String, protocolName: String, onlyRecipient: String?) {
            self.heloName = heloName
            self.protocolName = protocolName
            self.onlyRecipient = onlyRecipient
        }
    }

    /// The envelope (RFC 5321 §2.3.1), as parsed: it reaches the queue and the worker
    /// without being turned back into text in between.
    public struct Envelope: Sendable {
        public var sender: ReversePath
        public var recipients: [Mailbox]
        /// The sender's `tags` and `metadata` (HTTP API), for every event of the message.
        public var labels: MessageLabels?
        /// A campaign row: stored at most once (``EnqueueOnce``).
        public var once: EnqueueOnce?

        public init(sender: ReversePath, recipients: [Mailbox]) {
            self.sender = sender
            self.recipients = recipients
        }
    }

    /// The `listener` of submissions through the HTTP API.
    public static let apiListener = "api"

    /// Whether the envelope sender is to get DSNs (RFC 3464) for this message: the account
    /// asks for them (`send_dsns`), the mail came over SMTP (API senders have webhooks), and
    /// the sender is an address of one of the account's own sending domains — so a DSN never
    /// goes to an address the account could not have sent as (no backscatter to forged
    /// senders), and never to `<>` (RFC 3464 §2: no DSN about a DSN).
    static func notifiesSender(account: Account?, sender: ReversePath, listener: String) -> Bool {
        guard let account, account.sendDSNs, listener != Self.apiListener, let mailbox = sender.mailbox,
            !account.sendingDomains.isEmpty
        else { return false }
        let domain = mailbox.normalizedDomain
        return account.sendingDomains.contains { domain == $0 || domain.hasSuffix("." + $0) }
    }

    /// A new message under a new queue id, with the relay's `Received:` field first.
    public func startMessage(from submitter: Submitter, trace: Trace) -> IncomingMessage {
        let id = QueueID.generate()
        let received = ReceivedHeader.render(
            heloName: trace.heloName, clientIP: submitter.clientIP ?? "unknown", hostname: self.hostname,
            protocolName: trace.protocolName, queueID: id, recipient: trace.onlyRecipient,
            date: WallClock.rfc5322Date(milliseconds: WallClock.nowMilliseconds()))
        let assembler = MessageAssembler(
            receivedHeader: received, generatedMessageID: "<\(id.rawValue)@\(self.hostname)>",
            wantsFrom: (submitter.account?.restrictSenders ?? false) || self.accounts.hasSigningDomains,
            unsubscribe: unsubscribeRequest(account: submitter.account, campaign: submitter.campaign, onlyRecipient: trace.onlyRecipient))
        let account = submitter.account
        return IncomingMessage(queueID: id, assembler: assembler) { [self] from in self.signers(forFrom: from, account: account) != nil }
    }

    /// What an `X-Hikyaku-Unsubscribe:` field of this message could become.
    func unsubscribeRequest(account: Account?, campaign: String?, onlyRecipient: String?) -> UnsubscribeRequest {
        guard let links = unsubscribe else { return .unavailable(UnsubscribeRequest.notConfigured) }
        guard let account else { return .unavailable(UnsubscribeRequest.noAccount) }
        guard let recipient = onlyRecipient else { return .unavailable(UnsubscribeRequest.severalRecipients) }
        return .available(
            links.list,
            UnsubscribeToken(account: account.name, recipient: recipient, campaign: campaign, nowMilliseconds: WallClock.nowMilliseconds()))
    }

    /// The checks of the complete header section, without I/O: a refusal (counted and
    /// logged), or nil when the message may be enqueued. Call after ``IncomingMessage/finish()``.
    public func check(_ message: IncomingMessage, from submitter: Submitter) -> IntakeResult? {
        let id = message.queueID
        let received = message.assembler.receivedFieldCount
        if let loop = LoopDetection.refusal(receivedFields: received, limit: self.settings.maxReceivedHeaders) {
            submitter.logger.notice(
                "refused: mail loop (too many Received: fields)", metadata: ["queue_id": "\(id)", "received": "\(received)"])
            return self.refused(id, .mailLoop, loop, submitter)
        }
        if let refusal = message.assembler.unsubscribeRefusal {
            submitter.logger.notice(
                "refused: X-Hikyaku-Unsubscribe", metadata: ["queue_id": "\(id)", "reply": "\(refusal.lines.joined(separator: " "))"])
            return self.refused(id, .unsubscribeHeader, refusal, submitter)
        }
        // RFC 5322 §3.6.2: the author. An account that may send only as its own domains
        // may not put another in From: or Sender: either (see `HeaderPolicy`).
        if let account = submitter.account, account.restrictSenders,
            let refusal = HeaderPolicy.refusal(for: message.assembler.authors, policy: AccountDirectory.policy(for: account))
        {
            submitter.logger.notice(
                "refused: author header fields", metadata: ["queue_id": "\(id)", "reply": "\(refusal.lines.joined(separator: " "))"])
            return self.refused(id, .fromDomain, refusal, submitter)
        }
        return nil
    }

    /// Stores the message durably: the rest of a streamed body (`streamed`: earlier pieces
    /// went with ``MessageQueue/appendBody(queueID:chunk:)``), the `DKIM-Signature:` fields,
    /// the enqueue. On any refusal a streamed body is deleted before this returns, so the
    /// reply never precedes the cleanup.
    ///
    /// `sandbox`: everything but the store — the checks, the rendering and the signature —
    /// for the API's `sandbox: true` (nothing is queued or delivered; quotas are not charged).
    public func enqueue(
        _ message: IncomingMessage, envelope: Envelope, from submitter: Submitter, streamed: Bool, sandbox: Bool = false
    ) async -> IntakeResult {
        var message = message
        let id = message.queueID
        let deadline = WallClock.nowMilliseconds() + self.settings.enqueueTimeout.milliseconds
        let size = message.size
        // A streamed message's last piece goes through the body hash like the others.
        let rest =
            streamed
            ? message.takeFlushable() : message.assembler.canFlush ? message.assembler.takePending() : message.assembler.pending
        var stored = NewMessage(
            queueID: id, sender: envelope.sender, recipients: envelope.recipients, messageID: message.assembler.messageID, size: size,
            clientIP: submitter.clientIP, authUser: submitter.authUser, pool: submitter.account?.pool ?? self.settings.relayPool,
            account: submitter.account.map { AccountQuota(name: $0.name, hourly: $0.hourlyQuota, daily: $0.dailyQuota) })
        stored.labels = envelope.labels
        stored.once = envelope.once
        stored.returnPathDomain = self.accounts.returnPathDomain(of: submitter.account)
        stored.notifySender = Self.notifiesSender(account: submitter.account, sender: envelope.sender, listener: submitter.listener)
        let signing = self.signers(forFrom: message.assembler.authors.from.first, account: submitter.account)
        let enqueued: EnqueueResult
        do {
            let body: MessageBody
            if streamed {
                if rest.readableBytes > 0 {
                    // The last APPEND, then the enqueue (sequential: the rename must see it all).
                    do { try await self.queue.appendBody(queueID: id, chunk: rest) } catch {
                        submitter.logger.warning("message not accepted: storing its body failed: \(error)")
                        throw error
                    }
                }
                body = .streamed
            } else {
                body = .inline(rest)
            }
            if let signing {
                switch body {
                case .inline(let bytes):
                    stored.addedHeader = try Self.sign(bytes, with: signing)
                case .streamed:
                    guard let streamedSigning = message.streamedSigning else {
                        throw StreamedSigningUnavailable(headerTooLarge: message.assembler.bodyOffset == nil)
                    }
                    stored.addedHeader = try Self.sign(
                        header: streamedSigning.header, bodyHash: try streamedSigning.body.finish(), with: signing)
                }
            }
            if sandbox {
                submitter.logger.info("sandbox: checked and signed, not queued", metadata: ["queue_id": "\(id)"])
                return .sandboxed(id)
            }
            enqueued = try await self.queue.enqueue(stored, body: body, deadline: deadline)
        } catch {
            // Not queued (quota, unsignable, Redis): the streamed body goes before the
            // reply. Safe even if the enqueue did happen: it renamed the key away.
            if streamed { await self.queue.discardBody(queueID: id) }
            return self.refusal(for: error, id: id, account: submitter.account, submitter)
        }
        submitter.logger.info(
            "accepted",
            metadata: [
                "queue_id": "\(id)", "from": "\(stored.sender)", "recipients": "\(stored.recipients.count)",
                "size": "\(size)", "message_id": "\(stored.messageID ?? "")",
            ])
        if !enqueued.suppressed.isEmpty {
            submitter.logger.info(
                "suppressed recipients dropped",
                metadata: ["queue_id": "\(id)", "suppressed": "\(enqueued.suppressed.map(\.address).joined(separator: ","))"])
        }
        IngestMetrics.accepted(listener: submitter.listener)
        var result = IntakeResult.queued(id)
        result.suppressed = enqueued.suppressed
        return result
    }

    /// A refusal after the store was tried, by what went wrong.
    private func refusal(for error: any Error, id: QueueID, account: Account?, _ submitter: Submitter) -> IntakeResult {
        let logger = submitter.logger
        switch error {
        case let error as QueueError where error.quotaExceeded != nil:
            let quota = error.quotaExceeded!
            logger.notice("message not accepted: \(error)", metadata: ["queue_id": "\(id)"])
            let reply = SMTPReply(
                451, "4.7.0",
                "The \(quota.period) quota of \(quota.limit) recipients of account \(account?.name ?? "") is used up; try again in \(quota.retryAfterSeconds) seconds"
            )
            var result = self.refused(id, .quota, reply, submitter)
            result.retryAfterSeconds = quota.retryAfterSeconds
            return result
        case let error as QueueError where error.isAllSuppressed:
            // The enqueue is the authority: an address suppressed after RCPT is caught here.
            logger.notice("message not accepted: every recipient is suppressed", metadata: ["queue_id": "\(id)"])
            return self.refused(id, .suppressed, SMTPReply(550, "5.1.1", "all recipients are suppressed"), submitter)
        case let error as QueueError where error.isAlreadyEnqueued:
            logger.info("campaign row already enqueued; nothing stored", metadata: ["queue_id": "\(id)"])
            return self.refused(id, .duplicate, SMTPReply(250, "2.0.0", "already queued"), submitter)
        case let error as DKIMError where error.code != .cryptoFailure:
            // A header DKIM cannot sign (two From fields, none, a malformed field) is
            // one no receiver should trust either.
            logger.notice("message not accepted: cannot sign it: \(error)", metadata: ["queue_id": "\(id)"])
            return self.refused(
                id, .unsignable, SMTPReply(550, "5.6.0", "Message header cannot be DKIM-signed: \(error.detail)"), submitter)
        case let error as StreamedSigningUnavailable where error.headerTooLarge:
            logger.notice("message not accepted: cannot sign it: \(error)", metadata: ["queue_id": "\(id)"])
            return self.refused(id, .unsignable, SMTPReply(550, "5.6.0", "Message header cannot be DKIM-signed: \(error)"), submitter)
        default:
            logger.warning("message not accepted, client told to retry: \(error)", metadata: ["queue_id": "\(id)"])
            return self.refused(id, .queueUnavailable, .localError, submitter)
        }
    }

    func refused(_ id: QueueID, _ reason: MetricNames.RefusalReason, _ reply: SMTPReply, _ submitter: Submitter) -> IntakeResult {
        IngestMetrics.refused(listener: submitter.listener, reason: reason)
        return .refused(id, reason, reply)
    }

    // MARK: DKIM (RFC 6376)

    /// The signers for a message: the active keys of its author's domain (or the nearest
    /// parent with keys) — if the sender may use them: mail from the operator's own
    /// allow-listed networks, or an account whose sending domains cover the signing domain.
    /// Another tenant (or an `--any-sender` account) never gets a signature in a domain
    /// that is not its own.
    func signers(forFrom from: String?, account: Account?) -> [DKIMSigner]? {
        guard let from, let author = FromHeader.domains(of: from).first,
            let found = self.accounts.signers(for: author)
        else { return nil }
        if let account {
            guard account.restrictSenders, AccountDirectory.policy(for: account).allows(domain: found.domain) else { return nil }
        }
        return found.signers
    }

    /// The `DKIM-Signature:` fields for `message`, one per key, each ending in CRLF.
    static func sign(_ message: ByteBuffer, with signers: [DKIMSigner]) throws -> String {
        let now = WallClock.nowMilliseconds() / 1000
        var fields = ""
        for signer in signers {
            var field = try message.withUnsafeReadableBytes { try signer.sign($0, time: now) }
            if !field.hasSuffix("\r\n") { field += "\r\n" }
            fields += field
        }
        return fields
    }

    /// The fields for a streamed message: its header section and its body's hash.
    static func sign(header: ByteBuffer, bodyHash: DKIMBodyHash, with signers: [DKIMSigner]) throws -> String {
        let now = WallClock.nowMilliseconds() / 1000
        var fields = ""
        for signer in signers {
            var field = try header.withUnsafeReadableBytes { try signer.sign(header: $0, bodyHash: bodyHash, time: now) }
            if !field.hasSuffix("\r\n") { field += "\r\n" }
            fields += field
        }
        return fields
    }
}

/// A message being received: its queue id and the bytes as the relay stores them
/// (``MessageAssembler``: `Received:`, `Message-ID:`, the client's content).
public struct IncomingMessage: Sendable {
    public let queueID: QueueID
    var assembler: MessageAssembler
    /// Whether the message, should it be streamed, is to be signed: asked with its `From:`
    /// at the first piece streamed (``MessageIntake/signers(forFrom:account:)``).
    let signsStreamedBody: @Sendable (String?) -> Bool
    /// A streamed message to be signed: its header section, kept (bounded by
    /// `MessageAssembler.maxHeaderScan`), and its body hashed piece by piece as it goes to
    /// Redis, so it is never read back whole to be signed (RFC 6376 §3.7).
    private(set) var streamedSigning: StreamedSigning?

    struct StreamedSigning: Sendable {
        var header: ByteBuffer
        var body: DKIMBodyHasher
    }

    init(queueID: QueueID, assembler: MessageAssembler, signsStreamedBody: @escaping @Sendable (String?) -> Bool = { _ in false }) {
        self.queueID = queueID
        self.assembler = assembler
        self.signsStreamedBody = signsStreamedBody
    }

    /// Adds content as it arrives (dot-unstuffed, CRLF line ends).
    public mutating func append(_ chunk: ByteBuffer) { self.assembler.append(chunk) }

    /// The end of the content: settles the header section.
    public mutating func finish() { self.assembler.finish() }

    /// Octets as stored (the added fields included).
    public var size: Int { self.assembler.flushedBytes + self.assembler.pending.readableBytes }

    /// Octets held and ready to be streamed ahead (nil while the header section is still
    /// being read).
    public var flushableBytes: Int? { self.assembler.canFlush ? self.assembler.pending.readableBytes : nil }

    /// Takes what is held, to stream it ahead of the enqueue; its body bytes go into the
    /// body hash when the message is to be signed.
    public mutating func takeFlushable() -> ByteBuffer {
        let isFirst = self.assembler.flushedBytes == 0
        let piece = self.assembler.takePending()
        if isFirst {
            self.startSigning(with: piece)
        } else if let hasher = self.streamedSigning?.body {
            piece.withUnsafeReadableBytes { hasher.update($0) }
        }
        return piece
    }

    /// At the first piece (which holds the whole header section): keeps a copy of the
    /// header and starts the body hash, if the message is to be signed.
    private mutating func startSigning(with piece: ByteBuffer) {
        guard let offset = self.assembler.bodyOffset, offset <= piece.readableBytes,
            self.signsStreamedBody(self.assembler.authors.from.first), let hasher = try? DKIMBodyHasher()
        else { return }
        // A copy, not a slice: a slice would keep the whole piece's storage alive.
        let header = ByteBuffer(bytes: piece.readableBytesView.prefix(offset))
        piece.withUnsafeReadableBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        self.streamedSigning = StreamedSigning(header: header, body: hasher)
    }

    /// The `Message-ID:` found, or the one added.
    public var messageID: String? { self.assembler.messageID }
}

/// A streamed message to be signed whose body was not hashed as it arrived.
struct StreamedSigningUnavailable: Error, CustomStringConvertible {
    /// Its header section has no end within `MessageAssembler.maxHeaderScan`: it cannot be
    /// signed (permanent). Otherwise its author's domain got keys while it arrived (retry).
    var headerTooLarge: Bool

    var description: String {
        headerTooLarge
            ? "its header section is longer than \(MessageAssembler.maxHeaderScan / 1024) KiB"
            : "the signing keys changed while it was received"
    }
}
