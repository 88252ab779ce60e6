import NIOCore
import RedisClient
import RelayCore

/// `hikyaku redis move-queue`: moves the mail still queued in another Redis (the work
/// entries of every destination, the retries waiting in `deferred`, and each message's
/// envelope, body and recipient index) into this queue while its relays run — the second
/// half of moving a relay to a Redis Cluster without stopping its SMTP service (README,
/// "Moving to a Redis Cluster"; the first half copies the rest with `copy-keys --keys state`).
///
/// Per message the envelope and body are copied first (`DUMP`/`RESTORE`, kept when this
/// Redis has the queue id already), then each work item is added here (`hk_import_work`:
/// due now, or a retry at its time) and only then deleted there. A crash in between can
/// deliver those recipients twice, never lose them; running it again goes on where it
/// stopped. The source's workers must be stopped first (it refuses while one holds its
/// identity): a worker there could deliver what is being moved.
public struct QueueMove: Sendable {
    /// What a move did.
    public struct Outcome: Sendable, Equatable {
        /// Work entries added here (each one destination's recipients of one message).
        public var entries = 0
        /// Retries moved with their due time.
        public var retries = 0
        /// Messages (envelope and body) copied.
        public var messages = 0
        /// Work whose message no longer existed there (finished meanwhile): dropped.
        public var orphaned = 0
    }

    /// Entries read per round trip.
    static let chunk = 200

    let source: RedisClient
    let sourceKeys: QueueKeys
    let target: RedisClient
    let targetKeys: QueueKeys

    public init(source: RedisClient, sourceKeys: QueueKeys, target: RedisClient, targetKeys: QueueKeys) {
        self.source = source
        self.sourceKeys = sourceKeys
        self.target = target
        self.targetKeys = targetKeys
    }

    /// Moves everything; `progress` gets the running count after each chunk.
    public func run(progress: (Outcome) -> Void) async throws(QueueError) -> Outcome {
        let workers = try await source.scanKeys(matching: sourceKeys.prefix.globEscaped + "node:*")
        guard workers.isEmpty else {
            throw .rejected(
                "a worker still runs on the source (\(workers.count) identity lease(s), e.g. \(workers[0])): stop every worker there first")
        }
        var outcome = Outcome()
        var moved = Set<QueueID>()
        let streamStem = sourceKeys.streamStem
        for stream in try await source.scanKeys(matching: streamStem.globEscaped + "*") {
            // q:<pool>:<domain>; a pool name has no ':' (PoolName), a domain none either.
            let rest = stream.dropFirst(streamStem.count)
            guard let colon = rest.firstIndex(of: ":") else { continue }
            let pool = PoolName(rawValue: String(rest[..<colon]))
            let domain = DomainName(rawValue: String(rest[rest.index(after: colon)...]))
            try await moveEntries(of: stream, pool: pool, domain: domain, moved: &moved, outcome: &outcome, progress: progress)
        }
        try await moveRetries(moved: &moved, outcome: &outcome, progress: progress)
        return outcome
    }

    private func moveEntries(
        of stream: String, pool: PoolName, domain: DomainName, moved: inout Set<QueueID>, outcome: inout Outcome,
        progress: (Outcome) -> Void
    ) async throws(QueueError) {
        while true {
            let reply = try await source.adminSend(
                RedisCommand("XRANGE", [.string(stream), "-", "+", "COUNT", .integer(Int64(Self.chunk))]))
            guard let entries = reply.array, !entries.isEmpty else { break }
            var done: [String] = []
            var recipients = 0
            for entry in entries {
                guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let flat = pair[1].array else { continue }
                let fields = flat.compactMap(\.string)
                var map: [String: String] = [:]
                for index in stride(from: 0, to: fields.count - 1, by: 2) { map[fields[index]] = fields[index + 1] }
                guard let qid = map["q"].map(QueueID.init(rawValue:)), let list = map["r"] else {
                    done.append(id)
                    continue
                }
                let count = list.split(separator: "\n").count
                if try await copyMessage(qid, moved: &moved, outcome: &outcome) {
                    _ = try await target.adminCall(
                        "hk_import_work", keys: importKeys(pool: pool, domain: domain),
                        [.string("entry"), .string(domain.rawValue), .integer(Int64(count))] + fields.map { .string($0) })
                    outcome.entries += 1
                } else {
                    outcome.orphaned += 1
                }
                recipients += count
                done.append(id)
            }
            // Deleted there only once added here: a crash leaves at most a chunk to send twice.
            _ = try await source.adminPipeline([
                RedisCommand("XDEL", [.string(stream)] + done.map { .string($0) }),
                RedisCommand("DECRBY", [.string(sourceKeys.depth(pool: pool)), .integer(Int64(recipients))]),
            ])
            progress(outcome)
        }
        _ = try await source.adminPipeline([
            RedisCommand("DEL", [.string(stream)]),
            RedisCommand("ZREM", [.string(sourceKeys.ready(pool: pool)), .string(domain.rawValue)]),
        ])
    }

