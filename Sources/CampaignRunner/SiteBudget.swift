import Campaigns
import Queue
import RelayCore

/// A site's room this step: its rate times the lookahead and `max_queued_per_site`, less
/// what waits for its domains in the pool (`XLEN`, read once per domain per step).
struct SiteBudget {
    let pool: PoolName
    let settings: CampaignSettings
    let store: CampaignStore
    var left: [SiteName: Int] = [:]

    init(pool: PoolName, settings: CampaignSettings, store: CampaignStore) {
        self.pool = pool
        self.settings = settings
        self.store = store
    }

    /// The room left; computed the first time the site is asked about in the step.
    mutating func remaining(_ site: SiteName, domains: Set<DomainName>, rate: Rate?) async throws -> Int {
        if let known = left[site] { return max(known, 0) }
        let queued = try await store.queuedEntries(pool: pool, domains: Array(domains)).values.reduce(0, +)
        let byRate = SendPacing.siteAllowance(rate: rate, lookaheadMilliseconds: settings.lookahead.milliseconds, queued: queued)
        left[site] = min(byRate ?? Int.max, settings.maxQueuedPerSite - queued)
        return max(left[site]!, 0)
    }

    mutating func spend(_ site: SiteName) { left[site, default: 0] -= 1 }

    /// A domain newly seen for `site` after its room was computed: what waits for it counts too.
    mutating func add(_ domain: DomainName, to site: SiteName) async throws {
        guard left[site] != nil else { return }
        left[site]! -= try await store.queuedEntries(pool: pool, domains: [domain])[domain] ?? 0
    }
}

/// Row numbers waiting for a site, oldest first (a cheap queue: an array and a head).
struct RowQueue {
    private var rows: [Int] = []
    private var head = 0

    var isEmpty: Bool { head >= rows.count }
    var count: Int { rows.count - head }
    var first: Int? { isEmpty ? nil : rows[head] }

    mutating func append(_ row: Int) { rows.append(row) }

    /// A row taken and not sent (a quota): first again.
    mutating func putBack(_ row: Int) {
        if head > 0 {
            head -= 1
            rows[head] = row
        } else {
            rows.insert(row, at: 0)
        }
    }

    mutating func take(_ n: Int) -> [Int] {
        guard n > 0, !isEmpty else { return [] }
        let end = min(head + n, rows.count)
        let taken = Array(rows[head..<end])
        head = end
        if head > 4_096, head * 2 > rows.count {
            rows.removeFirst(head)
            head = 0
        }
        return taken
    }
}
