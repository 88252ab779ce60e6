import DNSResolver
import Logging
import NIOCore
import NIOSSL
import Queue
import RelayCore
import ServiceLifecycle

/// A delivery worker process's `Service`: `delivery.concurrency` loops that each claim a
/// batch for one destination, deliver it and record the outcomes; plus a loop that moves
/// deferred work back into the queue when its retry is due. Stateless: everything it
/// holds is a claim in Redis that another worker takes over if this one dies.
public struct DeliveryWorker: Service {
    private let context: DeliveryContext
    /// This worker's name in the consumer group (host and process id).
    private let consumer: String

    public init(settings: DeliverySettings, hostname: String, queue: MessageQueue, dns: DNSResolver,
                group: EventLoopGroup, logger: Logger) throws {
        var tls: NIOSSLContext? = nil
        if settings.tls == .opportunistic {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            configuration.minimumTLSVersion = .tlsv12
            tls = try NIOSSLContext(configuration: configuration)
        }
        let node = "\(hostname)/\(getpid())"
        self.consumer = "\(node)/\(UInt32.random(in: 0...UInt32.max))"
        self.context = DeliveryContext(
            settings: settings, heloName: settings.heloName ?? hostname, node: node, group: group, queue: queue,
            router: DestinationRouter(routes: settings.routes, mxPort: settings.mxPort, dns: dns),
            clientTLS: tls, logger: logger)
    }

    public func run() async throws {
        context.logger.notice("delivery worker \(consumer) started with \(context.settings.concurrency) concurrent deliveries")
        await withDiscardingTaskGroup { group in
            for _ in 0..<context.settings.concurrency {
                group.addTask { await self.deliveryLoop() }
            }
            group.addTask { await self.retryLoop() }
        }
        context.logger.notice("delivery worker \(consumer) stopped")
    }

    /// Claim, deliver, complete — until graceful shutdown. A batch in progress is finished
    /// (and its outcome recorded) before the loop stops.
    private func deliveryLoop() async {
        let queue = context.queue
        let settings = context.settings
        while !Task.isShuttingDownGracefully {
            let claim: ClaimResult
            do {
                claim = try await queue.claim(consumer: consumer, batchSize: settings.batchSize,
                                              claimTimeout: settings.claimTimeout.duration, lease: settings.claimTimeout.duration)
            } catch {
                context.logger.warning("cannot claim work: \(error); retrying in 1s")
                await pause(.seconds(1))
                continue
            }
            switch claim {
            case .idle(let nextDue):
                let wait = nextDue.map { max(5, min(100, $0 - Clock.nowMilliseconds())) } ?? 100
                await pause(.milliseconds(wait))
            case .batch(let batch):
                guard !batch.items.isEmpty else { continue }
                await deliver(batch)
            }
        }
    }

    private func deliver(_ batch: ClaimedBatch) async {
        do {
            try await withClaimKeptFresh(batch) {
                await withTaskGroup(of: Void.self) { group in
                    do {
                        try await BatchDelivery(context: context).run(batch) { outcome in
                            group.addTask { await self.record(outcome, domain: batch.domain) }
                        }
                    } catch {
                        // The claims stay pending; they are taken over after the claim timeout.
                        context.logger.warning("cannot load batch for \(batch.domain): \(error)")
                        await pause(.seconds(1))
                    }
                }
            }
        } catch {
            context.logger.warning("delivery of batch for \(batch.domain) ended: \(error)")
        }
    }

    /// Records one item's outcome. It must not be lost to a Redis blip, so it is retried for
    /// a while; if it still fails the claim lapses and the item is delivered again
    /// (at-least-once).
    private func record(_ outcome: WorkOutcome, domain: String) async {
        var delay = Duration.milliseconds(100)
        for attempt in 1...20 {
            do {
                try await context.queue.complete(consumer: consumer, domain: domain, outcomes: [outcome])
                return
            } catch {
                context.logger.warning("cannot record outcome for \(domain) (attempt \(attempt)): \(error)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Runs `body` while refreshing the batch's claim every third of the claim timeout, so a
    /// slow destination does not make other workers think this one died.
    private func withClaimKeptFresh<T: Sendable>(_ batch: ClaimedBatch, _ body: @Sendable () async throws -> T) async throws -> T {
        let queue = context.queue
        let consumer = self.consumer
        let interval = context.settings.claimTimeout.duration / 3
        let ids = batch.items.map(\.entryID)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    try? await queue.refreshClaims(consumer: consumer, domain: batch.domain, entryIDs: ids)
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    private func retryLoop() async {
        while !Task.isShuttingDownGracefully {
            do {
                _ = try await context.queue.promoteDue()
            } catch {
                context.logger.warning("cannot move due retries: \(error)")
            }
            await pause(.milliseconds(500))
        }
    }

    private func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: duration)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
