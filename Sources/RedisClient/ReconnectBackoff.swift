/// Exponential backoff with jitter between failed connection attempts.
///
/// After the n-th consecutive failure the base delay is `initial × 2^(n-1)`, capped
/// at `max`; the actual delay is drawn from `[base/2, base)` ("equal jitter"), so
/// clients that lost the same server do not all come back at the same instant.
struct ReconnectBackoff: Sendable, Hashable {
    var initial: Duration
    var max: Duration

    /// The delay after `failures` consecutive failures (≥ 1); `jitter` is in `0..<1`.
    func delay(afterFailures failures: Int, jitter: Double) -> Duration {
        precondition(failures >= 1, "a backoff follows at least one failure")
        var base = initial
        var doublings = failures - 1
        while doublings > 0, base < max {
            base *= 2
            doublings -= 1
        }
        if base > max {
            base = max
        }
        let clampedJitter = Swift.min(Swift.max(jitter, 0), 1)
        return base / 2 + (base / 2) * clampedJitter
    }
}
