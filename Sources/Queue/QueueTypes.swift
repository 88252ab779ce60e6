import NIOCore
import RelayCore
import SMTPProtocol

/// Settings of the Redis data model.
public struct QueueConfiguration: Sendable {
    /// Prefix of every key, so one Redis can hold more than one relay. Default `hk:`.
    public var keyPrefix: String = "hk:"
    /// Prefix of the limit keys (``QueueKeys/limitsPrefix``); nil: `keyPrefix`.
    public var limitsKeyPrefix: String? = nil
    /// The events stream is trimmed (approximately) to this many entries (`events.max_length`).
    public var eventsMaxLength: Int = 14_400_000
    /// A streamed body left behind by a dead session expires after this. Default 1 hour.
    public var streamedBodyTTLSeconds: Int = 3600
    /// The Redis command timeout, used to bound an enqueue's deadline.
    public var commandTimeout: Duration = .seconds(5)
    /// Replicas that must confirm an enqueue (`WAIT`) before it counts as accepted (0: none).
    public var waitReplicas: Int = 0
    public var waitTimeout: Duration = .seconds(1)
    /// When an account is paused for its bounce rate (`accounts.bounce_*`).
    public var bounceGuard = BounceGuard()
    /// When an account is paused for its complaint rate (`accounts.complaint_*`).
    public var complaintGuard = ComplaintGuard()
    /// How long a message's recipient index outlives its last final recipient (`bounces.window`).
    public var recipientIndexTTLSeconds: Int = 7 * 86_400
    /// Its expiry at enqueue: longer than a message can stay queued (`delivery.max_age`)
    /// plus `bounces.window`; hk_complete replaces it when the last recipient is final.
    public var recipientIndexBackstopSeconds: Int = 12 * 86_400

    public init() {}
}

/// The automatic pause of an account whose hard-bounce rate is too high.
public struct BounceGuard: Sendable {
    /// Fraction of final outcomes (0 turns the guard off).
    public var threshold: Double = 0.03
    public var minimumVolume: Int = 100
    public var windowHours: Int = 24

    public init(threshold: Double = 0.03, minimumVolume: Int = 100, windowHours: Int = 24) {
        self.threshold = threshold
        self.minimumVolume = minimumVolume
        self.windowHours = windowHours
    }
}

/// The automatic pause of an account whose spam-complaint rate is too high: complaints ÷
/// deliveries over the window, judged once the account has `minimumDeliveries` in it.
public struct ComplaintGuard: Sendable {
    /// Fraction of deliveries (0 turns the guard off). Default 0.003 (0.3%).
    public var threshold: Double = 0.003
    public var minimumDeliveries: Int = 1000
    public var windowHours: Int = 24

    public init(threshold: Double = 0.003, minimumDeliveries: Int = 1000, windowHours: Int = 24) {
        self.threshold = threshold
        self.minimumDeliveries = minimumDeliveries
        self.windowHours = windowHours
    }
}

/// A message handed to the queue by an ingest session.
public struct NewMessage: Sendable {
    public var queueID: QueueID
    /// Envelope sender (`MAIL FROM`); `.null` for the null reverse-path `<>` (RFC 5321 §4.5.5).
    public var sender: ReversePath
    /// Envelope recipients, as parsed from `RCPT TO`.
    public var recipients: [Mailbox]
    /// The `Message-ID:` header value, for events.
    public var messageID: String?
    public var size: Int
    public var clientIP: String?
    public var authUser: String?
    /// The egress pool the message is sent from (decided by its account).
    public var pool: PoolName
    /// The account it was sent by, with its quotas; nil for allow-listed relay without one.
    public var account: AccountQuota?
    /// Header fields the relay adds on top when sending (`DKIM-Signature:` fields, RFC 6376
    /// §5.6), each ending in CRLF; kept beside the body so large streamed bodies need not
    /// be rewritten.
    public var addedHeader: String?
    /// The sender's labels (HTTP API), carried on every event of the message.
    public var labels: MessageLabels?
    /// The account's VERP return-path domain: set, the message is sent from
    /// `b-<token>@<domain>` and its recipient index (`QueueKeys.recipientIndex`) is written.
    public var returnPathDomain: String?
    /// Whether its envelope sender gets a DSN when a recipient bounces or expires (the
    /// account's `send_dsns`, for SMTP mail from one of its own domains).
    public var notifySender = false
    /// A campaign row: enqueued at most once (the campaign's done bitmap, checked and set
    /// by the enqueue itself).
    public var once: EnqueueOnce?

