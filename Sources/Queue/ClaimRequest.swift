import Logging
import RedisClient
import RelayCore

/// One claim's question to the queue: what `MessageQueue.claim` was asked, with the
/// per-IP keys and arguments every claim function takes and the parsing of its reply.
struct ClaimRequest: Sendable {
    let keys: QueueKeys
    let pool: PoolName
    let domain: DomainName
    let site: SiteName
    let consumer: String
    let batchSize: Int
    let claimTimeout: Duration
    let siteRate: Rate?
    let gather: Duration
    let holding: HeldConnection?
    let candidates: [EgressCandidate]
    /// The UTC day of the warm-up counters (the caller's clock).
    let day: Int64

    /// Per candidate IP: its seven limit keys, then the held connection's lease set.
    var candidateKeys: [String] {
        var declared: [String] = []
        for candidate in candidates {
            let unit = DeliveryUnit(egress: candidate.egress, site: site)
            declared += [
                keys.suspendedIP(unit: unit), keys.suspendedIPEverywhere(candidate.egress), keys.warmup(egress: candidate.egress, day: day),
                keys.connections(unit: unit), keys.connectionRate(unit: unit), keys.slowdown(unit: unit), keys.ipRate(unit: unit),
            ]
        }
        if let holding { declared.append(keys.connections(unit: DeliveryUnit(egress: holding.unit.egress, site: site))) }
        return declared
    }

    /// Per candidate IP: address, connections, rate, new-connection rate, warm-up cap.
    var candidateArguments: [RESPArgument] {
        candidates.flatMap { candidate -> [RESPArgument] in
            [
                .string(candidate.egress.rawValue), .integer(Int64(candidate.maxConnections)),
                .integer(candidate.rate?.intervalMicroseconds ?? 0), .integer(Int64(candidate.rate?.burst ?? 1)),
                .integer(candidate.connectionRate?.intervalMicroseconds ?? 0), .integer(Int64(candidate.connectionRate?.burst ?? 1)),
                .integer(Int64(candidate.warmupCap ?? -1)),
            ]
        }
    }

    /// `{domain, ip, lease, n_taken_over, {id, fields}...}` or `{'', wait_ms, reason}`;
    /// `lease` replaces the reply's (the split claim's entries step knows none).
    func result(of reply: RESPValue, function: String, logger: Logger, lease replacing: String? = nil) throws(QueueError) -> ClaimResult {
        guard let parts = reply.array, let first = parts.first?.string else { throw .malformed("\(function) returned \(reply)") }
        if first.isEmpty {
            let reason = parts.count > 2 ? parts[2].string ?? "" : ""
            guard let known = ClaimWaitReason(rawValue: reason) else {
                throw .malformed("\(function) gave an unknown wait reason '\(reason)'")
            }
            return .wait(milliseconds: parts.count > 1 ? parts[1].int ?? 0 : 0, reason: known)
        }
        guard parts.count >= 4, let ip = parts[1].string, let lease = replacing ?? parts[2].string, let takenOver = parts[3].int else {
            throw .malformed("\(function) returned \(reply)")
        }
        var items: [WorkItem] = []
        for entry in parts.dropFirst(4) {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array else { continue }
            var map: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count {
                if let name = fields[index].string { map[name] = fields[index + 1].string }
                index += 2
            }
            guard let qid = map["q"], let field = map["r"], let recipients = EnvelopeCoding.recipients(field: field) else {
                logger.error("malformed work entry; skipping", metadata: ["entry": "\(id)", "domain": "\(domain)"])
                continue
            }
            items.append(
                WorkItem(
                    entryID: id, queueID: QueueID(rawValue: qid),
                    recipients: recipients,
                    previousAttempts: Int(map["n"] ?? "0") ?? 0,
                    acceptedAt: Int64(map["t"] ?? "0") ?? 0))
        }
        return .batch(
            ClaimedBatch(
                pool: pool, domain: domain, unit: DeliveryUnit(egress: EgressID(rawValue: ip), site: site),
                lease: LeaseName(rawValue: lease), items: items, takenOver: Int(takenOver)))
    }
}
