import ArgumentParser
import Foundation
import HikyakuApp
import RelayCore

/// `hikyaku queue`: what is waiting, where, and why.
struct QueueStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Show the queue: depth per pool, work per destination, suspensions, slow-downs, connections.",
        discussion: """
            Per egress pool: its depth (recipients accepted and not yet final), and per
            destination domain of the pool:
              QUEUED      work entries in the domain's stream (one per message)
              CLAIMED     of those, the entries a worker holds right now
              DEFERRED    work items waiting for a retry; RCPTS: their recipients
              NEXT RETRY  when the earliest of those is due
              READY       when a worker may next take the domain (later than now
                          while it waits out a rate limit, a suspension or claims)

            Then, for the whole cluster: suspensions in force (set by `hikyaku suspend` \
            or adaptive backoff) with time left and reason, slow-downs of an (IP, site) \
            rate, and connection leases in use per (IP, site).

            The queue is read with SCAN and pipelined reads, never KEYS, so it is safe \
            on a busy Redis; the counts are a snapshot taken over a few milliseconds.
            """)

    @OptionGroup var admin: AdminOptions
    @OptionGroup var scope: QueueScopeOptions

    @Option(help: ArgumentHelp("Show at most N destinations per pool, most work first.", valueName: "n"))
    var limit: Int?

    @Flag(help: "Print one JSON object instead of tables (times RFC 3339, durations in ms).")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        var report = try await admin.withSession { try await $0.queueReport(pool: scope.poolName, domain: scope.domainName) }
        var hidden: [PoolName: Int] = [:]
        if let limit {
            for index in report.pools.indices where report.pools[index].destinations.count > limit {
                hidden[report.pools[index].pool] = report.pools[index].destinations.count - limit
                report.pools[index].destinations = Array(report.pools[index].destinations.prefix(limit))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: RemoteText.escapingC1(json: try encoder.encode(report)), as: UTF8.self))
        } else {
            print(QueueReportText.render(report, hidden: hidden))
        }
    }
}
