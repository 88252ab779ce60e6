import Logging
import NIOCore
import Queue
import RedisClient
import RelayCore
import ServiceLifecycle

/// The webhook dispatcher (role `webhooks`): reads the events stream through the consumer
/// group `webhooks`, appends each event to the outboxes of its account's endpoints that
/// want it (with the acknowledgement, in one step), and sends every endpoint's outbox in
/// its own task while it holds the endpoint's lease — so any number of dispatchers share
/// the endpoints, one sends for an endpoint at a time, and a killed one's endpoints are
/// taken over when its leases lapse. It also trims the stream to what every group has
/// acknowledged (``WebhookTrimmer``).
public struct WebhookDispatcher: Service {
    public static let group = "webhooks"
    /// Events per POST.
    public static let batchSize = 100

    let settings: WebhookSettings
    let store: WebhookStore
    let events: EventGroups
    let poster: WebhookPoster
    let trimmer: WebhookTrimmer
    let consumer: String
    let logger: Logger

    /// `consumer`: this process's name in the group (node name and pid: unique per process;
    /// a dead process's pending entries are claimed by the others after `lease_time`).
    public init(
        settings: WebhookSettings, eventSettings: EventsSettings, forbiddenNetworks: [IPNetwork], store: WebhookStore, events: EventGroups,
        consumer: String, group: EventLoopGroup, logger: Logger
    ) throws {
        self.settings = settings
        self.store = store
        self.events = events
        self.poster = try WebhookPoster(
            group: group, screen: WebhookURLScreen(forbiddenNetworks: forbiddenNetworks), timeout: settings.requestTimeout.duration)
        self.trimmer = WebhookTrimmer(events: events, retention: eventSettings.retention.duration, logger: logger)
        self.consumer = consumer
        self.logger = logger
    }

