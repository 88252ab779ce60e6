import RelayCore

/// One event of the log store with its events-stream id (`<ms>-<seq>`), which is also its
/// identity: an event appended twice (a replay after an archiver's crash) is stored once.
public struct LoggedEvent: Sendable {
    public var streamID: String
    public var event: DeliveryEvent

    public init(streamID: String, event: DeliveryEvent) {
        self.streamID = streamID
        self.event = event
    }
}

/// A log search: every field that is set must match; newest first.
public struct LogQuery: Sendable {
    /// nil: every account (operators). A console user's queries always set it.
    public var account: String?
    /// Case-insensitive; an `accepted` event matches any of its recipients.
    public var recipient: String?
    /// The `Message-ID:` value, with or without `<>`.
    public var messageID: String?
    public var queueID: String?
    /// Empty: all kinds.
    public var kinds: [DeliveryEvent.Kind]
    public var bounceClass: BounceClass?
    public var site: String?
    /// Milliseconds since 1970: `since` inclusive, `until` exclusive.
    public var since: Int64?
    public var until: Int64?
    public var limit: Int = 100
    /// Cursor: the stream id of the last event of the previous page; this page holds older ones.
    public var before: String?

    public init(
        account: String? = nil, recipient: String? = nil, messageID: String? = nil, queueID: String? = nil,
        kinds: [DeliveryEvent.Kind] = [], bounceClass: BounceClass? = nil, site: String? = nil, since: Int64? = nil,
        until: Int64? = nil, limit: Int = 100, before: String? = nil
    ) {
        self.account = account
        self.recipient = recipient
        self.messageID = messageID
        self.queueID = queueID
        self.kinds = kinds
        self.bounceClass = bounceClass
        self.site = site
        self.since = since
        self.until = until
        self.limit = limit
        self.before = before
    }
}

/// Counts over a time range: hours starting in `[since, until)` (ms since 1970).
public struct StatsQuery: Sendable {
    public var account: String?
    public var since: Int64
    public var until: Int64
    /// false: sites summed (every row's `site` is empty).
    public var bySite: Bool
    /// false: accounts and domains summed (every row's `account`, `sendingDomain` and
    /// `recipientDomain` are empty) — hour × site, what the console's overview draws, summed
    /// by the store rather than returned row by row.
    public var byAccountAndDomain: Bool

    public init(account: String? = nil, since: Int64, until: Int64, bySite: Bool = false, byAccountAndDomain: Bool = true) {
        self.account = account
        self.since = since
        self.until = until
        self.bySite = bySite
        self.byAccountAndDomain = byAccountAndDomain
    }
}

/// One hour × account × sending domain × recipient domain × site. `hour` is the hour's
/// start (ms since 1970, UTC); empty strings stand for "none" (no account, the null sender,
/// no site known yet — `accepted` events have none). Counts are per recipient: an `accepted`
/// event with three recipients counts three.
public struct StatsRow: Sendable, Equatable {
    public var hour: Int64
    public var account: String
    public var sendingDomain: String
    public var recipientDomain: String
    public var site: String
    public var accepted, delivered, deferred, bounced, expired, complaints, suppressed: Int
    public var bouncedByClass: [BounceClass: Int]

    public init(hour: Int64, account: String, sendingDomain: String, recipientDomain: String, site: String) {
        self.hour = hour
        self.account = account
        self.sendingDomain = sendingDomain
        self.recipientDomain = recipientDomain
        self.site = site
        accepted = 0
        delivered = 0
        deferred = 0
        bounced = 0
        expired = 0
        complaints = 0
        suppressed = 0
        bouncedByClass = [:]
    }
}

/// What the console and the API read from a log store (SQLite, later PostgreSQL).
public protocol LogReader: Sendable {
    func search(_ query: LogQuery) async throws -> [LoggedEvent]
    /// Every event of one message, oldest first (accepted → attempts → outcomes).
    func timeline(queueID: String, account: String?) async throws -> [LoggedEvent]
    func stats(_ query: StatsQuery) async throws -> [StatsRow]
    /// Every event matching `query` (its `limit` and `before` ignored), newest first, page by
    /// page: memory stays bounded whatever the size.
    func export(_ query: LogQuery, into sink: (LoggedEvent) async throws -> Void) async throws
}
