import Logging
import NIOCore
import NIOPosix

/// `connectionCount` lazily made connections, used round-robin, each with its own
/// ``ConnectionSlotStateMachine`` (reconnect and backoff per slot).
///
/// Each slot's connection lives on one event loop of the group (slot *i* on loop *i* mod
/// the number of loops). A request made on an event loop goes to a connection on that
/// same loop when there is one, so an SMTP session's call to Redis and the reply's return
/// to it never change threads (with tasks run on the event loops too, see
/// `HikyakuApplication.runTasksOnEventLoops`).
final class RedisConnectionPool: Sendable {
    private typealias Slot = ConnectionSlotStateMachine<RedisConnection, EventLoopPromise<RedisConnection>>

    private struct State: Sendable {
        var slots: [Slot]
        var next = 0
    }

    private let configuration: RedisClient.Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onConnect: (@Sendable (RedisConnection) async throws -> Void)?
    private let state: LockedState<State>
    /// The event loop of each slot's connection.
    private let slotLoops: [any EventLoop]

    init(
        configuration: RedisClient.Configuration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onConnect: (@Sendable (RedisConnection) async throws -> Void)?
    ) {
        precondition(configuration.connectionCount >= 1, "connectionCount must be at least 1")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onConnect = onConnect
        let backoff = ReconnectBackoff(
            initial: configuration.reconnectBackoff.initial,
            max: configuration.reconnectBackoff.max
        )
        self.state = LockedState(
            State(slots: Array(repeating: Slot(backoff: backoff), count: configuration.connectionCount))
        )
        let loops = Array(eventLoopGroup.makeIterator())
        self.slotLoops = (0..<configuration.connectionCount).map { loops.isEmpty ? eventLoopGroup.next() : loops[$0 % loops.count] }
    }

    /// The next slot in turn, preferring one whose connection lives on `loop`.
    private func nextSlot(_ state: inout State, preferring loop: (any EventLoop)?) -> Int {
        var index = state.next
        if let loop {
            let wanted = ObjectIdentifier(loop)
            for step in 0..<state.slots.count {
                let candidate = (state.next + step) % state.slots.count
                if ObjectIdentifier(slotLoops[candidate]) == wanted {
                    index = candidate
                    break
                }
            }
        }
        state.next = (index + 1) % state.slots.count
        return index
    }

    /// The connection for the next request: the next slot's, connecting it first if
    /// needed. While that slot backs off, any other slot's open connection serves instead.
    ///
    /// - Throws: ``RedisError/Kind/unavailable`` while the slot backs off,
    ///   ``RedisError/Kind/connectionFailed`` when the attempt this request waited for failed.
    func connection() async throws -> RedisConnection {
        let current = MultiThreadedEventLoopGroup.currentEventLoop
        let (index, action) = state.withLock { state in
            let index = nextSlot(&state, preferring: current)
            let loop = slotLoops[index]
            let action = state.slots[index].acquire(now: .now()) {
                loop.makePromise(of: RedisConnection.self)
            }
            // A slot backing off should not fail requests another slot can serve.
            if case .fail(let error) = action, error.kind == .unavailable,
                let other = state.slots.lazy.compactMap(\.usableConnection).first
            {
                return (index, Slot.AcquireAction.use(other))
            }
            return (index, action)
        }
        switch action {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let attempt):
            return try await attempt.futureResult.get()
        case .startConnecting(let attempt):
            Task {
                await self.connect(slot: index, completing: attempt)
            }
            return try await attempt.futureResult.get()
        }
    }

    /// A new connection (on `eventLoop`, or the group's next), logged in and through the
    /// `onConnect` hook.
    func makeConnection(on eventLoop: (any EventLoop)? = nil) async throws -> RedisConnection {
        var endpoint = configuration.endpoint
        let eventLoop = eventLoop ?? eventLoopGroup.next()
        if let sentinel = configuration.sentinel {
            let primary = try await sentinel.primary(
                tls: endpoint.usesTLS ? configuration.tls : nil, eventLoop: eventLoop, logger: logger,
                connectTimeout: configuration.connectTimeout,
                commandTimeout: configuration.commandTimeout)
            endpoint.host = primary.host
            endpoint.port = primary.port
        }
        let connection = try await RedisConnection.connect(
            to: endpoint,
            tls: configuration.tls,
            eventLoop: eventLoop,
            logger: logger,
            connectTimeout: configuration.connectTimeout,
            commandTimeout: configuration.commandTimeout
        )
        if configuration.sentinel != nil {
            // The Sentinels may still name the old primary for a moment after a failover.
            let role = try? await connection.send(RedisCommand("ROLE", []))
            guard role?.array?.first?.string == "master" else {
                await connection.close()
                throw RedisError.connectionFailed(
                    "\(endpoint.host):\(endpoint.port) is not the primary (ROLE: \(role?.array?.first?.string ?? "no answer")); failover in progress?"
                )
            }
        }
        guard let onConnect else { return connection }
        do {
            try await onConnect(connection)
        } catch {
            await connection.close()
            throw RedisError.connectionFailed("onConnect hook failed: \(error)")
        }
        return connection
    }

    private func connect(slot index: Int, completing attempt: EventLoopPromise<RedisConnection>) async {
        do {
            let connection = try await makeConnection(on: slotLoops[index])
            let action = state.withLock { $0.slots[index].connectSucceeded(connection) }
            switch action {
            case .serve(let failures):
                if failures > 0 {
                    logger.info(
                        "Redis connection re-established",
                        metadata: [
                            "redis.endpoint": "\(configuration.endpoint)", "redis.failed_attempts": "\(failures)",
                        ]
                    )
                }
                attempt.succeed(connection)
            case .close:
                await connection.close()
                attempt.fail(RedisError.clientShutdown)
            }
        } catch {
            let redisError = error as? RedisError ?? .connectionFailed("\(error)")
            let reason = redisError.connectionFailureReason ?? "\(redisError)"
            let action = state.withLock {
                $0.slots[index].connectFailed(reason: reason, now: .now(), jitter: Double.random(in: 0..<1))
            }
            if case .backOff(let delay, let failures) = action {
                logger.warning(
                    "Redis connection attempt failed",
                    metadata: [
                        "redis.endpoint": "\(configuration.endpoint)",
                        "redis.failed_attempts": "\(failures)",
                        "redis.retry_in_ms": "\(delay.roundedMilliseconds)",
                        "error": "\(redisError)",
                    ]
                )
            }
            attempt.fail(redisError.kind == .connectionFailed ? redisError : .connectionFailed(reason))
        }
    }

    /// Closes every connection and waits for attempts under way; later requests fail
    /// with ``RedisError/clientShutdown``.
    func shutdown() async {
        let stopped = state.withLock { state in
            state.slots.indices.map { state.slots[$0].shutdown() }
        }
        for (connection, attempt) in stopped {
            if let connection {
                await connection.close()
            }
            if let attempt {
                _ = try? await attempt.futureResult.get()
            }
        }
    }
}
