import NIOCore

/// The life of one of the client's connections, as a value that decides and
/// returns actions; ``RedisConnectionPool`` does the I/O.
///
/// ```
///            acquire                 succeeded
///   idle ───────────────▶ connecting ───────────▶ connected ──(closed, acquire)──▶ connecting
///                            │  ▲
///                    failed  │  │ acquire after the backoff
///                            ▼  │
///                         backingOff ── acquire before it ends: fail fast (unavailable)
/// ```
///
/// Requests that arrive while an attempt is running wait for it (`Attempt` is what
/// they wait on: a promise in the pool, anything in tests).
struct ConnectionSlotStateMachine<Connection: PooledConnection, Attempt> {
    enum State {
        case idle
        case connecting(Attempt)
        case connected(Connection)
        case backingOff(until: NIODeadline, lastFailure: String)
        case shutDown
    }

    enum AcquireAction {
        /// Send on this connection.
        case use(Connection)
        /// An attempt is under way; wait for it.
        case wait(Attempt)
        /// Start a connection attempt and complete `Attempt` with its outcome.
        case startConnecting(Attempt)
        /// Fail the request at once.
        case fail(RedisError)
    }

    enum SucceededAction {
        /// Serve requests; `afterFailures` consecutive attempts had failed before this one.
        case serve(afterFailures: Int)
        /// The client was shut down meanwhile: close the new connection.
        case close
    }

    enum FailedAction {
        /// Requests fail fast until `delay` has passed; `failures` attempts failed in a row.
        case backOff(delay: Duration, failures: Int)
        /// The client was shut down meanwhile.
        case none
    }

    private(set) var state: State = .idle
    private(set) var consecutiveFailures = 0
    let backoff: ReconnectBackoff

    init(backoff: ReconnectBackoff) {
        self.backoff = backoff
    }

    mutating func acquire(now: NIODeadline, makeAttempt: () -> Attempt) -> AcquireAction {
        switch state {
        case .connected(let connection) where connection.isActive:
            return .use(connection)
        case .connected, .idle:
            let attempt = makeAttempt()
            state = .connecting(attempt)
            return .startConnecting(attempt)
        case .connecting(let attempt):
            return .wait(attempt)
        case .backingOff(let until, let lastFailure):
            if now < until {
                let remaining = until - now
                return .fail(
                    .unavailable(
                        retryAfter: .nanoseconds(remaining.nanoseconds),
                        failedAttempts: consecutiveFailures,
                        lastFailure: lastFailure
                    )
                )
            }
            let attempt = makeAttempt()
            state = .connecting(attempt)
            return .startConnecting(attempt)
        case .shutDown:
            return .fail(.clientShutdown)
        }
    }

    /// The slot's connection if it is open, without changing state: lets the pool
    /// route a request around a slot that is backing off.
    var usableConnection: Connection? {
        if case .connected(let connection) = state, connection.isActive {
            return connection
        }
        return nil
    }

    mutating func connectSucceeded(_ connection: Connection) -> SucceededAction {
        guard case .connecting = state else {
            return .close
        }
        let failures = consecutiveFailures
        consecutiveFailures = 0
        state = .connected(connection)
        return .serve(afterFailures: failures)
    }

    mutating func connectFailed(reason: String, now: NIODeadline, jitter: Double) -> FailedAction {
        guard case .connecting = state else {
            return .none
        }
        consecutiveFailures += 1
        let delay = backoff.delay(afterFailures: consecutiveFailures, jitter: jitter)
        state = .backingOff(until: now + TimeAmount(delay), lastFailure: reason)
        return .backOff(delay: delay, failures: consecutiveFailures)
    }

    /// Stops the slot; returns the connection to close and the attempt to wait for, if any.
    mutating func shutdown() -> (connection: Connection?, attempt: Attempt?) {
        defer { state = .shutDown }
        switch state {
        case .connected(let connection):
            return (connection, nil)
        case .connecting(let attempt):
            return (nil, attempt)
        case .idle, .backingOff, .shutDown:
            return (nil, nil)
        }
    }
}

extension ConnectionSlotStateMachine: Sendable where Attempt: Sendable {}
extension ConnectionSlotStateMachine.State: Sendable where Attempt: Sendable {}
