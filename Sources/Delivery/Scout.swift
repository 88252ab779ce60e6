/// Lets only one of a worker's idle delivery loops poll Redis for due work at a time (the
/// scout); the other idle loops wait. When the scout finds a destination it hands the role
/// to the next waiting loop and goes to deliver, so under load the loops fan out at once,
/// and an idle worker costs one poll per interval instead of one per loop.
///
/// Between polls the scout naps; a loop that just claimed a full batch (there is more to
/// send) kicks it awake, so the next loop joins that destination within a round trip
/// instead of after the nap.
actor Scout {
    private var taken = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var closed = false
    private var napper: (continuation: CheckedContinuation<Void, Never>, generation: Int)?
    private var generation = 0
    /// A kick arrived while nobody napped: the next nap returns at once.
    private var kicked = false

    /// Whether an idle loop is looking for due work (so busy loops need not return to look).
    var isWatching: Bool { taken || closed }

    /// Returns true when the caller is now the scout; otherwise waits until the role may be
    /// free and returns false (the caller tries again).
    func enter() async -> Bool {
        if closed { return true }
        if !taken {
            taken = true
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

    /// Waits `duration` before the next poll, or less if kicked.
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

    /// There is more work than the busy loops are taking: poll again now.
    func kick() {
        if napper != nil { wake(generation: generation) } else { kicked = true }
    }

    private func wake(generation: Int) {
        guard let napper, napper.generation == generation else { return }
        self.napper = nil
        napper.continuation.resume()
    }

    /// Wakes everyone (shutdown); from now on every caller may scout.
    func close() {
        closed = true
        let all = waiting
        waiting = []
        for continuation in all { continuation.resume() }
        if let napper { wake(generation: napper.generation) }
    }
}
