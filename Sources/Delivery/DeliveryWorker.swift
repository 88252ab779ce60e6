import BounceClassification
import DNSResolver
import EventLoopExecution
import Logging
import NIOCore
import NIOSSL
import OutboundTLS
import Queue
import RelayCore
import SMTPProtocol
import Secrets
import ServiceLifecycle

/// A delivery worker process's `Service`: `delivery.concurrency` loops that each take a due
/// destination of one of this host's pools, find its site (MX rollup), claim a batch from
/// the first of this host's egress IPs the site's limits allow (one atomic Redis call that
/// also charges the limits and takes a connection lease), deliver it, and record each
/// outcome; plus a loop that moves deferred work back when its retry is due. Stateless:
/// everything it holds is a claim or a lease in Redis that lapses if this worker dies —
/// or is taken back at once when it restarts under the same identity.
public struct DeliveryWorker: Service, CustomStringConvertible {
    var context: DeliveryContext
    /// This worker's name in the consumer group: its `NodeIdentity`, taken when it starts.
    var consumer: String
    private let nodeName: String
    private let egress: [EgressAddress]
    private let pools: [PoolName]
    private let sites: SiteResolver
    let backoff: BackoffRules

    /// How ServiceLifecycle names it in logs.
    public var description: String { "DeliveryWorker(\(consumer))" }

    /// `ingest`: this host's ingest settings (its listeners are never delivered to; its
    /// `max_received_headers` applies to queued messages too). `nodeName`: the base of this
    /// worker's identity (`node_name`, see `NodeIdentity`). `bounceRules`: the classification
    /// rules, loaded once at start (`bounces.rules_file`). `returnPaths`: the key file VERP
    /// return paths are signed with, when this worker has one.
    public init(
        settings: DeliverySettings, ingest: IngestSettings, hostname: String, nodeName: String, queue: MessageQueue, dns: DNSResolver,
        group: EventLoopGroup, bounceRules: BounceRules = .shipped, returnPaths: KeyringFile? = nil,
        suppression: SuppressionSettings = SuppressionSettings(), logger: Logger
    ) throws {
        let tls = try OutboundTLSContexts(settings: settings)
        var mtaSTS: MTASTSPolicyStore? = nil
        if settings.mtaSTS.enabled, let verified = tls.verified {
            let fetcher = HTTPSFetcher(
                group: group, tls: verified, port: settings.mtaSTS.httpsPort,
                timeout: .milliseconds(settings.mtaSTS.fetchTimeout.milliseconds))
            mtaSTS = MTASTSPolicyStore(dns: dns, fetcher: fetcher, capacity: settings.mtaSTS.cacheCapacity, logger: logger)
        }
        self.nodeName = nodeName
        self.consumer = nodeName
        self.egress = try EgressAddress.all(settings: settings, hostname: hostname)
        self.pools = Array(Set(egress.map(\.pool))).sorted()
        self.sites = SiteResolver(settings: settings)
        self.backoff = BackoffRules(settings: settings)
        self.context = DeliveryContext(
            settings: settings, heloName: settings.heloName ?? hostname, node: nodeName, group: group, queue: queue,
            router: DestinationRouter(
                routes: settings.routes, mxPort: settings.mxPort, dns: dns,
                policy: DestinationPolicy(delivery: settings, listeners: ingest.listeners),
                localAddresses: LocalAddresses()),
            maxReceivedHeaders: ingest.maxReceivedHeaders,
            tls: tls, mtaSTS: mtaSTS, dane: settings.dane.enabled ? dns : nil, returnPaths: returnPaths, logger: logger,
            bounceClassifier: BounceClassifier(rules: bounceRules),
            senderNotifier: SenderNotifier(queue: queue, hostname: hostname, logger: logger),
            bounceSuppressor: BounceSuppressor(store: queue.suppressions, settings: suppression, logger: logger),
            backoff: backoff)
    }

