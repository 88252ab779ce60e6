import NIOCore
import RedisClient
import RelayCore

/// Reads the events stream (`hikyaku events tail`).
public struct EventLog: Sendable {
    private let redis: RedisClient
    private let key: String

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.key = configuration.keys.events
    }

    /// Events after stream id `after` (`0` for the beginning), oldest first, at most `count`.
    /// With `block`, waits up to that long for new events when there are none (on a
    /// dedicated connection, as blocking reads must not share a pipelined one).
    public func read(after: String, count: Int, block: Duration? = nil) async throws -> [(id: String, event: DeliveryEvent)] {
        let reply: RESPValue
        if let block {
            let ms = block.milliseconds
            reply = try await redis.withDedicatedConnection { connection in
                try await connection.send(
                    RedisCommand(
                        "XREAD", ["COUNT", .integer(Int64(count)), "BLOCK", .integer(ms), "STREAMS", .string(key), .string(after)]))
            }
            guard let streams = reply.array, let first = streams.first?.array, first.count == 2, let entries = first[1].array else {
                return []
            }
            return Self.decodeEntries(entries)
        }
        reply = try await redis.send(RedisCommand("XRANGE", [.string(key), .string("(" + after), "+", "COUNT", .integer(Int64(count))]))
        return Self.decodeEntries(reply.array ?? [])
    }

    /// Events before stream id `before` (nil: the newest), newest first, at most `count`
    /// entries read (the HTTP API filters them).
    public func readBackward(before: String?, count: Int) async throws -> [(id: String, event: DeliveryEvent)] {
        let end = before.map { "(" + $0 } ?? "+"
        let reply = try await redis.send(RedisCommand("XREVRANGE", [.string(key), .string(end), "-", "COUNT", .integer(Int64(count))]))
        return Self.decodeEntries(reply.array ?? [])
    }

    static func decodeEntries(_ entries: [RESPValue]) -> [(id: String, event: DeliveryEvent)] {
        var out: [(id: String, event: DeliveryEvent)] = []
        for entry in entries {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array,
                fields.count >= 2, let bytes = fields[1].buffer, let event = try? EventCoding.decode(bytes)
            else { continue }
            out.append((id, event))
        }
        return out
    }
}
