import RedisClient
import RelayCore

extension QueueAdmin {
    /// Pipelined reads per round trip while gathering a report.
    private static let readsPerRoundTrip = 500

    /// A snapshot of the queue (`hikyaku queue`): per pool its depth and, per destination
    /// domain, queued and claimed entries, deferred items with their earliest retry, and
    /// the ready time; then every suspension, slow-down and connection lease in force
    /// (those are per site and IP, so `pool` and `domain` do not filter them).
    ///
    /// Keys are found with `SCAN`, the `deferred` set read with `ZSCAN`, and the rest read
    /// with pipelined `XLEN`, `XPENDING <stream> workers` (summary form), `ZSCORE`, `GET`,
    /// `PTTL` and `ZCOUNT conn:<unit> (now +inf`:
    ///
    /// ```
    /// C: SCAN 0 MATCH hk:q:* COUNT 1000          S: *2 $1 0 *1 $19 hk:q:default:a.test
    /// C: XLEN hk:q:default:a.test                S: :3
    /// C: XPENDING hk:q:default:a.test workers    S: *4 :1 $15 … $15 … *1 …
    /// C: ZSCORE hk:ready:default a.test          S: $13 1732842123456
    /// ```
    public func report(pool: PoolName? = nil, domain: DomainName? = nil) async throws(QueueError) -> QueueReport {
        let redis = client
        let now = try await redis.redisTime()

        // Destinations with a stream…
        var byPool: [PoolName: [DomainName: DestinationReport]] = [:]
        let streamStart = keys.streamStem
        let pattern = streamStart.globEscaped + (pool?.rawValue.globEscaped ?? "*") + ":" + (domain?.rawValue.globEscaped ?? "*")
        for key in try await redis.scanKeys(matching: pattern) {
            let rest = key.dropFirst(streamStart.count)
            guard let colon = rest.firstIndex(of: ":") else { continue }
            let (poolName, domainName) = (
                PoolName(rawValue: String(rest[..<colon])), DomainName(rawValue: String(rest[rest.index(after: colon)...]))
            )
            guard pool == nil || pool == poolName, domain == nil || domain == domainName else { continue }
            byPool[poolName, default: [:]][domainName] = DestinationReport(domain: domainName)
        }
        // …and with deferred work (scored by due time).
        try await redis.scanSortedSet(keys.deferred) { (page: [(member: String, score: Double)]) throws(QueueError) in
            for entry in page {
                guard let member = DeferredMember(rawValue: entry.member), member.matches(pool: pool, domain: domain) else { continue }
                var destination = byPool[member.pool]?[member.domain] ?? DestinationReport(domain: member.domain)
                destination.deferredItems += 1
                destination.deferredRecipients += member.recipients.count
                destination.nextRetryAt = min(destination.nextRetryAt ?? .max, Int64(entry.score))
                byPool[member.pool, default: [:]][member.domain] = destination
            }
        }

        var pools = Set(byPool.keys)
        if let pool { pools.insert(pool) } else { pools.formUnion(try await self.pools()) }

        // Stream lengths, claims, ready times.
        let pairs = byPool.flatMap { pool, destinations in destinations.keys.map { (pool, $0) } }
        for start in stride(from: 0, to: pairs.count, by: Self.readsPerRoundTrip) {
            let slice = pairs[start..<min(start + Self.readsPerRoundTrip, pairs.count)]
            var commands: [RedisCommand] = []
            for (pool, domain) in slice {
                let stream = keys.stream(pool: pool, domain: domain)
                commands.append(RedisCommand("XLEN", [.string(stream)]))
                commands.append(RedisCommand("XPENDING", [.string(stream), "workers"]))
                commands.append(RedisCommand("ZSCORE", [.string(keys.ready(pool: pool)), .string(domain.rawValue)]))
            }
            let replies = try await redis.adminPipeline(commands)
            for (offset, (pool, domain)) in slice.enumerated() {
                let base = offset * 3
                byPool[pool]?[domain]?.queued = Int(replies[base].int ?? 0)
                byPool[pool]?[domain]?.claimed = Int(replies[base + 1].array?.first?.int ?? 0)
                byPool[pool]?[domain]?.readyAt = replies[base + 2].string.flatMap(Double.init).map { Int64($0) }
            }
        }

        let poolNames = pools.sorted()
        let depths = try await redis.adminPipeline(poolNames.map { RedisCommand("GET", [.string(keys.depth(pool: $0))]) })
        let poolReports = zip(poolNames, depths).map { name, depth in
            PoolReport(
                pool: name, depth: Int(depth.int ?? 0),
                destinations: (byPool[name] ?? [:]).values.sorted {
                    ($0.queued + $0.deferredItems, $1.domain) > ($1.queued + $1.deferredItems, $0.domain)
                })
        }
        return QueueReport(
            time: now, pools: poolReports, suspensions: try await suspensions(),
            slowdowns: try await slowdowns(), leases: try await leases(now: now))
    }