    var backoff: WebhookBackoff {
        WebhookBackoff(
            initial: settings.retryInitial.duration, maximum: settings.retryMax.duration, giveUpAfter: settings.retryFor.duration)
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await events.ensure(Self.group)
                break
            } catch {
                logger.warning("webhooks: cannot create the consumer group on the events stream (\(error)); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        logger.notice("webhook dispatcher running as consumer \(consumer)")
        let (kicks, kick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask { await fanOutLoop(kick: kick) }
                tasks.addTask { await trimmer.run(consumerGroup: Self.group) }
                tasks.addTask {
                    while !Task.isCancelled {
                        kick.yield()
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                let running = RunningSenders()
                for await _ in kicks {
                    await schedule(running: running, tasks: &tasks, kick: kick)
                }
                tasks.cancelAll()
            }
        } onGracefulShutdown: {
            kick.finish()
        }
    }

    // MARK: Fan-out

    private func fanOutLoop(kick: AsyncStream<Void>.Continuation) async {
        var pendingFirst = true
        while !Task.isCancelled {
            do {
                try await events.withBlockingConnection { connection in
                    try await fanOutRounds(on: connection, pendingFirst: &pendingFirst, kick: kick)
                }
            } catch {
                logger.warning("webhooks: reading or fanning out events failed (\(error)); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Reads and fans out until cancelled: first this consumer's own pending entries (a
    /// restart under the same name), then, every few seconds, entries a dead consumer left
    /// pending for longer than a lease, and new entries in between.
    private func fanOutRounds(on connection: RedisConnection, pendingFirst: inout Bool, kick: AsyncStream<Void>.Continuation) async throws {
        var lastClaim = ContinuousClock.now
        var lastGapCheck = ContinuousClock.now - .seconds(10)
        while !Task.isCancelled {
            var entries: [EventGroups.Entry] = []
            if pendingFirst {
                entries = try await events.read(group: Self.group, consumer: consumer, count: Self.batchSize, pending: true)
                if entries.isEmpty { pendingFirst = false }
            } else if ContinuousClock.now - lastClaim > .seconds(5) {
                lastClaim = .now
                entries = try await events.claimStale(
                    group: Self.group, consumer: consumer, minIdle: settings.leaseTime.duration, count: Self.batchSize)
            }
            if entries.isEmpty {
                if ContinuousClock.now - lastGapCheck > .seconds(2) {
                    lastGapCheck = .now
                    await trimmer.countCeilingLoss(consumerGroup: Self.group)
                }
                entries = try await events.read(
                    group: Self.group, consumer: consumer, count: Self.batchSize, block: .seconds(1), on: connection)
            }
            guard !entries.isEmpty else { continue }
            try await fanOut(entries)
            kick.yield()
            if entries.count < Self.batchSize { try? await Task.sleep(for: EventGroups.gatherPause) }
        }
    }

    private func fanOut(_ entries: [EventGroups.Entry]) async throws {
        let endpoints = try await store.all()
        var index: [String: Int] = [:]
        var used: [String] = []
        var batch: [WebhookStore.FanOutEntry] = []
        var lost = 0
        for entry in entries {
            // Without endpoints every event is only acknowledged: nothing to decode, and
            // nothing trimmed meanwhile was anyone's.
            guard !endpoints.isEmpty, let json = entry.json, let event = entry.event else {
                if !endpoints.isEmpty { lost += 1 }
                batch.append(.init(streamID: entry.id, outboxes: [], payload: []))
                continue
            }
            let targets = endpoints.filter { $0.account == event.account && $0.wants(event.event.rawValue) }
            var outboxes: [Int] = []
            for endpoint in targets {
                if index[endpoint.id] == nil {
                    index[endpoint.id] = used.count
                    used.append(endpoint.id)
                }
                outboxes.append(index[endpoint.id]!)
            }
            batch.append(.init(streamID: entry.id, outboxes: outboxes, payload: targets.isEmpty ? [] : Self.item(id: entry.id, json: json)))
        }
        if lost > 0 {
            logger.error("webhooks: \(lost) pending event(s) were trimmed from the stream before they were fanned out (events.max_length)")
            WebhookMetrics.lost(lost, where: .stream)
        }
        for (endpoint, dropped) in try await store.fanOut(group: Self.group, entries: batch, endpoints: used, maxOutbox: settings.maxOutbox)
        {
            logger.error(
                "webhooks: the outbox of endpoint \(endpoint) is full (webhooks.max_outbox \(settings.maxOutbox)): dropped its \(dropped) oldest event(s)"
            )
            WebhookMetrics.lost(dropped, where: .outbox)
        }
    }

    /// The outbox item: the event's JSON object with `event_id` (its stream id) first.
    static func item(id: String, json: ByteBuffer) -> [UInt8] {
        Array("{\"event_id\":\"\(id)\"".utf8) + (json.readableBytes > 2 ? Array(",".utf8) : []) + Array(json.readableBytesView.dropFirst())
    }

    // MARK: Senders

    /// Starts a sender for every endpoint with due work this process can lease, up to
    /// `webhooks.concurrency` at once.
    private func schedule(running: RunningSenders, tasks: inout DiscardingTaskGroup, kick: AsyncStream<Void>.Continuation) async {
        guard let endpoints = try? await store.all() else { return }
        let now = WallClock.nowMilliseconds()
        for endpoint in endpoints {
            guard await running.count < settings.concurrency, await !running.contains(endpoint.id) else { continue }
            guard (try? await store.outboxLength(endpoint.id)) ?? 0 > 0 else { continue }
            if let state = try? await store.retryState(endpoint.id), state.next > now { continue }
            let token = consumer + "#" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            guard (try? await store.acquireLease(endpoint.id, token: token, milliseconds: settings.leaseTime.milliseconds)) == true else {
                continue
            }
            await running.insert(endpoint.id)
            tasks.addTask {
                await WebhookSender(dispatcher: self, endpoint: endpoint, token: token).run()
                await running.remove(endpoint.id)
                kick.yield()
            }
        }
    }
}

/// The endpoints this process is sending to.
actor RunningSenders {
    private var ids: Set<String> = []
    var count: Int { ids.count }
    func contains(_ id: String) -> Bool { ids.contains(id) }
    func insert(_ id: String) { ids.insert(id) }
    func remove(_ id: String) { ids.remove(id) }
}
