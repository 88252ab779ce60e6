import Logging
import Queue

/// Records a batch's outcomes in Redis as they come: the first after a few milliseconds
/// (so the next ones can join it), and any that arrive while a write is in flight together
/// in the next one — so a fast destination costs one `hk_complete` per handful of messages
/// instead of one per message, and a slow one still has each outcome recorded within
/// milliseconds of being known.
actor OutcomeRecorder {
    private let queue: MessageQueue
    private let batch: ClaimedBatch
    private let consumer: String
    private let logger: Logger
    private var pending: [WorkOutcome] = []
    private var writing = false

    init(queue: MessageQueue, batch: ClaimedBatch, consumer: String, logger: Logger) {
        self.queue = queue
        self.batch = batch
        self.consumer = consumer
        self.logger = logger
    }

    /// How long the first outcome waits for others to share its write.
    static let gatherTime = Duration.milliseconds(5)

    /// Adds an outcome; returns once it (and whatever joined it) is recorded, or given up.
    func record(_ outcome: WorkOutcome) async {
        pending.append(outcome)
        guard !writing else { return }
        writing = true
        // A few milliseconds let the outcomes of the next transactions join this write.
        try? await Task.sleep(for: Self.gatherTime)
        while !pending.isEmpty {
            let outcomes = pending
            pending = []
            await write(outcomes)
        }
        writing = false
    }

    /// An outcome must not be lost to a Redis blip, so the write is retried for a while; if it
    /// still fails the claims lapse and the items are delivered again (at-least-once).
    private func write(_ outcomes: [WorkOutcome]) async {
        var delay = Duration.milliseconds(100)
        for attempt in 1...20 {
            do {
                try await queue.complete(pool: batch.pool, consumer: consumer, domain: batch.domain, outcomes: outcomes)
                return
            } catch {
                logger.warning("cannot record \(outcomes.count) outcome(s) for \(batch.domain) (attempt \(attempt)): \(error)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        logger.error(
            "gave up recording \(outcomes.count) outcome(s) for \(batch.domain); they will be delivered again after the claim timeout")
    }
}
