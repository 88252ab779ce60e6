import Logging
import Queue
import RelayCore
import SMTPProtocol

/// One claimed batch, as a delivery loop runs it: delivery (`BatchDelivery`) with its
/// outcomes recorded as they come, adaptive backoff on the replies, and the claims kept
/// fresh meanwhile.
extension DeliveryWorker {
    /// Delivers a batch (on `session` if given, else a new connection) and records its
    /// outcomes; returns the connection if it is still open and usable.
    func deliver(
        _ batch: ClaimedBatch, route: Result<[DestinationRouter.Target], DestinationRouter.RoutingError>,
        origin: SMTPDeliverySession.Origin, session: SMTPDeliverySession?
    ) async -> SMTPDeliverySession? {
        DeliveryMetrics.connections(batch.unit, delta: 1)
        defer { DeliveryMetrics.connections(batch.unit, delta: -1) }
        var kept: SMTPDeliverySession? = nil
        do {
            kept = try await withClaimKeptFresh(batch) {
                let recorder = OutcomeRecorder(queue: context.queue, batch: batch, consumer: consumer, logger: context.logger)
                return await withTaskGroup(of: Void.self) { group in
                    do {
                        var applied = Set<String>()
                        let result = try await BatchDelivery(context: context, batch: batch, route: route, origin: origin).run(
                            session: session,
                            settle: { outcome in group.addTask { await recorder.record(outcome) } },
                            onFailureReply: { reply in await self.applyBackoff(reply, batch: batch, applied: &applied) })
                        if !result.untried.isEmpty {
                            try await context.queue.giveBack(batch, consumer: consumer, entryIDs: result.untried.map(\.entryID))
                        }
                        return result.session
                    } catch {
                        // The claims stay pending; they are taken over after the claim timeout.
                        context.logger.warning("cannot deliver batch for \(batch.domain): \(error)")
                        await session?.quit()
                        await pause(.seconds(1))
                        return nil
                    }
                }
            }
        } catch {
            context.logger.warning("delivery of batch for \(batch.domain) ended: \(error)")
        }
        return kept
    }

    /// Adaptive backoff: the first rule matching `reply` is applied once per batch (Redis
    /// damps repeats across workers). A suspension stops the batch.
    private func applyBackoff(_ reply: SMTPReply, batch: ClaimedBatch, applied: inout Set<String>) async -> BatchDelivery.Decision {
        guard let rule = backoff.match(reply, site: batch.site) else { return .proceed }
        let name = rule.name ?? "\(rule.action.rawValue)"
        let stops = rule.action != .slow
        guard applied.insert(name).inserted else { return stops ? .stop : .proceed }
        let now = WallClock.nowMilliseconds()
        var event = DeliveryEvent(event: .backoff, time: WallClock.iso8601(milliseconds: now), queueID: "", messageID: nil, sender: "")
        event.domain = batch.domain
        event.site = batch.site
        event.egressIP = rule.action == .suspendSite ? nil : batch.egress
        event.action = rule.action.rawValue
        event.rule = name
        event.factor = rule.action == .slow ? rule.factor : nil
        // Stored as the suspension's reason, which `hikyaku queue` prints: bounded, no controls.
        let text = RemoteText.capped(reply.singleLineText)
        event.reply = text
        event.until = WallClock.iso8601(milliseconds: now + rule.duration.milliseconds)
        event.node = context.node
        do {
            if try await context.queue.adapt(
                action: rule.action.rawValue, unit: batch.unit,
                factor: rule.factor, duration: rule.duration.duration, event: event)
            {
                DeliveryMetrics.backoffAction(site: batch.site, action: rule.action.rawValue)
                context.logger.notice("backoff: \(rule.action.rawValue) \(batch.unit) for \(rule.duration) after '\(text)' (rule \(name))")
            }
        } catch {
            context.logger.warning("cannot apply backoff rule \(name): \(error)")
        }
        return stops ? .stop : .proceed
    }

    /// Runs `body` while refreshing the batch's claims and lease every third of the claim
    /// timeout, so a slow destination does not make other workers think this one died.
    private func withClaimKeptFresh<T: Sendable>(_ batch: ClaimedBatch, _ body: @Sendable () async throws -> T) async throws -> T {
        let queue = context.queue
        let consumer = self.consumer
        let timeout = context.settings.claimTimeout.duration
        let ids = batch.items.map(\.entryID)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: timeout / 3)
                    try? await queue.refresh(batch, consumer: consumer, entryIDs: ids, leaseFor: timeout)
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