    private func moveRetries(moved: inout Set<QueueID>, outcome: inout Outcome, progress: (Outcome) -> Void) async throws(QueueError) {
        while true {
            let reply = try await source.adminSend(
                RedisCommand("ZRANGE", [.string(sourceKeys.deferred), "0", .integer(Int64(Self.chunk - 1)), "WITHSCORES"]))
            guard let flat = reply.array, flat.count >= 2 else { break }
            var done: [String] = []
            for index in stride(from: 0, to: flat.count - 1, by: 2) {
                guard let raw = flat[index].string, let score = flat[index + 1].string.flatMap(Double.init) else { continue }
                done.append(raw)
                guard let member = DeferredMember(rawValue: raw) else { continue }
                if try await copyMessage(member.queueID, moved: &moved, outcome: &outcome) {
                    _ = try await target.adminCall(
                        "hk_import_work", keys: importKeys(pool: member.pool, domain: member.domain),
                        [
                            .string("deferred"), .string(member.domain.rawValue), .integer(Int64(member.recipients.count)),
                            .integer(Int64(score)), .string(raw),
                        ])
                    outcome.retries += 1
                } else {
                    outcome.orphaned += 1
                }
                _ = try await source.adminSend(
                    RedisCommand("DECRBY", [.string(sourceKeys.depth(pool: member.pool)), .integer(Int64(member.recipients.count))]))
            }
            _ = try await source.adminSend(RedisCommand("ZREM", [.string(sourceKeys.deferred)] + done.map { .string($0) }))
            progress(outcome)
        }
    }

    private func importKeys(pool: PoolName, domain: DomainName) -> [String] {
        [
            targetKeys.stream(pool: pool, domain: domain), targetKeys.ready(pool: pool), targetKeys.wake(pool: pool),
            targetKeys.depth(pool: pool), targetKeys.deferred,
        ]
    }

    /// Copies a message's envelope, body and recipient index unless this move did already
    /// or this Redis has them (an earlier, interrupted move). False when the source no
    /// longer has the message.
    private func copyMessage(_ id: QueueID, moved: inout Set<QueueID>, outcome: inout Outcome) async throws(QueueError) -> Bool {
        if moved.contains(id) { return true }
        let names = [
            (sourceKeys.message(id), targetKeys.message(id)), (sourceKeys.body(id), targetKeys.body(id)),
            (sourceKeys.recipientIndex(id), targetKeys.recipientIndex(id)),
        ]
        let dumps = try await source.adminPipeline(
            names.flatMap { [RedisCommand("DUMP", [.string($0.0)]), RedisCommand("PTTL", [.string($0.0)])] })
        guard dumps[0].buffer != nil, dumps[2].buffer != nil else {
            let present = try await target.adminSend(RedisCommand("EXISTS", [.string(targetKeys.message(id))]))
            if present.int == 1 {
                moved.insert(id)
                return true
            }
            return false
        }
        var restores: [RedisCommand] = []
        for (index, (_, to)) in names.enumerated() {
            guard let payload = dumps[2 * index].buffer, let ttl = dumps[2 * index + 1].int, ttl != -2 else { continue }
            restores.append(RedisCommand("RESTORE", [.string(to), .integer(max(ttl, 0)), .bytes(payload)]))
        }
        for reply in try await target.adminPipeline(restores) {
            if case .error(let message) = reply, !message.hasPrefix("BUSYKEY") { throw .rejected("RESTORE of \(id) refused: \(message)") }
        }
        moved.insert(id)
        outcome.messages += 1
        return true
    }
}
