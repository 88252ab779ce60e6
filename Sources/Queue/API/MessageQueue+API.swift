import Foundation
import NIOCore
import RedisClient
import RelayCore

/// What the HTTP API keeps in Redis besides the queue: per-key request rates and
/// `Idempotency-Key` records (docs/KEY-LAYOUT.md, "HTTP API").
extension MessageQueue {
    /// Counts one request of API key `keyID` under `rate`: nil when it may go, else how long
    /// until one may (`hk_rate`, GCRA as for delivery limits).
    public func takeAPIRequest(keyID: String, rate: Rate) async throws(QueueError) -> Duration? {
        let reply = try await call(
            "hk_rate", keys: [keys.apiRate(keyID: keyID)], [.integer(rate.intervalMicroseconds), .integer(Int64(max(1, rate.burst)))])
        guard let wait = reply.int else { throw .malformed("hk_rate returned \(reply)") }
        return wait == 0 ? nil : .milliseconds(wait)
    }

    /// An `Idempotency-Key`'s record: in flight (`answer` nil) or answered.
    public struct IdempotencyRecord: Sendable, Codable, Equatable {
        /// SHA-256 of the request body: the same key with another body is a client error.
        public var requestHash: String
        /// HTTP status and JSON body of the first answer.
        public var status: Int?
        public var answer: String?

        enum CodingKeys: String, CodingKey { case requestHash = "request", status, answer }

        public init(requestHash: String, status: Int? = nil, answer: String? = nil) {
            self.requestHash = requestHash
            self.status = status
            self.answer = answer
        }
    }

    /// Claims `key` for a request (`SET … NX`): nil when this request is the first and
    /// must run (the record expires after `inFlightFor` should the node die meanwhile),
    /// else the record found.
    public func beginIdempotent(
        account: String, keyHash: String, requestHash: String, inFlightFor: Duration
    ) async throws(QueueError)
        -> IdempotencyRecord?
    {
        let key = keys.idempotency(account: account, keyHash: keyHash)
        let pending = try Self.encodeRecord(IdempotencyRecord(requestHash: requestHash))
        let set: RESPValue
        do {
            set = try await redis.send(
                RedisCommand("SET", [.string(key), .bytes(pending), "NX", "PX", .integer(inFlightFor.milliseconds)]))
        } catch {
            throw Self.queueError(error)
        }
        if set.string == "OK" { return nil }
        return try await idempotencyRecord(account: account, keyHash: keyHash)
            ?? IdempotencyRecord(requestHash: requestHash)
    }

    public func idempotencyRecord(account: String, keyHash: String) async throws(QueueError) -> IdempotencyRecord? {
        let reply: RESPValue
        do {
            reply = try await redis.send(RedisCommand("GET", [.string(keys.idempotency(account: account, keyHash: keyHash))]))
        } catch {
            throw Self.queueError(error)
        }
        guard let buffer = reply.buffer else { return nil }
        return try? JSONDecoder().decode(IdempotencyRecord.self, from: Data(buffer.readableBytesView))
    }

    /// Stores the first answer for `keepFor`.
    public func finishIdempotent(account: String, keyHash: String, record: IdempotencyRecord, keepFor: Duration) async throws(QueueError) {
        let key = keys.idempotency(account: account, keyHash: keyHash)
        do {
            _ = try await redis.send(
                RedisCommand("SET", [.string(key), .bytes(try Self.encodeRecord(record)), "PX", .integer(keepFor.milliseconds)]))
        } catch let error as QueueError {
            throw error
        } catch {
            throw Self.queueError(error)
        }
    }

    /// Forgets `key` (the request failed in a way worth retrying: nothing was stored).
    public func abandonIdempotent(account: String, keyHash: String) async {
        _ = try? await redis.send(RedisCommand("DEL", [.string(keys.idempotency(account: account, keyHash: keyHash))]))
    }

    static func encodeRecord(_ record: IdempotencyRecord) throws(QueueError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do { return Array(try encoder.encode(record)) } catch { throw .malformed("cannot encode an idempotency record: \(error)") }
    }
}
