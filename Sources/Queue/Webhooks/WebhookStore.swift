import Foundation
import NIOCore
import RedisClient
import RelayCore

/// Webhook endpoints, their outboxes, dead letters, retry state and leases in Redis
/// (docs/KEY-LAYOUT.md; the atomic steps are `Sources/Queue/Lua/hikyaku_webhooks.lua`).
public struct WebhookStore: Sendable {
    public let configuration: QueueConfiguration
    private let redis: RedisClient

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.configuration = configuration
    }

    private var keys: QueueKeys { configuration.keys }
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    // MARK: Endpoints

    /// Stores (adds or replaces) an endpoint.
    public func put(_ endpoint: WebhookEndpoint) async throws(QueueError) {
        let json: Data
        do { json = try Self.encoder.encode(endpoint) } catch { throw .malformed("cannot encode webhook: \(error)") }
        _ = try await redis.adminSend(RedisCommand("HSET", [.string(keys.webhooks), .string(endpoint.id), .bytes(Array(json))]))
    }

    /// Every endpoint (of every account), by id.
    public func all() async throws(QueueError) -> [WebhookEndpoint] {
        let reply = try await redis.adminSend(RedisCommand("HVALS", [.string(keys.webhooks)]))
        return (reply.array ?? []).compactMap { value in
            value.buffer.flatMap { try? JSONDecoder().decode(WebhookEndpoint.self, from: Data($0.readableBytesView)) }
        }.sorted { $0.id < $1.id }
    }

    public func endpoint(account: String, id: String) async throws(QueueError) -> WebhookEndpoint? {
        let reply = try await redis.adminSend(RedisCommand("HGET", [.string(keys.webhooks), .string(id)]))
        guard let buffer = reply.buffer,
            let endpoint = try? JSONDecoder().decode(WebhookEndpoint.self, from: Data(buffer.readableBytesView)),
            endpoint.account == account
        else { return nil }
        return endpoint
    }

    /// Removes the endpoint with its outbox, dead letters, state and lease.
    public func remove(_ id: String) async throws(QueueError) -> Bool {
        let reply = try await redis.adminCall(
            "hkw_endpoint_delete",
            keys: [keys.webhooks, keys.webhookOutbox(id), keys.webhookDead(id), keys.webhookState(id), keys.webhookLease(id)],
            [.string(id)])
        return reply.int == 1
    }

    /// Events waiting and dead letters of an endpoint.
    public func counts(_ id: String) async throws(QueueError) -> (waiting: Int, dead: Int) {
        let replies = try await redis.adminPipeline([
            RedisCommand("LLEN", [.string(keys.webhookOutbox(id))]), RedisCommand("LLEN", [.string(keys.webhookDead(id))]),
        ])
        return (Int(replies[0].int ?? 0), Int(replies[1].int ?? 0))
    }

    /// Moves every dead letter back to the outbox; returns (moved, dropped by the bound).
    public func replay(_ id: String, maxOutbox: Int) async throws(QueueError) -> (moved: Int, dropped: Int) {
        let reply = try await redis.adminCall(
            "hkw_replay", keys: [keys.webhookDead(id), keys.webhookOutbox(id), keys.webhookState(id)], [.integer(Int64(maxOutbox))])
        let parts = reply.array ?? []
        return (Int(parts.first?.int ?? 0), Int(parts.last?.int ?? 0))
    }

    // MARK: Fan-out

    /// One event for ``fanOut(group:entries:outboxes:maxOutbox:)``: its stream id, the
    /// indexes of the outboxes it goes to, and the item (`{"event_id":…}` JSON).
    public struct FanOutEntry: Sendable {
        public var streamID: String
        public var outboxes: [Int]
        public var payload: [UInt8]
        public init(streamID: String, outboxes: [Int], payload: [UInt8]) {
            self.streamID = streamID
            self.outboxes = outboxes
            self.payload = payload
        }
    }

    /// Appends the entries to the endpoints' outboxes and acknowledges them in `group`, in
    /// one step (`hkw_fanout`). Returns the endpoints whose outbox went over the bound and
    /// how many of their oldest items were dropped.
    public func fanOut(
        group: String, entries: [FanOutEntry], endpoints: [String], maxOutbox: Int
    ) async throws(QueueError) -> [(
        endpoint: String, dropped: Int
    )] {
        var args: [RESPArgument] = [.string(group), .integer(Int64(maxOutbox)), .integer(Int64(entries.count))]
        for entry in entries {
            args.append(.string(entry.streamID))
            args.append(.integer(Int64(entry.outboxes.count)))
            args += entry.outboxes.map { .integer(Int64($0 + 1)) }
            args.append(.bytes(entry.payload))
        }
        let reply = try await redis.adminCall("hkw_fanout", keys: [keys.events] + endpoints.map(keys.webhookOutbox), args)
        let parts = (reply.array ?? []).compactMap(\.int)
        return stride(from: 0, to: parts.count - 1, by: 2).map { (endpoints[Int(parts[$0]) - 1], Int(parts[$0 + 1])) }
    }

    // MARK: Sending

    /// The retry state of an endpoint: failures so far, first failure and next try (ms).
    public struct RetryState: Sendable, Equatable {
        public var attempts: Int
        public var firstFailure: Int64
        public var next: Int64
        public init(attempts: Int, firstFailure: Int64, next: Int64) {
            self.attempts = attempts
            self.firstFailure = firstFailure
            self.next = next
        }
    }

    public func retryState(_ id: String) async throws(QueueError) -> RetryState? {
        let reply = try await redis.adminSend(RedisCommand("HMGET", [.string(keys.webhookState(id)), "attempts", "first", "next"]))
        let values = (reply.array ?? []).map { $0.string.flatMap { Int64($0) } }
        guard values.count == 3, let attempts = values[0], let first = values[1], let next = values[2] else { return nil }
        return RetryState(attempts: Int(attempts), firstFailure: first, next: next)
    }

    /// The first `count` items of the outbox.
    public func head(_ id: String, count: Int) async throws(QueueError) -> [ByteBuffer] {
        let reply = try await redis.adminSend(RedisCommand("LRANGE", [.string(keys.webhookOutbox(id)), 0, .integer(Int64(count - 1))]))
        return (reply.array ?? []).compactMap(\.buffer)
    }

    public func outboxLength(_ id: String) async throws(QueueError) -> Int {
        Int(try await redis.adminSend(RedisCommand("LLEN", [.string(keys.webhookOutbox(id))])).int ?? 0)
    }

    /// How a POST ended, for ``settle(_:token:outcome:eventIDs:maxDead:)``.
    public enum Outcome: Sendable, Equatable {
        case delivered
        case dead
        case retry(RetryState)
    }

    /// Records a POST's outcome (`hkw_settle`). Returns the dead letters dropped by their
    /// bound. Throws ``QueueError`` (`LEASE …`) when the lease is no longer this sender's.
    @discardableResult
    public func settle(_ id: String, token: String, outcome: Outcome, eventIDs: [String], maxDead: Int) async throws(QueueError) -> Int {
        var args: [RESPArgument] = [.string(token)]
        switch outcome {
        case .delivered: args += ["ok", .integer(Int64(maxDead)), 0, 0, 0]
        case .dead: args += ["dead", .integer(Int64(maxDead)), 0, 0, 0]
        case .retry(let state):
            args += [
                "retry", .integer(Int64(maxDead)), .integer(Int64(state.attempts)), .integer(state.firstFailure), .integer(state.next),
            ]
        }
        args += eventIDs.map { .string($0) }
        let reply = try await redis.adminCall(
            "hkw_settle",
            keys: [keys.webhookOutbox(id), keys.webhookDead(id), keys.webhookState(id), keys.webhookLease(id)], args)
        return Int(reply.array?.last?.int ?? 0)
    }

    /// Takes the endpoint's lease for `token` if no one holds it (`SET NX PX`).
    public func acquireLease(_ id: String, token: String, milliseconds: Int64) async throws(QueueError) -> Bool {
        let reply = try await redis.adminSend(
            RedisCommand("SET", [.string(keys.webhookLease(id)), .string(token), "NX", "PX", .integer(milliseconds)]))
        return reply.string == "OK"
    }

    public func renewLease(_ id: String, token: String, milliseconds: Int64) async throws(QueueError) -> Bool {
        try await redis.adminCall("hkw_renew", keys: [keys.webhookLease(id)], [.string(token), .integer(milliseconds)]).int == 1
    }

    public func releaseLease(_ id: String, token: String) async {
        _ = try? await redis.adminCall("hkw_release", keys: [keys.webhookLease(id)], [.string(token)])
    }
}
