import LogStore
import Logging
import Queue
import RedisClient
import RelayCore
import ServiceLifecycle

/// The archiver (role `archiver`): copies the events stream into the SQLite log store.
///
/// It reads through the consumer group `archiver`, so the stream keeps every event until
/// the archiver has acknowledged it (the trimming by acknowledgement, `WebhookTrimmer`),
/// and acknowledges a batch only after its SQLite transaction committed: at least once
/// into the store, and the store ignores a stream id it has (``SQLiteLogStore/append(_:)``)
/// — so exactly once, across kill -9.
///
/// ```
/// C: SET hk:archiver:lease <token> NX PX 10000                      (one SQLite archiver)
/// C: XREADGROUP GROUP archiver sqlite COUNT 500 STREAMS hk:events 0  (its pending, after a restart)
/// C: XREADGROUP GROUP archiver sqlite COUNT 500 BLOCK 1000 STREAMS hk:events >
///    … BEGIN; INSERT OR IGNORE …; stats upserts; COMMIT …
/// C: XACK hk:events archiver 1733500000000-0 …
/// ```
///
/// One archiver writes a SQLite file at a time: it holds a lease in Redis, renewed every
/// few seconds; a second one waits for it. All share one consumer name, so whichever holds
/// the lease reads the entries a killed predecessor left pending.
public struct Archiver: Service, CustomStringConvertible {
    public static let group = "archiver"
    static let consumer = "sqlite"
    static let leaseTime: Duration = .seconds(10)
    static let retentionInterval: Duration = .seconds(600)

    let store: SQLiteLogStore
    let events: EventGroups
    let lease: ExclusiveLease
    let settings: LogSettings
    let logger: Logger

    public var description: String { "Archiver(\(store.path))" }

    /// `token`: this process's name on the lease (node name and pid).
    public init(
        store: SQLiteLogStore, redis: RedisClient, queueConfiguration: QueueConfiguration, settings: LogSettings, token: String,
        logger: Logger
    ) {
        self.store = store
        self.events = EventGroups(redis: redis, configuration: queueConfiguration)
        self.lease = ExclusiveLease(redis: redis, key: queueConfiguration.keys.archiverLease, token: token)
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await runUntilCancelled()
        }
        await lease.release()
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
            logger.notice("archiver: archiving the events stream into \(store.path)")
            await whileLeased()
        }
    }

    /// Archives and sweeps until the lease is lost (or the task cancelled).
    private func whileLeased() async {
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

    private func archiveLoop() async {
        var pendingFirst = true
        while !Task.isCancelled {
            do {
                try await events.withBlockingConnection { connection in
                    while !Task.isCancelled {
                        var entries: [EventGroups.Entry] = []
                        if pendingFirst {
                            entries = try await events.read(
                                group: Self.group, consumer: Self.consumer, count: settings.batchSize, pending: true)
                            if entries.isEmpty { pendingFirst = false }
                        }
                        if entries.isEmpty {
                            entries = try await events.read(
                                group: Self.group, consumer: Self.consumer, count: settings.batchSize, block: .seconds(1), on: connection)
                        }
                        if !entries.isEmpty { try await archive(entries) }
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
        let inserted = try await store.appendInBackground(logged)
        try await events.ack(group: Self.group, ids: entries.map(\.id))
        logger.debug("archiver: stored \(inserted) new of \(entries.count) event(s)")
    }

    private func retentionLoop() async {
        while !Task.isCancelled {
            let now = WallClock.nowMilliseconds()
            let cutoff = now - settings.retention.milliseconds
            let statsCutoff = now - settings.statsRetention.milliseconds
            do {
                let deleted = try await SQLiteLogStore.offThread { [store] in
                    try store.deleteOlder(than: cutoff, statsOlderThan: statsCutoff)
                }
                if deleted > 0 { logger.info("archiver: deleted \(deleted) event(s) older than logs.retention") }
            } catch {
                logger.warning("archiver: deleting old events failed (\(error))")
            }
            try? await Task.sleep(for: Self.retentionInterval)
        }
    }
}
