import NIOCore

/// Events in the last `period`, at most `limit` of them remembered: an exact sliding-window
/// counter ("no more than N in any period"), stricter than a fixed window, which lets up
/// to 2N through around a window boundary.
///
/// A ring of event times that grows on demand up to `limit` entries, so a generous limit
/// costs memory only when it is used; every operation is amortised O(1).
struct SlidingWindow: Sendable {
    let limit: Int
    let period: TimeAmount
    private var ring: [NIODeadline] = []
    /// Index of the oldest event in `ring`.
    private var head = 0
    private var stored = 0

    init(limit: Int, period: TimeAmount) {
        precondition(limit >= 1, "a window holds at least one event")
        self.limit = limit
        self.period = period
    }

    /// Events within the period ending at `now`.
    mutating func count(at now: NIODeadline) -> Int {
        let horizon = now - self.period
        while self.stored > 0, self.ring[self.head] <= horizon {
            self.head = (self.head + 1) % self.ring.count
            self.stored -= 1
        }
        return self.stored
    }

    /// Adds an event at `now` if fewer than `limit` are in the window; returns whether it fit.
    mutating func admit(at now: NIODeadline) -> Bool {
        guard self.count(at: now) < self.limit else { return false }
        self.push(now)
        return true
    }

    /// Adds an event at `now` whatever the count (forgetting the oldest when `limit` are
    /// stored) and returns how many are in the window with it, at most `limit`.
    mutating func add(at now: NIODeadline) -> Int {
        if self.count(at: now) == self.limit {
            self.head = (self.head + 1) % self.ring.count
            self.stored -= 1
        }
        self.push(now)
        return self.stored
    }

    /// Forgets every event.
    mutating func reset() {
        self.head = 0
        self.stored = 0
    }

    private mutating func push(_ time: NIODeadline) {
        if self.stored == self.ring.count {
            self.grow()
        }
        self.ring[(self.head + self.stored) % self.ring.count] = time
        self.stored += 1
    }

    /// Doubles the ring (up to `limit`), laying the events out in order from index 0.
    private mutating func grow() {
        let capacity = min(self.limit, max(8, self.ring.count * 2))
        var ring = [NIODeadline](repeating: .distantPast, count: capacity)
        for offset in 0..<self.stored {
            ring[offset] = self.ring[(self.head + offset) % self.ring.count]
        }
        self.ring = ring
        self.head = 0
    }
}