    public init(
        queueID: QueueID, sender: ReversePath, recipients: [Mailbox], messageID: String?, size: Int, clientIP: String?,
        authUser: String?, pool: PoolName = .default, account: AccountQuota? = nil
    ) {
        self.pool = pool
        self.account = account
        self.queueID = queueID
        self.sender = sender
        self.recipients = recipients
        self.messageID = messageID
        self.size = size
        self.clientIP = clientIP
        self.authUser = authUser
    }
}

/// An account's name and its recipient quotas, as enqueue enforces them.
public struct AccountQuota: Sendable, Hashable {
    public var name: String
    public var hourly: Int?
    public var daily: Int?

    public init(name: String, hourly: Int?, daily: Int?) {
        self.name = name
        self.hourly = hourly
        self.daily = daily
    }
}

/// Where an enqueued message's body is.
public enum MessageBody: Sendable {
    /// The whole body, sent with the enqueue call (small messages: one round trip).
    case inline(ByteBuffer)
    /// Already streamed with `MessageQueue.appendBody` (large messages).
    case streamed
}

/// What an enqueue stored: when (Redis's clock, ms), and the recipients it dropped because
/// they are suppressed (address as given, reason).
public struct EnqueueResult: Sendable, Hashable {
    public var acceptedAt: Int64
    public var suppressed: [SuppressedRecipient]

    public init(acceptedAt: Int64, suppressed: [SuppressedRecipient] = []) {
        self.acceptedAt = acceptedAt
        self.suppressed = suppressed
    }
}

/// A recipient dropped at the enqueue, and why (`hard_bounce`, …).
public struct SuppressedRecipient: Sendable, Hashable {
    public var address: String
    public var reason: String
}

/// Why the queue could not take or settle something. Ingest answers `451 4.3.0` for all of
/// them: the client keeps the message and retries.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    enum Code: Sendable {
        case redis(String), deadlinePassed, rejected(String), malformedReply(String)
        case notReplicated(confirmed: Int, wanted: Int)
        case quotaExceeded(period: String, limit: Int, retryAfterSeconds: Int)
        case allSuppressed
        case alreadyEnqueued
    }
    let code: Code

    public static func redis(_ error: Error) -> QueueError { QueueError(code: .redis("\(error)")) }
    public static let deadlinePassed = QueueError(code: .deadlinePassed)
    static func rejected(_ text: String) -> QueueError { QueueError(code: .rejected(text)) }
    static func malformed(_ text: String) -> QueueError { QueueError(code: .malformedReply(text)) }

    public var isDeadlinePassed: Bool { if case .deadlinePassed = code { return true } else { return false } }

    /// Every recipient is on a suppression list: nothing was stored (a `suppressed` event
    /// was written for each).
    public var isAllSuppressed: Bool { if case .allSuppressed = code { return true } else { return false } }
    /// A campaign row whose enqueue already happened (``EnqueueOnce``): nothing was written.
    public var isAlreadyEnqueued: Bool { if case .alreadyEnqueued = code { return true } else { return false } }

    /// The account's hourly or daily recipient quota would be exceeded (nothing was stored).
    public var quotaExceeded: (period: String, limit: Int, retryAfterSeconds: Int)? {
        if case .quotaExceeded(let period, let limit, let retry) = code { return (period, limit, retry) } else { return nil }
    }

    /// Parses `QUOTA <hourly|daily> <limit> <retry_after_s>` from hk_enqueue.
    static func quota(_ message: String) -> QueueError? {
        let parts = message.split(separator: " ")
        guard parts.count >= 4, parts[0] == "QUOTA", let limit = Int(parts[2]), let retry = Int(parts[3]) else { return nil }
        return QueueError(code: .quotaExceeded(period: String(parts[1]), limit: limit, retryAfterSeconds: retry))
    }

    public var description: String {
        switch code {
        case .redis(let text): return "Redis: \(text)"
        case .deadlinePassed: return "Redis took longer than the enqueue timeout; nothing was stored"
        case .rejected(let text): return "queue refused: \(text)"
        case .malformedReply(let text): return "unexpected reply from Redis: \(text)"
        case .quotaExceeded(let period, let limit, _): return "the account's \(period) quota of \(limit) recipients would be exceeded"
        case .notReplicated(let confirmed, let wanted): return "only \(confirmed) of \(wanted) Redis replicas confirmed the write in time"
        case .allSuppressed: return "all recipients are suppressed"
        case .alreadyEnqueued: return "this campaign row was already enqueued"
        }
    }
}

