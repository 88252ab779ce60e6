import RelayCore

/// The generic cell rate algorithm (GCRA, ITU-T I.371 "virtual scheduling"), the
/// arithmetic behind every rate limit the relay enforces in Redis.
///
/// The only state is the *theoretical arrival time* (TAT) of the next cell, in
/// microseconds. With emission interval `T = period / count` and tolerance
/// `τ = T × (burst − 1)`:
///
/// - a cell may go at `now` iff `max(tat, now) − now ≤ τ`;
/// - taking `k` cells moves the TAT to `max(tat, now) + k × T`.
///
/// So an idle sender may send `burst` cells back to back, then one every `T`; in any
/// window of length `period` at most `count + burst − 1` cells pass.
///
/// This value type is the reference the Lua functions in Redis mirror (one `GET` of the
/// TAT, this arithmetic, one `SET` with expiry), so tests can pin the arithmetic down.
/// For `3000/h burst 3` (T = 1 200 000 µs, τ = 2 400 000 µs):
///
/// ```
/// take(tat: nil,       now: 0, wanted: 5) → granted 3, newTAT 3 600 000
/// take(tat: 3 600 000, now: 0, wanted: 1) → granted 0, retry after 1 200 000
/// take(tat: 3 600 000, now: 1 200 000, wanted: 5) → granted 1, newTAT 4 800 000
/// ```
public struct GCRA: Sendable, Hashable {
    /// Microseconds between two cells (`period / count`). Zero or less means unlimited.
    public var intervalMicros: Int64
    /// Cells that may go back to back after an idle time; at least 1.
    public var burst: Int

    public init(intervalMicros: Int64, burst: Int = 1) {
        self.intervalMicros = intervalMicros
        self.burst = max(burst, 1)
    }

    /// The limit for a configured rate. The interval is rounded *up* to whole
    /// microseconds so that rounding never lets more than `count + burst − 1` cells pass
    /// in a period (`7/s` → 142 858 µs, not 142 857).
    public init(rate: Rate) {
        let periodMicros = rate.period.milliseconds * 1000
        let count = Int64(max(rate.count, 1))
        self.init(intervalMicros: (periodMicros + count - 1) / count, burst: rate.burst)
    }

    /// `τ = interval × (burst − 1)`: how far ahead of `now` the TAT may be for a cell to pass.
    public var toleranceMicros: Int64 {
        intervalMicros * Int64(max(burst, 1) - 1)
    }

    /// Given the stored theoretical arrival time (µs, `nil` when never used), the current
    /// time (µs) and how many cells are wanted, returns how many may go now (`0…wanted`)
    /// and, if none may, how long to wait (µs) until one may (0 otherwise); plus the new
    /// TAT after taking `granted` cells (the old one, possibly `nil`, when none are taken).
    ///
    /// `granted` is the largest `k ≤ wanted` with `max(tat, now) + (k − 1) × T − now ≤ τ`;
    /// taking `k` cells at once is the same as taking one cell `k` times at `now`.
    public func take(tat: Int64?, now: Int64, wanted: Int) -> (granted: Int, newTAT: Int64?, retryAfterMicros: Int64) {
        guard wanted > 0 else { return (0, tat, 0) }
        let base = max(tat ?? now, now)
        guard intervalMicros > 0 else { return (wanted, base, 0) }
        let slack = now + toleranceMicros - base
        if slack < 0 {
            return (0, tat, -slack)
        }
        let available = slack / intervalMicros + 1
        let granted = Int(min(available, Int64(wanted)))
        return (granted, base + Int64(granted) * intervalMicros, 0)
    }

    /// The same limit at a slower rate: the interval divided by `factor` (0 < factor ≤ 1
    /// slows, e.g. 0.5 halves the rate), rounded up and at most ``maxIntervalMicros``;
    /// the burst stays. This only ever slows: a factor above 1, or one that is not a
    /// positive finite number, leaves the limit unchanged.
    public func scaled(by factor: Double) -> GCRA {
        guard factor > 0, factor.isFinite, intervalMicros > 0 else { return self }
        let scaled = (Double(intervalMicros) / factor).rounded(.up)
        let interval = scaled >= Double(Self.maxIntervalMicros) ? Self.maxIntervalMicros : Int64(scaled)
        return GCRA(intervalMicros: max(interval, intervalMicros), burst: burst)
    }

    /// The slowest interval ``scaled(by:)`` produces: one cell a day, which keeps the
    /// arithmetic far from overflow for any burst a configuration can name.
    public static let maxIntervalMicros: Int64 = 86_400 * 1_000_000
}
