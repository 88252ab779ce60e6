import NIOCore
import Testing

@testable import RedisClient

private final class FakeConnection: PooledConnection, @unchecked Sendable {
    var isActive = true
}

@Suite struct ConnectionSlotStateMachineTests {
    fileprivate typealias Machine = ConnectionSlotStateMachine<FakeConnection, Int>

    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private var machine = Machine(backoff: ReconnectBackoff(initial: .seconds(1), max: .seconds(8)))
    private var attempts = 0

    private mutating func acquire(at now: NIODeadline) -> Machine.AcquireAction {
        machine.acquire(now: now) {
            attempts += 1
            return attempts
        }
    }

    @Test mutating func connectsLazilyAndSharesTheAttempt() {
        guard case .startConnecting(1) = acquire(at: start) else {
            Issue.record("the first request should start connecting")
            return
        }
        guard case .wait(1) = acquire(at: start) else {
            Issue.record("a second request should wait for the same attempt")
            return
        }
        let connection = FakeConnection()
        guard case .serve(afterFailures: 0) = machine.connectSucceeded(connection) else {
            Issue.record("expected serve")
            return
        }
        guard case .use(let used) = acquire(at: start) else {
            Issue.record("expected use")
            return
        }
        #expect(used === connection)
        #expect(machine.usableConnection === connection)
        #expect(attempts == 1)
        connection.isActive = false
        #expect(machine.usableConnection == nil)
    }

    @Test mutating func reconnectsWhenTheConnectionClosed() {
        _ = acquire(at: start)
        let connection = FakeConnection()
        _ = machine.connectSucceeded(connection)
        connection.isActive = false
        guard case .startConnecting(2) = acquire(at: start) else {
            Issue.record("a closed connection should be replaced")
            return
        }
        #expect(machine.consecutiveFailures == 0)
    }

    @Test mutating func failsFastDuringBackoffThenTriesAgain() {
        _ = acquire(at: start)
        guard case .backOff(let delay, failures: 1) = machine.connectFailed(reason: "refused", now: start, jitter: 0)
        else {
            Issue.record("expected backoff")
            return
        }
        #expect(delay == .milliseconds(500))

        // 200 ms later: refused without an attempt, saying when the next one is.
        guard case .fail(let error) = acquire(at: start + .milliseconds(200)) else {
            Issue.record("expected fail-fast during backoff")
            return
        }
        #expect(error.kind == .unavailable)
        #expect(error.retryAfter == .milliseconds(300))
        #expect(error.description.contains("refused"))
        #expect(attempts == 1)

        // After the backoff: a new attempt; a second failure backs off longer.
        guard case .startConnecting(2) = acquire(at: start + .milliseconds(500)) else {
            Issue.record("expected a new attempt after the backoff")
            return
        }
        guard case .backOff(let second, failures: 2) = machine.connectFailed(reason: "refused", now: start, jitter: 0)
        else {
            Issue.record("expected backoff")
            return
        }
        #expect(second == .seconds(1))

        _ = acquire(at: start + .seconds(1))
        guard case .serve(afterFailures: 2) = machine.connectSucceeded(FakeConnection()) else {
            Issue.record("expected recovery after two failures")
            return
        }
        #expect(machine.consecutiveFailures == 0)
    }

    @Test mutating func shutdownClosesAndRefuses() {
        _ = acquire(at: start)
        let stopped = machine.shutdown()
        #expect(stopped.attempt == 1)
        #expect(stopped.connection == nil)
        guard case .close = machine.connectSucceeded(FakeConnection()) else {
            Issue.record("a connection made after shutdown must be closed")
            return
        }
        guard case .fail(let error) = acquire(at: start) else {
            Issue.record("expected fail after shutdown")
            return
        }
        #expect(error == .clientShutdown)
    }

    @Test mutating func shutdownReturnsTheOpenConnection() {
        _ = acquire(at: start)
        let connection = FakeConnection()
        _ = machine.connectSucceeded(connection)
        #expect(machine.shutdown().connection === connection)
        guard case .none = machine.connectFailed(reason: "late", now: start, jitter: 0) else {
            Issue.record("a failure after shutdown needs no backoff")
            return
        }
    }
}