/// One claimed unit of work: a message's recipients at one domain.
public struct WorkItem: Sendable, Hashable {
    /// The stream entry id (needed to acknowledge it).
    public var entryID: String
    public var queueID: QueueID
    /// This item's recipients (all at one domain), read back from the stream entry.
    public var recipients: [Mailbox]
    /// Delivery attempts made before this one.
    public var previousAttempts: Int
    /// When the message was accepted (ms since 1970, Redis clock).
    public var acceptedAt: Int64

    public init(entryID: String, queueID: QueueID, recipients: [Mailbox], previousAttempts: Int, acceptedAt: Int64) {
        self.entryID = entryID
        self.queueID = queueID
        self.recipients = recipients
        self.previousAttempts = previousAttempts
        self.acceptedAt = acceptedAt
    }
}

/// A batch of work for one destination domain, to be sent from one egress IP under one
/// connection lease.
public struct ClaimedBatch: Sendable {
    public var pool: PoolName
    public var domain: DomainName
    /// The unit the limits were charged to: the egress address chosen and the site.
    public var unit: DeliveryUnit
    /// The connection lease to give back with `MessageQueue.release`.
    public var lease: LeaseName
    public var items: [WorkItem]
    /// How many items were taken over from a worker presumed dead (possible duplicates).
    public var takenOver: Int = 0
    /// The IPs with entries of the destination still parked for them, for the next claim
    /// (only known with ``QueueKeys/splitClaim``; `hk_claim` reads them itself).
    public var parkedFor: [EgressID] = []

    public var site: SiteName { unit.site }
    public var egress: EgressID { unit.egress }

    /// The connection lease this batch was sent under.
    public var connection: HeldConnection { HeldConnection(unit: unit, lease: lease) }
}

/// A connection lease a worker holds while its SMTP connection to a site is open (counted
/// against the site's `max_connections_per_ip`).
public struct HeldConnection: Sendable, Equatable {
    public var unit: DeliveryUnit
    public var lease: LeaseName

    public init(unit: DeliveryUnit, lease: LeaseName) {
        self.unit = unit
        self.lease = lease
    }
}

/// What `MessageQueue.next` found.
public enum NextDestination: Sendable, Equatable {
    /// `parkedFor`: IPs with entries of the domain parked for them (greylisted retries,
    /// `hk_claim`), named only with ``QueueKeys/splitClaim``; pass them to `claim`.
    case domain(DomainName, parkedFor: [EgressID] = [])
    /// Nothing due now; `nextDueAt` (ms, Redis clock) is when something will be, if known.
    case idle(nextDueAt: Int64?)
}

/// What `MessageQueue.claim` decided.
public enum ClaimResult: Sendable {
    case batch(ClaimedBatch)
    /// Nothing may be sent to this destination now (or there is nothing); the domain was
    /// re-scored in the ready index.
    case wait(milliseconds: Int64, reason: ClaimWaitReason)
}