    /// Takes an identity (waiting for Redis if need be), then delivers under it while
    /// keeping its lease, until graceful shutdown; then gives the identity back. If the
    /// lease is lost to another process, delivery stops and this throws: two processes
    /// must never claim under one name.
    public func run() async throws {
        let lease = context.settings.nodeLease.duration
        let identity: NodeIdentity
        do {
            identity = try await cancelWhenGracefulShutdown {
                try await NodeIdentity.acquire(nodeName: nodeName, queue: context.queue, lease: lease, logger: context.logger)
            }
        } catch is CancellationError {
            return
        }
        var named = self
        named.consumer = identity.name
        named.context.node = identity.name
        let worker = named
        let keeper = NodeIdentity.Keeper(
            identity: identity, queue: context.queue, lease: lease, egress: egress.map(\.id), logger: context.logger)
        // The first to end: delivery (graceful shutdown), or the keeper throwing (identity
        // lost), which cancels delivery and ends the process.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await keeper.run() }
            group.addTask { await worker.deliver() }
            try await group.next()
            group.cancelAll()
        }
        try? await context.queue.markEgressLive(egress.map(\.id), for: nil)
        await NodeIdentity.release(identity, queue: context.queue, logger: context.logger)
    }

    private func deliver() async {
        context.logger.notice(
            "delivery worker \(consumer) started: \(context.settings.concurrency) concurrent deliveries, pools \(pools.map(\.rawValue).joined(separator: ", ")), egress \(egress.map(\.id.rawValue).joined(separator: ", "))"
        )
        await recoverClaims()
        let scout = Scout()
        let siteLoops = SiteLoops(bound: context.settings.loopsPerSite)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    for index in 0..<context.settings.concurrency {
                        let loop = context.group.next()
                        // Pinned to one event loop: its connections are made there too (`any()`).
                        group.addTask(executorPreference: EventLoopTaskExecutor.of(loop)) {
                            await self.deliveryLoop(offset: index, scout: scout, siteLoops: siteLoops)
                        }
                    }
                    group.addTask { await self.retryLoop() }
                    group.addTask { await self.wakeLoop(scout: scout) }
                }
            } onGracefulShutdown: {
                Task { await scout.close() }
            }
        } onCancel: {
            Task { await scout.close() }
        }
        context.logger.notice("delivery worker \(consumer) stopped")
    }

    /// Before the first claim: what an earlier run under this identity left claimed (it was
    /// killed) becomes takeable now rather than after `claim_timeout`, and its connection
    /// leases stop counting against the sites' limits.
    private func recoverClaims() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let found = try await context.queue.recoverClaims(consumer: consumer, pools: pools)
                if found.entries > 0 || found.leases > 0 {
                    context.logger.notice(
                        "took back \(found.entries) item(s) claimed and \(found.leases) connection lease(s) held by an earlier run of \(consumer) that did not stop cleanly; items it was delivering may be delivered twice"
                    )
                }
                return
            } catch {
                context.logger.warning("cannot recover the claims of an earlier run of \(consumer): \(error); retrying in 1s")
                await pause(.seconds(1))
            }
        }
    }

    /// Take a due destination, claim, deliver — until graceful shutdown. A batch in progress
    /// is finished (its outcomes recorded) before the loop stops.
    private func deliveryLoop(offset: Int, scout: Scout, siteLoops: SiteLoops) async {
        var turn = offset
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Only one idle loop looks at a time (see `Scout`).
            guard await scout.enter() else { continue }
            // With no other idle loop here, a second due destination is for another worker.
            let passOn = await !scout.othersWaiting
            var soonest: Int64? = nil
            var found: (pool: PoolName, domain: DomainName, parked: [EgressID])? = nil
            for step in 0..<pools.count where found == nil {
                let pool = pools[(turn + step) % pools.count]
                do {
                    switch try await context.queue.next(pool: pool, hold: .seconds(10), passOn: passOn) {
                    case .idle(let nextDue):
                        if let nextDue { soonest = min(soonest ?? nextDue, nextDue) }
                    case .domain(let domain, let parked):
                        found = (pool, domain, parked)
                    }
                } catch {
                    context.logger.warning("cannot take work from the queue: \(error); retrying in 1s")
                    await pause(.seconds(1))
                }
            }
            turn += 1
            if let found {
                await scout.leave()
                await handle(pool: found.pool, domain: found.domain, parked: found.parked, scout: scout, siteLoops: siteLoops)
            } else {
                // Until the soonest destination is due; a wake token ends the nap sooner.
                let cap = Self.maxNap.milliseconds
                let wait = soonest.map { max(1, min(cap, $0 - WallClock.nowMilliseconds())) } ?? cap
                await scout.nap(for: .milliseconds(wait))
                await scout.leave()
            }
        }
    }

    /// Delivers a destination's due work: claims a batch, delivers it, and — while batches
    /// come back full (there is more) — claims the next one itself, keeping its SMTP
    /// connection open across batches as long as the claim picks the same egress IP (RFC
    /// 5321 §3.3 allows any number of transactions per session). A short rate wait is
    /// waited out with the connection open, so a tightly limited site costs one connection
    /// per `max_messages_per_connection`, not one per batch.
    ///
    /// A destination of a site that holds `delivery.max_loops_per_site` loops already is
    /// left to them: `next` held it (so the next look finds another due destination), and
    /// their full batches make it due again.
    /// `parked`: IPs with entries parked for them (``NextDestination``), kept up to date
    /// from each batch for the next claim.
    private func handle(pool: PoolName, domain: DomainName, parked: [EgressID], scout: Scout, siteLoops: SiteLoops) async {
        var parked = parked
        let route: Result<[DestinationRouter.Target], DestinationRouter.RoutingError>
        do { route = .success(try await context.router.targets(for: domain)) } catch { route = .failure(error) }
        let site: ResolvedSite
        switch route {
        case .success(let targets) where targets.first?.isRoute == true:
            site = sites.site(forRoute: targets[0].host)
        case .success(let targets):
            site = sites.site(forDomain: domain, mxHosts: targets.filter { !$0.isImplicit }.map(\.host))
        case .failure:
            // No route: nothing will be sent, so no limits apply; the batch is settled at once.
            site = sites.site(forDomain: domain, mxHosts: [])
        }
        guard siteLoops.enter(site.name) else {
            context.logger.debug("\(domain): site \(site.name) holds \(siteLoops.bound) delivery loops already; looking for other work")
            return
        }
        defer { siteLoops.leave(site.name) }
        let shaping = site.shaping
        let limited = (try? route.get()) != nil
        let perConnection = shaping.maxMessagesPerConnection ?? Int.max
        var open: OpenConnection? = nil
        let arrived = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Fairness: with every loop busy nobody looks for other due destinations, so a
            // loop that has been here a while goes back to the rotation.
            if ContinuousClock.now - arrived > Self.maxStayWhileOthersWait, await !scout.isWatching { break }
            if let current = open, current.messagesSent >= perConnection {
                await close(current)
                open = nil
            }
            let batchSize = min(context.settings.batchSize, perConnection - (open?.messagesSent ?? 0))
            var rng = SystemRandomNumberGenerator()
            let candidates = EgressAddress.candidates(
                from: egress, pool: pool, shaping: limited ? shaping : nil, preferring: open?.lease.unit.egress,
                day: WallClock.nowMilliseconds() / 86_400_000, using: &rng)
            let claim: ClaimResult
            do {
                claim = try await context.queue.claim(
                    pool: pool, domain: domain, site: site.name, consumer: consumer, batchSize: batchSize,
                    claimTimeout: context.settings.claimTimeout.duration, siteRate: limited ? shaping.rate : nil,
                    holding: open?.lease, parked: parked,
                    candidates: candidates)
            } catch {
                context.logger.warning("cannot claim work for \(domain): \(error)")
                // `next` held the destination for 10 s for this claim; look again in a
                // second instead (e.g. the limits' primary failing over while the queue's
                // answers). If the queue's Redis is down too, this fails and the hold stays.
                try? await context.queue.retryClaim(pool: pool, domain: domain, after: .seconds(1))
                break
            }
            guard case .batch(let batch) = claim else {
                guard case .wait(let ms, let reason) = claim else { break }
                if reason.isThrottle {
                    DeliveryMetrics.throttleWait(site: site.name, reason: reason)
                    context.logger.debug("waiting \(ms)ms for \(domain) (\(site.name)): \(reason)")
                }
                // Only a rate wait is worth waiting out with the connection open.
                if open != nil, ms <= Self.maxWaitWithConnectionOpen, reason.isRateWait {
                    await pause(.milliseconds(ms))
                    continue
                }
                break
            }
            guard !batch.items.isEmpty else { break }
            parked = batch.parkedFor
            let full = batch.items.count == batchSize
            // There is more for this destination: let another loop start on it at once.
            if full { await scout.kick() }
            if batch.takenOver > 0 {
                DeliveryMetrics.takeover(count: batch.takenOver)
                context.logger.notice(
                    "took over \(batch.takenOver) item(s) of \(domain) from a worker presumed dead; they may be delivered twice")
            }
            // The claim chose another IP: the held lease was given back with it.
            if let current = open, current.lease.unit.egress != batch.egress {
                await current.session?.quit()
                open = nil
            }
            let address = egress.first { $0.id == batch.egress }
            let origin = SMTPDeliverySession.Origin(
                localAddress: address?.bindAddress, heloName: address?.heloName ?? context.heloName,
                tlsRequired: shaping.tlsRequired ?? false, pipelinesNextMessage: shaping.pipelineNextMessage ?? true)
            let session = await deliver(batch, route: route, origin: origin, session: open?.session)
            if let session {
                open = OpenConnection(
                    lease: batch.connection, session: session, messagesSent: (open?.messagesSent ?? 0) + batch.items.count)
            } else {
                // Lost, refused or stopped by a backoff rule: give the lease back.
                open = OpenConnection(lease: batch.connection, session: nil, messagesSent: 0)
                break
            }
            if !full { break }
        }
        if let open { await close(open) }
    }

    /// The longest rate wait a delivery loop sits out with its connection open.
    static let maxWaitWithConnectionOpen: Int64 = 2000
    /// How long a loop keeps taking batches of one destination when no other loop is free
    /// to look for other due destinations.
    static let maxStayWhileOthersWait = Duration.seconds(2)

    /// A connection a delivery loop keeps between batches of one destination.
    private struct OpenConnection {
        var lease: HeldConnection
        /// nil when the connection is gone but the lease is still to be given back.
        var session: SMTPDeliverySession?
        var messagesSent: Int
    }

    private func close(_ connection: OpenConnection) async {
        await connection.session?.quit()
        do { try await context.queue.release(connection.lease) } catch {
            context.logger.info("cannot release connection lease (it expires on its own): \(error)")
        }
    }

    /// The longest an idle scout naps without a wake token: the safety net for what makes a
    /// destination due without leaving one (an operator's `hikyaku queue retry`, a crashed
    /// worker's hold lapsing).
    static let maxNap = Duration.seconds(2)

    /// While a loop here is idle, blocks in Redis for a wake token (on a connection of its
    /// own, kept open across waits) and wakes the scout with it; a token that arrives when
    /// every loop is busy is left back for another worker.
    private func wakeLoop(scout: Scout) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await context.queue.withWakeListener { listener in
                    await scout.attach(listener)
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        await scout.untilWatching()
                        guard let pool = try await listener.wait(pools: pools, timeout: .seconds(5)) else { continue }
                        if await !scout.wakeByToken() { try await listener.passOn(pool: pool) }
                    }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                context.logger.warning("cannot wait for wake tokens: \(error); idle loops look every \(Self.maxNap) meanwhile")
                await pause(.seconds(1))
            }
            await scout.attach(nil)
        }
    }

    /// Moves due retries back every 500 ms, and reports queue depth every 5 s.
    private func retryLoop() async {
        var round = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                _ = try await context.queue.promoteDue()
                if round % 10 == 0 {
                    for pool in pools {
                        DeliveryMetrics.queueDepth(pool: pool, recipients: try await context.queue.depth(pool: pool))
                    }
                }
            } catch {
                context.logger.warning("cannot move due retries: \(error)")
            }
            round += 1
            await pause(.milliseconds(500))
        }
    }

    func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: duration)
        }
    }
}
