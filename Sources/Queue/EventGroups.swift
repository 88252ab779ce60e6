import NIOCore
import RedisClient
import RelayCore

/// The events stream's consumer groups (the webhook dispatcher's `webhooks`, and any an
/// operator adds): reading through a group, taking over a dead consumer's entries,
/// trimming what every group has acknowledged, and `hikyaku events groups`.
///
/// ```
/// C: XREADGROUP GROUP webhooks relay1/4711 COUNT 100 BLOCK 1000 STREAMS hk:events >
/// S: *1 (hk:events ((1733500000000-0 (e {"event":"delivered",…}))))
/// C: FCALL hkw_fanout …            (outboxes + XACK in one step)
/// C: XTRIM hk:events MINID ~ 1733499400000-0
/// ```
public struct EventGroups: Sendable {
    /// One entry read through a group; `json` is nil for an entry trimmed while pending.
    public struct Entry: Sendable {
        public var id: String
        public var json: ByteBuffer?

        /// The event, decoded on each access (nil when trimmed or not an event): a reader
        /// that can tell from the bytes that an entry does not concern it — the campaign
        /// counter, the webhook dispatcher without endpoints — skips the decoding, which
        /// was most of their CPU per event.
        public var event: DeliveryEvent? { json.flatMap { try? EventCoding.decode($0) } }

        /// Whether the JSON holds `text` at all (a cheap test before decoding). A plain
        /// loop: the standard library's generic `firstRange(of:)` cost more than decoding.
        public func mentions(_ text: [UInt8]) -> Bool {
            guard let json, let first = text.first else { return text.isEmpty }
            return json.withUnsafeReadableBytes { bytes in
                guard bytes.count >= text.count else { return false }
                var start = 0
                let last = bytes.count - text.count
                while start <= last {
                    if bytes[start] == first {
                        var matched = 1
                        while matched < text.count, bytes[start + matched] == text[matched] { matched += 1 }
                        if matched == text.count { return true }
                    }
                    start += 1
                }
                return false
            }
        }
    }

    /// A group as `XINFO GROUPS` reports it.
    public struct Group: Sendable {
        public var name: String
        public var consumers: Int
        public var pending: Int
        public var lastDeliveredID: String
        /// Entries the group has read, and the stream's entries it has not (nil when Redis
        /// cannot tell: entries it never read were trimmed).
        public var entriesRead: Int?
        public var lag: Int?
    }

    private let redis: RedisClient
    public let key: String