/// One egress IP a worker offers for a claim, with the limits that apply to it at the site.
public struct EgressCandidate: Sendable {
    public var egress: EgressID
    /// 0: unlimited.
    public var maxConnections: Int
    public var rate: Rate?
    public var connectionRate: Rate?
    /// Today's warm-up cap, nil when the IP is warm.
    public var warmupCap: Int?

    public init(egress: EgressID, maxConnections: Int, rate: Rate?, connectionRate: Rate?, warmupCap: Int?) {
        self.egress = egress
        self.maxConnections = maxConnections
        self.rate = rate
        self.connectionRate = connectionRate
        self.warmupCap = warmupCap
    }
}

/// A message as a worker needs it.
public struct StoredMessage: Sendable {
    public var queueID: QueueID
    public var sender: ReversePath
    /// The account that sent it, if any.
    public var account: String?
    public var messageID: String?
    public var acceptedAt: Int64
    /// The message as stored — whole, or its first ``MessageQueue/bodyHeadSize`` octets
    /// when it is larger (``storedSize``; the rest is read with
    /// ``MessageQueue/readBody(queueID:offset:count:)`` while it is sent).
    public var body: ByteBuffer
    /// Octets stored (the whole message, without ``addedHeader``).
    public var storedSize: Int
    /// The header fields added at acceptance (DKIM signatures), sent before the stored message.
    public var addedHeader: ByteBuffer?
    /// Its `tags` and `metadata` (HTTP API), for its events.
    public var labels: MessageLabels?
    /// Its VERP return-path domain and recipient index (the `r` field of
    /// `QueueKeys.recipientIndex`, in order), when it is sent with VERP.
    public var returnPath: (domain: String, recipients: [String])?
    /// Its envelope sender is sent a DSN for recipients that bounce or expire (`NewMessage.notifySender`).
    public var notifySender = false

    public init(queueID: QueueID, sender: ReversePath, account: String?, messageID: String?, acceptedAt: Int64, body: ByteBuffer) {
        self.queueID = queueID
        self.sender = sender
        self.account = account
        self.messageID = messageID
        self.acceptedAt = acceptedAt
        self.body = body
        self.storedSize = body.readableBytes
    }

    /// Whether only the first part of the message is in ``body``.
    public var isPartial: Bool { storedSize > body.readableBytes }

    /// The recipient's position in the recipient index (a VERP token's `recipientIndex`).
    public func recipientIndex(of recipient: Mailbox) -> Int? {
        returnPath?.recipients.firstIndex(of: recipient.description)
    }
}

/// How a worker settles one work item.
public struct WorkOutcome: Sendable {
    public var item: WorkItem
    /// Recipients that reached a final state (delivered, bounced, expired).
    public var finalCount: Int
    /// Recipients to try again, and when (ms since 1970).
    public var retry: (recipients: [Mailbox], dueAt: Int64)?
    /// The egress IP the retry should come from (a greylisting server refused this one;
    /// see `GreylistRetry`), nil for any IP of the pool.
    public var pinnedEgress: EgressID?
    public var events: [DeliveryEvent]
    /// The message's account (for its bounce-rate statistics), if any.
    public var account: String?

    public init(
        item: WorkItem, finalCount: Int, retry: (recipients: [Mailbox], dueAt: Int64)?, events: [DeliveryEvent], account: String? = nil
    ) {
        self.item = item
        self.account = account
        self.finalCount = finalCount
        self.retry = retry
        self.events = events
    }
}

/// The at-most-once mark of a campaign row: bit `row` of `camp:<campaign>:done`, checked and
/// set in the same `hk_enqueue` that stores the message, so a runner killed at any moment
/// and restarted (or a second runner after a lease change) can neither skip the row nor
/// enqueue it twice.
public struct EnqueueOnce: Sendable, Hashable {
    public var campaign: String
    public var row: Int

    public init(campaign: String, row: Int) {
        self.campaign = campaign
        self.row = row
    }
}
