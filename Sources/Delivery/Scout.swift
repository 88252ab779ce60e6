/// Lets only one of a worker's idle delivery loops poll Redis for due work at a time (the
/// scout); the other idle loops wait. When the scout finds a destination it hands the role
/// to the next waiting loop and goes to deliver, so under load the loops fan out at once,
/// and an idle worker costs one poll per interval instead of one per loop.
actor Scout {
    private var taken = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var closed = false

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

    /// Wakes everyone (shutdown); from now on every caller may scout.
    func close() {
        closed = true
        let all = waiting
        waiting = []
        for continuation in all { continuation.resume() }
    }
}
