import RelayCore

// The interface between the log store and its readers (the console, later `/v1/stats`),
// exactly as /work/notes/issue14-plan.md fixes it. This file is the console branch's copy,
// written before branch `logstore` had commits: when `logstore` is merged, keep its
// definitions and delete this file.

/// An event as archived, with the events stream's entry id (newest first by this id).
public struct LoggedEvent: Sendable {
    public var streamID: String
    public var event: DeliveryEvent
    public init(streamID: String, event: DeliveryEvent) {
        self.streamID = streamID
        self.event = event
    }
}

/// A log search. Every field narrows; `account` nil means every account (operators only).
public struct LogQuery: Sendable {
    public var account: String?
    public var recipient: String?
    public var messageID: String?
    public var queueID: String?
    /// Empty: every kind.
    public var kinds: [DeliveryEvent.Kind] = []
    public var bounceClass: BounceClass?
    public var site: String?
    /// Milliseconds since 1970; `until` exclusive.
    public var since: Int64?
    public var until: Int64?
    public var limit: Int = 100
    /// Cursor: return events older than this stream id.
    public var before: String?
    public init() {}
}

public struct StatsQuery: Sendable {
    public var account: String?
    public var since: Int64
    public var until: Int64
    public var bySite: Bool
    public init(account: String?, since: Int64, until: Int64, bySite: Bool) {
        self.account = account
        self.since = since
        self.until = until
        self.bySite = bySite
    }
}

/// One hour × account × sending domain × recipient domain × site.
public struct StatsRow: Sendable {
    /// Hours since 1970 (ms / 3 600 000).
    public var hour: Int64
    public var account: String
    public var sendingDomain: String
    public var recipientDomain: String
    public var site: String
    public var accepted = 0, delivered = 0, deferred = 0, bounced = 0, expired = 0, complaints = 0, suppressed = 0
    public var bouncedByClass: [BounceClass: Int] = [:]
    public init(hour: Int64, account: String, sendingDomain: String, recipientDomain: String, site: String) {
        self.hour = hour
        self.account = account
        self.sendingDomain = sendingDomain
        self.recipientDomain = recipientDomain
        self.site = site
    }
}

public protocol LogReader: Sendable {
    func search(_ query: LogQuery) async throws -> [LoggedEvent]
    func timeline(queueID: String, account: String?) async throws -> [LoggedEvent]
    func stats(_ query: StatsQuery) async throws -> [StatsRow]
    /// Every match, oldest or newest first as the store likes, streamed (any size).
    func export(_ query: LogQuery, into sink: (LoggedEvent) async throws -> Void) async throws
}
