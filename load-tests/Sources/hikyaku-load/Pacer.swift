/// Hands out send slots at a fixed total rate (or at once when the rate is 0).
actor Pacer {
    private let interval: Int64
    private var next: Int64 = 0

    init(rate: Double) {
        interval = rate > 0 ? Int64(1_000_000 / rate) : 0
    }

    /// Waits for the next `count` slots (a batch of `count` messages goes at the last one).
    func acquire(_ count: Int = 1) async {
        guard interval > 0 else { return }
        let now = Clock.micros()
        if next < now { next = now }
        next += interval * Int64(max(1, count))
        let slot = next - interval
        if slot > now {
            try? await Task.sleep(for: .microseconds(slot - now))
        }
    }
}