    /// How long a reader that got less than a full batch waits before reading again. At a
    /// high event rate a blocking read returns as soon as one event is there, so without the
    /// pause every reader makes a round trip (and Redis a wake-up) per one or two events;
    /// with it, a read takes what gathered meanwhile. An event reaches webhooks, campaign
    /// counts and the log store at most this much later.
    public static let gatherPause = Duration.milliseconds(100)

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.key = configuration.keys.events
    }

    /// Creates `group` at the stream's end (`$`; `0` for everything the stream still holds),
    /// and the stream if there is none, unless the group exists.
    public func ensure(_ group: String, from start: String = "$") async throws {
        do {
            _ = try await redis.send(RedisCommand("XGROUP", ["CREATE", .string(key), .string(group), .string(start), "MKSTREAM"]))
        } catch let error as RedisError where error.serverErrorPrefix == "BUSYGROUP" {}
    }

    /// New entries for `consumer` (`>`), waiting up to `block` on `connection` (a blocking
    /// read must not hold up the pipelined ones: see ``withBlockingConnection(_:)``); or,
    /// with `pending`, the entries it read and has not acknowledged (after a restart under
    /// the same name).
    public func read(
        group: String, consumer: String, count: Int, block: Duration? = nil, on connection: RedisConnection? = nil, pending: Bool = false
    ) async throws -> [Entry] {
        var args: [RESPArgument] = ["GROUP", .string(group), .string(consumer), "COUNT", .integer(Int64(count))]
        if let block, !pending { args += ["BLOCK", .integer(block.milliseconds)] }
        args += ["STREAMS", .string(key), pending ? "0" : ">"]
        let command = RedisCommand("XREADGROUP", args)
        let reply: RESPValue
        if let connection { reply = try await connection.send(command) } else { reply = try await redis.send(command) }
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        return Self.entries(first[1].array ?? [])
    }

    /// Runs `body` with a connection of its own, for blocking reads.
    public func withBlockingConnection<T>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        try await redis.withDedicatedConnection { try await body($0) }
    }

    /// Entries pending longer than `minIdle` for any consumer of `group` (a dead one's),
    /// now `consumer`'s; entries trimmed meanwhile come back without content.
    public func claimStale(group: String, consumer: String, minIdle: Duration, count: Int) async throws -> [Entry] {
        let reply = try await redis.send(
            RedisCommand(
                "XAUTOCLAIM",
                [.string(key), .string(group), .string(consumer), .integer(minIdle.milliseconds), "0-0", "COUNT", .integer(Int64(count))]))
        guard let parts = reply.array, parts.count >= 2 else { return [] }
        var out = Self.entries(parts[1].array ?? [])
        // Redis 7 removes entries deleted from the stream from the PEL itself and lists them.
        if parts.count >= 3 { out += (parts[2].array ?? []).compactMap(\.string).map { Entry(id: $0, json: nil) } }
        return out
    }

    static func entries(_ values: [RESPValue]) -> [Entry] {
        values.compactMap { value in
            guard let pair = value.array, pair.count == 2, let id = pair[0].string else { return nil }
            guard let fields = pair[1].array, fields.count >= 2, let bytes = fields[1].buffer else {
                return Entry(id: id, json: nil)
            }
            return Entry(id: id, json: bytes)
        }
    }

    /// Acknowledges `ids` for `group` (`XACK`): they leave its pending list, and the trimming
    /// may drop them once every group has.
    public func ack(group: String, ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await redis.send(RedisCommand("XACK", [.string(key), .string(group)] + ids.map { .string($0) }))
    }

    /// Removes `consumer` from `group` unless it holds pending entries (`XGROUP DELCONSUMER`
    /// would drop them unacknowledged). Only for a consumer name no one else reads under.
    @discardableResult
    public func removeConsumerIfIdle(group: String, consumer: String) async throws -> Bool {
        let pending = try await redis.send(
            RedisCommand("XPENDING", [.string(key), .string(group), "-", "+", "1", .string(consumer)]))
        guard (pending.array ?? []).isEmpty else { return false }
        _ = try await redis.send(RedisCommand("XGROUP", ["DELCONSUMER", .string(key), .string(group), .string(consumer)]))
        return true
    }

    /// Every consumer group of the stream.
    public func groups() async throws -> [Group] {
        let reply: RESPValue
        do { reply = try await redis.send(RedisCommand("XINFO", ["GROUPS", .string(key)])) } catch let error as RedisError
            where error.serverErrorPrefix == "ERR"
        {
            return []  // no stream yet
        }
        return (reply.array ?? []).compactMap { value in
            let fields = Self.fields(value)
            guard let name = fields["name"]?.string else { return nil }
            return Group(
                name: name, consumers: Int(fields["consumers"]?.int ?? 0), pending: Int(fields["pending"]?.int ?? 0),
                lastDeliveredID: fields["last-delivered-id"]?.string ?? "0-0",
                entriesRead: fields["entries-read"]?.int.map(Int.init), lag: fields["lag"]?.int.map(Int.init))
        }
    }

    public func removeGroup(_ name: String) async throws -> Bool {
        try await redis.send(RedisCommand("XGROUP", ["DESTROY", .string(key), .string(name)])).int == 1
    }

    /// The stream's length, entries ever added and first entry's id (`XINFO STREAM`).
    public func streamInfo() async throws -> (length: Int, entriesAdded: Int, firstID: String?)? {
        let reply: RESPValue
        do { reply = try await redis.send(RedisCommand("XINFO", ["STREAM", .string(key)])) } catch let error as RedisError
            where error.serverErrorPrefix == "ERR"
        {
            return nil
        }
        let fields = Self.fields(reply)
        return (
            Int(fields["length"]?.int ?? 0), Int(fields["entries-added"]?.int ?? 0), fields["first-entry"]?.array?.first?.string
        )
    }

    /// The oldest entry `group` has not acknowledged, or nil when none is pending.
    public func oldestPending(_ group: String) async throws -> String? {
        let reply = try await redis.send(RedisCommand("XPENDING", [.string(key), .string(group)]))
        guard let parts = reply.array, parts.count >= 2, (parts[0].int ?? 0) > 0 else { return nil }
        return parts[1].string
    }

    /// Sets `group`'s read counter (`XGROUP SETID … ENTRIESREAD`, Redis 7), keeping its position.
    public func setReadCounter(group: String, lastID: String, entriesRead: Int) async throws {
        _ = try await redis.send(
            RedisCommand("XGROUP", ["SETID", .string(key), .string(group), .string(lastID), "ENTRIESREAD", .integer(Int64(entriesRead))]))
    }

    /// Removes entries older than `minID` (`XTRIM MINID ~`); returns how many.
    public func trim(before minID: String) async throws -> Int {
        Int(try await redis.send(RedisCommand("XTRIM", [.string(key), "MINID", "~", .string(minID)])).int ?? 0)
    }

    static func fields(_ value: RESPValue) -> [String: RESPValue] {
        let flat = value.array ?? []
        var out: [String: RESPValue] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            if let name = flat[index].string { out[name] = flat[index + 1] }
        }
        return out
    }
}

/// A stream id (`<ms>-<seq>`) as a comparable pair.
public struct StreamID: Sendable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    public static func < (a: StreamID, b: StreamID) -> Bool { (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence) }
    public var description: String { "\(milliseconds)-\(sequence)" }
}
