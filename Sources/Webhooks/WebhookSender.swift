import Logging
import NIOCore
import Queue
import RelayCore

/// Sends one endpoint's outbox, head first, in batches of up to 100 events, while this
/// process holds the endpoint's lease; stops when the outbox is empty, when a POST fails
/// (the retry state tells every dispatcher when to try again) or when the lease is lost.
struct WebhookSender {
    let dispatcher: WebhookDispatcher
    let endpoint: WebhookEndpoint
    let token: String

    var store: WebhookStore { dispatcher.store }
    var logger: Logger { dispatcher.logger }
    var lease: Int64 { dispatcher.settings.leaseTime.milliseconds }

    func run() async {
        await sendWhileLeased()
        await store.releaseLease(endpoint.id, token: token)
    }

    private func sendWhileLeased() async {
        do {
            while !Task.isCancelled {
                guard try await store.renewLease(endpoint.id, token: token, milliseconds: lease) else { return }
                let state = try await store.retryState(endpoint.id)
                if let state, state.next > WallClock.nowMilliseconds() { return }
                let items = try await store.head(endpoint.id, count: WebhookDispatcher.batchSize)
                guard !items.isEmpty else { return }
                guard try await send(items, state: state) else { return }
            }
        } catch {
            logger.warning("webhooks: endpoint \(endpoint.id): \(error)")
        }
    }

    /// POSTs `items`, settles the outcome; true to go on with the next batch.
    private func send(_ items: [ByteBuffer], state: WebhookStore.RetryState?) async throws -> Bool {
        let ids = items.map(Self.eventID)
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (index, item) in items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += item.readableBytesView
        }
        body.append(UInt8(ascii: "]"))
        let now = WallClock.nowMilliseconds()
        let result = await dispatcher.poster.post(endpoint, body: body, timestamp: now / 1000)
        let maxDead = dispatcher.settings.maxOutbox
        switch result.verdict {
        case .delivered:
            WebhookMetrics.request(.delivered)
            try await store.settle(endpoint.id, token: token, outcome: .delivered, eventIDs: ids, maxDead: maxDead)
            logger.debug("webhooks: endpoint \(endpoint.id): \(items.count) event(s) delivered")
            return true
        case .dead:
            WebhookMetrics.request(.refused)
            logger.warning("webhooks: endpoint \(endpoint.id) refused \(items.count) event(s) (\(Self.describe(result))): dead letters")
            try await deadLetter(ids, maxDead: maxDead)
            return true
        case .retry:
            WebhookMetrics.request(.failed)
            let attempts = (state?.attempts ?? 0) + 1
            let first = state?.firstFailure ?? now
            if dispatcher.backoff.givesUp(firstFailure: first, now: now) {
                logger.warning(
                    "webhooks: endpoint \(endpoint.id) failing since \(WallClock.iso8601(milliseconds: first)) (\(Self.describe(result))): \(items.count) event(s) are dead letters"
                )
                try await deadLetter(ids, maxDead: maxDead)
                return true
            }
            let delay = dispatcher.backoff.delay(attempt: attempts, jitter: Double.random(in: 0...1))
            let next = now + delay.milliseconds
            logger.info("webhooks: endpoint \(endpoint.id) failed (\(Self.describe(result))), try \(attempts); next in \(delay)")
            try await store.settle(
                endpoint.id, token: token, outcome: .retry(.init(attempts: attempts, firstFailure: first, next: next)), eventIDs: ids,
                maxDead: maxDead)
            return false
        }
    }

    private func deadLetter(_ ids: [String], maxDead: Int) async throws {
        let dropped = try await store.settle(endpoint.id, token: token, outcome: .dead, eventIDs: ids, maxDead: maxDead)
        if dropped > 0 {
            logger.error("webhooks: the dead letters of endpoint \(endpoint.id) are full: dropped the \(dropped) oldest")
            WebhookMetrics.lost(dropped, where: .dead)
        }
    }

    static func describe(_ result: WebhookPoster.Result) -> String {
        switch result {
        case .status(let code, _): "HTTP \(code)"
        case .failed(let why): why
        }
    }

    /// The `event_id` an outbox item starts with (`{"event_id":"<id>"`).
    static func eventID(_ item: ByteBuffer) -> String {
        let prefix = "{\"event_id\":\"".utf8.count
        let bytes = item.readableBytesView.dropFirst(prefix).prefix { $0 != UInt8(ascii: "\"") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
