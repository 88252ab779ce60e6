import RedisClient
import RelayCore

/// A worker identity's lease in Redis (`node:<name>`, see docs/KEY-LAYOUT.md), and the
/// recovery of what a crashed earlier run under that identity left claimed.
extension MessageQueue {
    /// The answer of `acquireIdentity`.
    public enum IdentityClaim: Sendable, Equatable {
        case acquired
        /// Another process holds it: its token and how long its lease still runs (ms).
        case held(by: String, remainingMilliseconds: Int64)
    }

    /// Takes the identity `name` for the process `token` if it is free, or held by
    /// `deadHolder` (a token the caller proved to belong to a dead process).
    public func acquireIdentity(
        _ name: String, token: String, lease: Duration, deadHolder: String? = nil
    ) async throws(QueueError) -> IdentityClaim {
        let reply = try await call(
            "hk_node_acquire", keys: [keys.node(name)],
            [.string(token), .integer(lease.milliseconds), .string(deadHolder ?? "")])
        guard let parts = reply.array, let taken = parts.first?.int else { throw .malformed("hk_node_acquire returned \(reply)") }
        if taken == 1 { return .acquired }
        guard parts.count == 3, let holder = parts[1].string else { throw .malformed("hk_node_acquire returned \(reply)") }
        return .held(by: holder, remainingMilliseconds: parts[2].int ?? 0)
    }

    /// The answer of `renewIdentity`.
    public enum IdentityRenewal: Sendable, Equatable {
        case renewed
        /// It had lapsed (Redis was out of reach for longer than the lease) and was taken again.
        case retaken
        /// Another process holds it now: this one must stop using it.
        case lost
    }

    public func renewIdentity(_ name: String, token: String, lease: Duration) async throws(QueueError) -> IdentityRenewal {
        let reply = try await call("hk_node_renew", keys: [keys.node(name)], [.string(token), .integer(lease.milliseconds)])
        switch reply.int {
        case 1: return .renewed
        case 2: return .retaken
        case 0: return .lost
        default: throw .malformed("hk_node_renew returned \(reply)")
        }
    }

    /// Marks this worker's egress IPs live for `lease` (nil: no longer — a graceful stop),
    /// so retries pinned to them wait for them (`hk_claim`).
    public func markEgressLive(_ egress: [EgressID], for lease: Duration?) async throws(QueueError) {
        guard !egress.isEmpty else { return }
        _ = try await call(
            "hk_egress_live", keys: [keys.egressLive], [.integer(lease?.milliseconds ?? 0)] + egress.map { .string($0.rawValue) })
    }

    /// Gives the identity back, if this process still holds it (graceful stop).
    public func releaseIdentity(_ name: String, token: String) async throws(QueueError) {
        _ = try await call("hk_node_release", keys: [keys.node(name)], [.string(token)])
    }

    /// What `recoverClaims` found.
    public struct Recovery: Sendable, Equatable {
        /// Entries claimed by the crashed run, now takeable at once.
        public var entries: Int
        /// Connection leases it held, freed.
        public var leases: Int

        public init(entries: Int, leases: Int) {
            self.entries = entries
            self.leases = leases
        }
    }

    /// Run by a worker right after it took its identity, before it claims anything: the
    /// entries `consumer` still has claimed in the destinations of `pools` (its previous
    /// run died holding them) are made takeable now instead of after the claim timeout,
    /// and the connection leases it held are freed. Each destination with work is in
    /// `ready:<pool>` (only hk_claim/hk_complete remove it, once its stream is empty), so
    /// walking that index (`ZSCAN`, safe while it changes) finds every stream.
    public func recoverClaims(consumer: String, pools: [PoolName]) async throws(QueueError) -> Recovery {
        let keys = self.keys
        let leases =
            try await call(
                "hk_recover_leases", keys: [keys.leases(consumer: consumer)],
                [.string(keys.connectionsStem)]
            ).int ?? 0
        var entries: Int64 = 0
        for pool in pools {
            var cursor = "0"
            repeat {
                let reply: RESPValue
                do {
                    reply = try await redis.send(RedisCommand("ZSCAN", [.string(keys.ready(pool: pool)), .string(cursor), "COUNT", "200"]))
                } catch {
                    throw Self.queueError(error)
                }
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
                    throw .malformed("ZSCAN returned \(reply)")
                }
                cursor = next
                // Members and scores alternate.
                let domains = stride(from: 0, to: flat.count, by: 2).compactMap { flat[$0].string.map(DomainName.init(rawValue:)) }
                if !domains.isEmpty {
                    let declared =
                        [keys.ready(pool: pool)]
                        + domains.flatMap { [keys.stream(pool: pool, domain: $0), keys.scanned(pool: pool, domain: $0)] }
                    entries +=
                        try await call("hk_recover", keys: declared, [.string(consumer)] + domains.map { .string($0.rawValue) }).int ?? 0
                }
            } while cursor != "0"
        }
        return Recovery(entries: Int(entries), leases: Int(leases))
    }
}