    private func suspensions() async throws(QueueError) -> [SuspensionReport] {
        let start = keys.suspendedStem
        let found = try await client.scanKeys(matching: start.globEscaped + "*")
        var out: [SuspensionReport] = []
        for (key, value, ttl) in try await valuesAndTTLs(found) {
            let rest = key.dropFirst(start.count)
            let target: SuspensionTarget
            if rest.hasPrefix("site:") {
                target = .site(SiteName(rawValue: String(rest.dropFirst(5))))
            } else if rest.hasPrefix("ipall:") {
                target = .ip(EgressID(rawValue: String(rest.dropFirst(6))), site: nil)
            } else if rest.hasPrefix("ip:"), let unit = DeliveryUnit(rawValue: String(rest.dropFirst(3))) {
                target = .ip(unit.egress, site: unit.site)
            } else {
                continue
            }
            out.append(SuspensionReport(target: target, remainingMilliseconds: ttl, storedValue: value))
        }
        return out.sorted { $0.target.description < $1.target.description }
    }

    private func slowdowns() async throws(QueueError) -> [SlowdownReport] {
        let start = keys.slowdownStem
        let found = try await client.scanKeys(matching: start.globEscaped + "*")
        var out: [SlowdownReport] = []
        for (key, value, ttl) in try await valuesAndTTLs(found) {
            guard let unit = DeliveryUnit(rawValue: String(key.dropFirst(start.count))), let factor = value.flatMap(Double.init) else {
                continue
            }
            out.append(SlowdownReport(ip: unit.egress, site: unit.site, factor: factor, remainingMilliseconds: ttl))
        }
        return out.sorted { ($0.site, $0.ip) < ($1.site, $1.ip) }
    }

    private func leases(now: Int64) async throws(QueueError) -> [LeaseReport] {
        let start = keys.connectionsStem
        let found = try await client.scanKeys(matching: start.globEscaped + "*")
        var out: [LeaseReport] = []
        for first in stride(from: 0, to: found.count, by: Self.readsPerRoundTrip) {
            let slice = Array(found[first..<min(first + Self.readsPerRoundTrip, found.count)])
            // Scores are lease expiry times (ms, Redis clock); expired ones do not count.
            let counts = try await client.adminPipeline(slice.map { RedisCommand("ZCOUNT", [.string($0), .string("(\(now)"), "+inf"]) })
            for (key, count) in zip(slice, counts) {
                guard let inUse = count.int, inUse > 0, let unit = DeliveryUnit(rawValue: String(key.dropFirst(start.count))) else {
                    continue
                }
                out.append(LeaseReport(ip: unit.egress, site: unit.site, inUse: Int(inUse)))
            }
        }
        return out.sorted { ($0.site, $0.ip) < ($1.site, $1.ip) }
    }

    /// `GET` and `PTTL` of each key, pipelined; keys that vanished meanwhile are left out.
    private func valuesAndTTLs(_ keys: [String]) async throws(QueueError) -> [(key: String, value: String?, ttl: Int64)] {
        var out: [(key: String, value: String?, ttl: Int64)] = []
        for first in stride(from: 0, to: keys.count, by: Self.readsPerRoundTrip) {
            let slice = Array(keys[first..<min(first + Self.readsPerRoundTrip, keys.count)])
            let replies = try await client.adminPipeline(
                slice.flatMap {
                    [RedisCommand("GET", [.string($0)]), RedisCommand("PTTL", [.string($0)])]
                })
            for (index, key) in slice.enumerated() {
                guard let ttl = replies[2 * index + 1].int, ttl != -2 else { continue }
                out.append((key, replies[2 * index].string, ttl))
            }
        }
        return out
    }
}
