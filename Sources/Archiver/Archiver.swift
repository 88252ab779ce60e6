import HikyakuMetrics
import LogStore
import Logging
import Metrics
import Queue
import RedisClient
import RelayCore
import ServiceLifecycle

/// The archiver (role `archiver`): copies the events stream into the log store (a
/// ``LogWriter``: SQLite, or PostgreSQL).
///
/// It reads through the consumer group `archiver`, so the stream keeps every event until
/// an archiver has acknowledged it (the trimming by acknowledgement, `WebhookTrimmer`),
/// and acknowledges a batch only after the store's transaction committed: at least once
/// into the store, and the store ignores a stream id it has (``LogWriter/appendEvents(_:)``)
/// — so exactly once, across kill -9.
///
/// ```
/// C: SET hk:archiver:lease <token> NX PX 10000                      (SQLite: one archiver)
/// C: XREADGROUP GROUP archiver sqlite COUNT 500 STREAMS hk:events 0  (its pending, after a restart)
/// C: XREADGROUP GROUP archiver sqlite COUNT 500 BLOCK 1000 STREAMS hk:events >
///    … BEGIN; INSERT … ON CONFLICT DO NOTHING …; stats upserts; COMMIT …
/// C: XACK hk:events archiver 1733500000000-0 …
/// C: XAUTOCLAIM hk:events archiver relay2/4711 30000 0-0 COUNT 500  (PostgreSQL: a dead one's entries)
/// ```
///
/// ``Sharing/exclusive(token:)`` (SQLite: one writer per file): the archiver holds a
/// lease in Redis, renewed every few seconds; a second one waits for it. All share one
/// consumer name, so whichever holds the lease reads the entries a killed predecessor left
/// pending. ``Sharing/shared(consumer:)`` (PostgreSQL): any number run, each under its own
/// consumer name, and each takes over entries another left pending for
/// ``claimIdle`` (a dead archiver's), so none waits on a lease.
public struct Archiver: Service, CustomStringConvertible {
    public enum Sharing: Sendable {
        /// One archiver at a time (a lease in Redis held under `token`, node name and pid).
        case exclusive(token: String)
        /// Any number at once; `consumer` (node name and pid) is this one's name in the group.
        case shared(consumer: String)
    }

    public static let group = "archiver"
    static let exclusiveConsumer = "sqlite"
    static let leaseTime: Duration = .seconds(10)
    static let retentionInterval: Duration = .seconds(600)
    /// Entries pending this long for another consumer are taken over (shared mode): far
    /// longer than a batch takes, so a live archiver's are left alone.
    static let claimIdle: Duration = .seconds(30)
    static let claimInterval: Duration = .seconds(5)

    let store: any LogWriter
    let events: EventGroups
    let sharing: Sharing
    let lease: ExclusiveLease?
    let settings: LogSettings
    let logger: Logger

    public var description: String { "Archiver(\(store.location))" }

    var consumer: String {
        switch sharing {
        case .exclusive: Self.exclusiveConsumer
        case .shared(let name): name
        }
    }

