import Logging
import Queue
import RedisClient
import RelayCore
import ServiceLifecycle

/// Per-campaign statistics from the events stream: the consumer group `campaigns` reads
/// every event, and those whose `metadata.campaign` names a campaign are counted into its
/// `camp:<id>:stats` hash — by kind (`delivered`, `deferred`, `bounced`, `expired`,
/// `complaint`, …) and by kind and site (`delivered|docomo`). The increments and the
/// `XACK` go in one `MULTI`, so a crash never counts an event twice. `queued` and
/// `suppressed` are counted by the enqueue itself.
///
/// One counter runs at a time (a lease, `camp:@counter:lease`), under one consumer name,
/// so whichever runner holds it reads what a killed predecessor left pending.
public struct CampaignCounter: Service, CustomStringConvertible {
    public static let group = "campaigns"
    static let consumer = "counter"
    static let leaseTime: Int64 = 10_000
    /// Counted elsewhere (`queued`, `suppressed`) or not about a recipient's outcome.
    static let ignored: Set<String> = ["accepted", "suppressed", "backoff", "paused", "resumed"]
    static let campaignField = Array("\"campaign\"".utf8)
    static let batchSize = 500

    let events: EventGroups
    let store: CampaignStore
    let lease: ExclusiveLease
    let logger: Logger

    public var description: String { "CampaignCounter" }

    public init(redis: RedisClient, queueConfiguration: QueueConfiguration, token: String, logger: Logger) {
        self.events = EventGroups(redis: redis, configuration: queueConfiguration)
        self.store = CampaignStore(redis: redis, configuration: queueConfiguration)
        self.lease = ExclusiveLease(redis: redis, key: queueConfiguration.keys.campaignCounterLease, token: token)
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        await lease.release()
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                try await events.ensure(Self.group, from: "$")
                try await events.withBlockingConnection { connection in
                    var pendingFirst = true
                    var renewed: Int64 = 0
                    while !Task.isCancelled {
                        let now = WallClock.nowMilliseconds()
                        if now - renewed > Self.leaseTime / 3 {
                            guard try await lease.acquire(milliseconds: Self.leaseTime) else {
                                pendingFirst = true
                                try? await Task.sleep(for: .seconds(1))
                                continue
                            }
                            renewed = now
                        }
                        var entries: [EventGroups.Entry] = []
                        if pendingFirst {
                            entries = try await events.read(
                                group: Self.group, consumer: Self.consumer, count: Self.batchSize, pending: true)
                            if entries.isEmpty { pendingFirst = false }
                        }
                        if entries.isEmpty {
                            entries = try await events.read(
                                group: Self.group, consumer: Self.consumer, count: Self.batchSize, block: .seconds(1), on: connection)
                        }
                        if !entries.isEmpty { try await count(entries) }
                        if entries.count < Self.batchSize { try? await Task.sleep(for: EventGroups.gatherPause) }
                    }
                }
            } catch {
                logger.warning("campaigns: counting events failed (\(error)); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func count(_ entries: [EventGroups.Entry]) async throws {
        var increments: [String: [String: Int]] = [:]
        for entry in entries {
            // Most events are not of a campaign: no `"campaign"` in the bytes, nothing to decode.
            guard entry.mentions(Self.campaignField), let event = entry.event, let campaign = event.metadata?["campaign"] else {
                continue
            }
            let kind = event.event.rawValue
            if Self.ignored.contains(kind) { continue }
            increments[campaign, default: [:]][kind, default: 0] += 1
            if let site = event.site?.rawValue { increments[campaign, default: [:]][kind + "|" + site, default: 0] += 1 }
        }
        try await store.count(increments, acknowledging: entries.map(\.id), group: Self.group, stream: events.key)
    }
}
