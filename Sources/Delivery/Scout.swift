import Queue

/// Lets only one of a worker's idle delivery loops look in Redis for due work at a time
/// (the scout); the other idle loops wait. When the scout finds a destination it hands the
/// role to the next waiting loop and goes to deliver, so under load the loops fan out at
/// once, and an idle worker costs one look per nap instead of one per loop.
///
/// Between looks the scout naps until the soonest destination is due (at most
/// ``DeliveryWorker/maxNap``), and is woken sooner by a wake token (see ``WakeListener``:
/// the worker's one listener blocks in Redis while a loop here is idle) or by a loop that
/// just claimed a full batch (there is more to send), so the next loop joins that
/// destination within a round trip.
actor Scout {
    private var taken = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var closed = false
    private var napper: (continuation: CheckedContinuation<Void, Never>, generation: Int)?
    private var generation = 0
    /// A kick arrived while nobody napped: the next nap returns at once.
    private var kicked = false
    /// The wake listener waiting for a loop here to become idle.
    private var listenerWaits: [CheckedContinuation<Void, Never>] = []
    private var listener: WakeListener?

    /// Whether an idle loop is looking for due work (so busy loops need not return to look).
    var isWatching: Bool { taken || closed }

    /// Whether another idle loop waits to scout after this one (if not, work found beyond
    /// what the scout takes is for other workers).
    var othersWaiting: Bool { !waiting.isEmpty }

    /// Returns true when the caller is now the scout; otherwise waits until the role may be
    /// free and returns false (the caller tries again).
    func enter() async -> Bool {
        if closed { return true }
        if !taken {
            taken = true
            let listeners = listenerWaits
            listenerWaits = []
            for continuation in listeners { continuation.resume() }
            return true
        }
        await withCheckedContinuation { waiting.append($0) }
        return false
    }

    /// The scout found work (or is stopping): the next waiting loop may scout.
    func leave() {
        taken = false
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }

    /// Waits `duration` before the next look, or less if kicked.
    func nap(for duration: Duration) async {
        if closed { return }
        if kicked {
            kicked = false
            return
        }
        generation += 1
        let mine = generation
        await withCheckedContinuation { continuation in
            napper = (continuation, mine)
            Task {
                try? await Task.sleep(for: duration)
                self.wake(generation: mine)
            }
        }
    }

    /// There is more work than the busy loops are taking: look again now.
    func kick() {
        if napper != nil { wake(generation: generation) } else { kicked = true }
    }

    /// A wake token arrived: the scout looks again now. Returns false when no loop here is
    /// idle (the token is for another worker).
    func wakeByToken() -> Bool {
        guard taken, !closed else { return false }
        kick()
        return true
    }

    /// Returns once a loop is idle here (or at shutdown): only then is a wake token of use.
    func untilWatching() async {
        if taken || closed { return }
        await withCheckedContinuation { listenerWaits.append($0) }
    }

    /// The listener to close at shutdown (its `BLPOP` may block for seconds).
    func attach(_ listener: WakeListener?) async {
        self.listener = listener
        if closed, let listener { await listener.close() }
    }

    private func wake(generation: Int) {
        guard let napper, napper.generation == generation else { return }
        self.napper = nil
        napper.continuation.resume()
    }

    /// Wakes everyone (shutdown); from now on every caller may scout.
    func close() async {
        closed = true
        let all = waiting + listenerWaits
        waiting = []
        listenerWaits = []
        for continuation in all { continuation.resume() }
        if let napper { wake(generation: napper.generation) }
        if let listener { await listener.close() }
    }
}