    public init(
        store: any LogWriter, redis: RedisClient, queueConfiguration: QueueConfiguration, settings: LogSettings, sharing: Sharing,
        logger: Logger
    ) {
        self.store = store
        self.events = EventGroups(redis: redis, configuration: queueConfiguration)
        self.sharing = sharing
        if case .exclusive(let token) = sharing {
            lease = ExclusiveLease(redis: redis, key: queueConfiguration.keys.archiverLease, token: token)
        } else {
            lease = nil
        }
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await runUntilCancelled()
        }
        await lease?.release()
        // A shared archiver's name is its pid's: it will not be used again.
        if case .shared(let name) = sharing { _ = try? await events.removeConsumerIfIdle(group: Self.group, consumer: name) }
    }

    private func runUntilCancelled() async {
        while !Task.isCancelled {
            do {
                // From the stream's start: a first archiver also stores what the stream still holds.
                try await events.ensure(Self.group, from: "0")
                break
            } catch {
                logger.warning("archiver: cannot create the consumer group on the events stream (\(error)); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        guard let lease else {
            logger.notice("archiver: archiving the events stream into \(store.location) as consumer \(consumer)")
            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await archiveLoop() }
                tasks.addTask { await claimLoop() }
                tasks.addTask { await retentionLoop() }
            }
            return
        }
        var waitingLogged = false
        while !Task.isCancelled {
            guard (try? await lease.acquire(milliseconds: Self.leaseTime.milliseconds)) == true else {
                if !waitingLogged {
                    logger.notice("archiver: another archiver holds the lease of the log store; waiting")
                    waitingLogged = true
                }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            waitingLogged = false
            logger.notice("archiver: archiving the events stream into \(store.location)")
            await whileLeased(lease)
        }
    }

    /// Archives and sweeps until the lease is lost (or the task cancelled).
    private func whileLeased(_ lease: ExclusiveLease) async {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await archiveLoop() }
            tasks.addTask { await retentionLoop() }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.leaseTime / 3)
                    if Task.isCancelled { return }
                    do {
                        if try await lease.renew(milliseconds: Self.leaseTime.milliseconds) { continue }
                        logger.error("archiver: lost the lease of the log store to another archiver; stopping until it lapses")
                        return
                    } catch {
                        logger.warning("archiver: renewing the lease failed (\(error)); will try again")
                    }
                }
            }
            // The first to end (the renewal, on a lost lease; any, on cancellation) ends all.
            await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Shared mode: takes over what other consumers left pending for ``claimIdle`` and stores it.
    private func claimLoop() async {
        while !Task.isCancelled {
            do {
                while !Task.isCancelled {
                    let entries = try await events.claimStale(
                        group: Self.group, consumer: consumer, minIdle: Self.claimIdle, count: settings.batchSize)
                    if entries.isEmpty { break }
                    logger.info("archiver: took over \(entries.count) event(s) another archiver left pending")
                    try await archive(entries)
                }
            } catch {
                logger.warning("archiver: taking over pending events failed (\(error)); retrying")
            }
            try? await Task.sleep(for: Self.claimInterval)
        }
    }

    private func archiveLoop() async {
        var pendingFirst = true
        while !Task.isCancelled {
            do {
                try await events.withBlockingConnection { connection in
                    while !Task.isCancelled {
                        var entries: [EventGroups.Entry] = []
                        if pendingFirst {
                            entries = try await events.read(
                                group: Self.group, consumer: consumer, count: settings.batchSize, pending: true)
                            if entries.isEmpty { pendingFirst = false }
                        }
                        if entries.isEmpty {
                            entries = try await events.read(
                                group: Self.group, consumer: consumer, count: settings.batchSize, block: .seconds(1), on: connection)
                        }
                        if !entries.isEmpty { try await archive(entries) }
                        if entries.count < settings.batchSize { try? await Task.sleep(for: EventGroups.gatherPause) }
                    }
                }
            } catch {
                logger.warning("archiver: reading or storing events failed (\(error)); retrying")
                pendingFirst = true
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Stores a batch, then acknowledges it: after a crash between the two, the entries are
    /// read again as pending and the store skips them.
    func archive(_ entries: [EventGroups.Entry]) async throws {
        let logged = entries.compactMap { entry in entry.event.map { LoggedEvent(streamID: entry.id, event: $0) } }
        let lost = entries.count - logged.count
        if lost > 0 {
            logger.error(
                "archiver: \(lost) event(s) were trimmed from the stream (events.max_length) or unreadable before they were archived")
        }
        let inserted: Int
        do { inserted = try await store.appendEvents(logged) } catch {
            Counter(label: MetricNames.archiverStoreErrors).increment()
            throw error
        }
        try await events.ack(group: Self.group, ids: entries.map(\.id))
        Counter(label: MetricNames.archiverEvents).increment(by: inserted)
        Counter(label: MetricNames.archiverBatches).increment()
        if let newest = entries.compactMap({ StreamID($0.id) }).max() {
            let age = Double(WallClock.nowMilliseconds() - Int64(newest.milliseconds)) / 1000
            Gauge(label: MetricNames.archiverLag).record(max(0, age))
        }
        logger.debug("archiver: stored \(inserted) new of \(entries.count) event(s)")
    }

    private func retentionLoop() async {
        while !Task.isCancelled {
            let now = WallClock.nowMilliseconds()
            let cutoff = now - settings.retention.milliseconds
            let statsCutoff = now - settings.statsRetention.milliseconds
            do {
                let deleted = try await store.deleteExpired(before: cutoff, statsBefore: statsCutoff)
                if deleted > 0 { logger.info("archiver: deleted \(deleted) event(s) older than logs.retention") }
            } catch {
                logger.warning("archiver: deleting old events failed (\(error))")
            }
            try? await Task.sleep(for: Self.retentionInterval)
        }
    }
}
