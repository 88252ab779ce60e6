/// When a failed POST is tried again: `initial` doubling per failure up to `maximum`, less
/// up to a fifth at random (jitter, so endpoints that failed together do not retry
/// together), for `giveUpAfter` since the first failure; then the batch is a dead letter.
///
/// With the defaults (5 s, 1 h, 24 h): 5 s, 10 s, 20 s, … 42 min 40 s, then every hour —
/// about 35 tries over a day.
public struct WebhookBackoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var giveUpAfter: Duration

    public init(initial: Duration = .seconds(5), maximum: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(86_400)) {
        self.initial = initial
        self.maximum = maximum
        self.giveUpAfter = giveUpAfter
    }

    /// The delay after the `attempt`th failure in a row (1-based), before jitter.
    public func baseDelay(attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 40)
        let ms = Int64(initial.milliseconds) << doublings
        return ms >= maximum.milliseconds || ms < 0 ? maximum : .milliseconds(ms)
    }

    /// The delay with jitter: `jitter` in 0…1 takes off that part of a fifth.
    public func delay(attempt: Int, jitter: Double) -> Duration {
        let base = baseDelay(attempt: attempt).milliseconds
        return .milliseconds(base - Int64(Double(base) * 0.2 * min(max(jitter, 0), 1)))
    }

    /// Whether a batch failing since `firstFailure` (ms) is given up at `now` (ms).
    public func givesUp(firstFailure: Int64, now: Int64) -> Bool {
        now - firstFailure >= giveUpAfter.milliseconds
    }
}

/// What a POST's result means for the batch.
public enum WebhookVerdict: Sendable, Equatable {
    case delivered
    /// Timeout, connection trouble, `408`, `429`, `5xx`: try again later.
    case retry
    /// Any other status (other `4xx`, `3xx`: redirects are not followed): a dead letter now.
    case dead

    public static func of(status: Int) -> WebhookVerdict {
        switch status {
        case 200..<300: .delivered
        case 408, 429, 500..<600: .retry
        default: .dead
        }
    }
}
