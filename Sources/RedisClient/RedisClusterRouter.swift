import Logging
import NIOCore

/// Sends each command to the Redis Cluster primary that serves its key's slot, with a
/// connection pool per primary, and follows the cluster as it changes.
///
/// - The slot map comes from `CLUSTER SLOTS`, asked of a known primary or a seed; one read
///   at a time, at most every ``minimumRefreshInterval`` unless a node is unreachable.
/// - `MOVED` (the slot has moved: resharding or a failover) corrects the map and retries
///   on the new owner; `ASK` (the slot is moving) retries once on the target after
///   `ASKING`; `TRYAGAIN` (a multi-key command during a migration) and `CLUSTERDOWN`
///   (no primary for the slot, e.g. while a replica is being promoted) retry after a
///   short pause. None of those replies means the command ran, so retrying is safe.
/// - A connection that cannot be made (the primary died) reads the map again and
///   retries, so requests reach a promoted replica as soon as the cluster names it. A
///   connection lost *while* a request was in flight is not retried here: the command
///   may have run, and only the caller knows whether repeating it is harmless (the
///   callers' own retries are idempotent: enqueue ids, claims with leases).
///
/// Every new connection goes through the client's `onConnect` hook, so the function
/// libraries are loaded on each primary the client reaches — also one promoted later.
final class RedisClusterRouter: Sendable {
    private struct State: Sendable {
        var map = ClusterSlotMap()
        var pools: [RedisAddress: RedisConnectionPool] = [:]
        var refresh: Task<ClusterSlotMap, any Error>?
        var lastRefresh: ContinuousClock.Instant?
        var isShutDown = false
    }

    /// How often a `MOVED` may cause a full read of the slot map.
    static let minimumRefreshInterval: Duration = .milliseconds(250)
    /// Attempts per command before the last error goes to the caller, or more while the
    /// command timeout has not passed since the first: the pauses between them (25 ms
    /// doubling to 200 ms) cover a slot migration (`TRYAGAIN` while a multi-key call's keys
    /// are split between the two nodes) or an election.
    static let maximumAttempts = 7
    /// The longest pause between two attempts.
    static let maximumPause: Duration = .milliseconds(200)

    private let cluster: RedisClusterConfiguration
    private let configuration: RedisClient.Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onConnect: (@Sendable (RedisConnection) async throws -> Void)?
    private let state = LockedState(State())

    init(
        cluster: RedisClusterConfiguration,
        configuration: RedisClient.Configuration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onConnect: (@Sendable (RedisConnection) async throws -> Void)?
    ) {
        self.cluster = cluster
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onConnect = onConnect
    }

    // MARK: Requests

    /// One command on its slot's primary; an error reply is thrown (``RedisError/Kind/server``), as
    /// ``RedisConnection/send(_:)`` does.
    func send(_ command: RedisCommand) async throws -> RESPValue {
        let reply = try await pipelineOnSlot([command], slot: command.hashSlot)[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Sends the commands to their slots' primaries: one pipeline per primary, in
    /// parallel, replies put back in the callers' order. A command without a key goes with
    /// the keyed command before it (`FCALL …` then `WAIT 1 1000` reach the same node), or
    /// with the first keyed command when it leads (`MULTI`).
    ///
    /// A command redirected (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`) is sent again as
    /// ``send(_:)`` sends, with the keyless commands that followed it; a transaction
    /// (`MULTI` … `EXEC`) that met a redirection was discarded by Redis (`EXECABORT`) and is
    /// sent again whole.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        let slots = commands.map(\.hashSlot)
        var replies = try await pipelineOnce(commands, slots: slots)
        if commands.contains(where: { $0.name.uppercased() == "MULTI" }) {
            let started = ContinuousClock.now
            let slot = slots.lazy.compactMap { $0 }.first ?? cluster.homeSlot
            var attempt = 1
            while replies.contains(where: { Self.isRedirection($0) }),
                try await shouldRetry(
                    after: .server(replies.first(where: { Self.isRedirection($0) })?.errorMessage ?? ""),
                    slot: slot, node: state.withLock { $0.map.primary(for: slot) }, attempt: attempt, started: started)
            {
                attempt += 1
                replies = try await pipelineOnce(commands, slots: slots)
            }
            return replies
        }
        var index = 0
        while index < commands.count {
            guard Self.isRedirection(replies[index]) else {
                index += 1
                continue
            }
            var end = index + 1
            while end < commands.count, slots[end] == nil { end += 1 }
            let again = try await pipelineOnSlot(Array(commands[index..<end]), slot: slots[index])
            replies.replaceSubrange(index..<end, with: again)
            index = end
        }
        return replies
    }

    /// The commands on the connection serving `slot`, sent again as long as the first reply
    /// is a redirection that ``shouldRetry(after:slot:node:attempt:started:)`` follows —
    /// after an `ASK`, to the node it names with `ASKING` in front (the rest follow the first:
    /// keyless commands such as `WAIT`).
    private func pipelineOnSlot(_ commands: [RedisCommand], slot: HashSlot?) async throws -> [RESPValue] {
        try await retrying(
            slot: slot ?? cluster.homeSlot,
            redirection: { replies in Self.isRedirection(replies[0]) ? replies[0].errorMessage : nil }
        ) { node, asking in
            let connection = try await pool(for: node).connection()
            guard asking else { return try await connection.pipeline(commands) }
            return Array(try await connection.pipeline([RedisCommand("ASKING", [])] + commands).dropFirst())
        }
    }

    /// Runs `body` on the primary serving `slot` — after an `ASK`, on the node it names
    /// (`asking` true) — and again while ``shouldRetry(after:slot:node:attempt:started:)``
    /// says so: after a ``RedisError`` it throws, or a redirection its result carries
    /// (`redirection` gives the error reply's text).
    private func retrying<Result>(
        slot: HashSlot,
        redirection: (Result) -> String? = { _ in nil },
        _ body: (_ node: RedisAddress, _ asking: Bool) async throws -> Result
    ) async throws -> Result {
        let started = ContinuousClock.now
        var askTarget: RedisAddress?
        var attempt = 0
        while true {
            attempt += 1
            let node: RedisAddress
            if let askTarget { node = askTarget } else { node = try await primary(for: slot) }
            let result: Result
            do {
                result = try await body(node, askTarget != nil)
            } catch let error as RedisError {
                guard try await shouldRetry(after: error, slot: slot, node: node, attempt: attempt, started: started)
                else { throw error }
                askTarget = nil
                continue
            }
            guard let message = redirection(result),
                try await shouldRetry(after: .server(message), slot: slot, node: node, attempt: attempt, started: started)
            else { return result }
            askTarget = ClusterRedirect(errorMessage: message, answeredBy: node).flatMap { $0.kind == .ask ? $0.address : nil }
        }
    }

    /// One pass: each command to the primary its slot's map entry names (`slots[i]` is
    /// command i's, `nil` without a key).
    private func pipelineOnce(_ commands: [RedisCommand], slots: [HashSlot?]) async throws -> [RESPValue] {
        // A keyless command goes with the keyed one before it (the first keyed one when it leads).
        var current = slots.lazy.compactMap { $0 }.first ?? cluster.homeSlot
        let slotOfCommand = slots.map { slot in
            if let slot { current = slot }
            return current
        }
        // The common case in Hikyaku: every key in one slot.
        if slotOfCommand.allSatisfy({ $0 == slotOfCommand[0] }) {
            return try await pipelineOnSlot(commands, slot: slotOfCommand[0])
        }
        var groups: [RedisAddress: [Int]] = [:]
        for (index, slot) in slotOfCommand.enumerated() { groups[try await primary(for: slot), default: []].append(index) }
        var replies = [RESPValue](repeating: .null, count: commands.count)
        try await withThrowingTaskGroup(of: ([Int], [RESPValue]).self) { group in
            for (_, indices) in groups {
                group.addTask {
                    (indices, try await self.pipelineOnSlot(indices.map { commands[$0] }, slot: slotOfCommand[indices[0]]))
                }
            }
            for try await (indices, groupReplies) in group {
                for (position, index) in indices.enumerated() { replies[index] = groupReplies[position] }
            }
        }
        return replies
    }

    /// A new connection to the primary of `key`'s slot (the home slot without a key),
    /// through `onConnect`, for the caller to close.
    func makeConnection(forKey key: String?) async throws -> RedisConnection {
        try await retrying(slot: key.map { HashSlot(key: $0) } ?? cluster.homeSlot) { node, _ in
            try await pool(for: node).makeConnection()
        }
    }

    /// A new connection to every primary of a fresh slot map (through `onConnect`), for the
    /// caller to close.
    func makeConnectionsToEveryPrimary() async throws -> [RedisConnection] {
        let map = try await refreshMap(force: true)
        var connections: [RedisConnection] = []
        do {
            for node in map.primaries { connections.append(try await pool(for: node).makeConnection()) }
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
        return connections
    }

    /// Notes what a reply or error on a dedicated connection says about the map (a
    /// blocking read answered `MOVED`), so the caller's next connection goes to the right node.
    func observe(_ error: any Error, node: RedisAddress?) {
        guard let error = error as? RedisError, let message = error.serverMessage, let node,
            let redirect = ClusterRedirect(errorMessage: message, answeredBy: node), redirect.kind == .moved
        else { return }
        state.withLock { $0.map.move(redirect.slot, to: redirect.address) }
    }

    // MARK: Retries

    static func isRedirection(_ reply: RESPValue) -> Bool {
        guard case .error(let message) = reply else { return false }
        return message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") || message.hasPrefix("TRYAGAIN")
            || message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("EXECABORT")
    }

    /// Whether a command that failed with `error` on `node` should be sent again, after
    /// fixing the map or pausing as the error asks. `false`: the error goes to the caller.
    private func shouldRetry(
        after error: RedisError, slot: HashSlot, node: RedisAddress?, attempt: Int, started: ContinuousClock.Instant
    ) async throws -> Bool {
        guard attempt < Self.maximumAttempts || started.duration(to: .now) < configuration.commandTimeout else { return false }
        let pause = min(Duration.milliseconds(25 << min(attempt - 1, 4)), Self.maximumPause)
        if let message = error.serverMessage {
            if let node, let redirect = ClusterRedirect(errorMessage: message, answeredBy: node) {
                logger.debug(
                    "Redis Cluster redirection followed",
                    metadata: [
                        "redis.redirect": "\(redirect.kind == .moved ? "MOVED" : "ASK")", "redis.slot": "\(redirect.slot.value)",
                        "redis.from": "\(node)", "redis.to": "\(redirect.address)",
                    ])
                if redirect.kind == .moved {
                    state.withLock { $0.map.move(redirect.slot, to: redirect.address) }
                    // Other slots have probably moved with it (a failover moves all of a node's).
                    Task { try? await self.refreshMap(force: false) }
                }
                return true
            }
            if message.hasPrefix("TRYAGAIN") || message.hasPrefix("EXECABORT") {
                try await Task.sleep(for: pause)
                return true
            }
            if message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("READONLY") {
                try await Task.sleep(for: pause)
                _ = try? await refreshMap(force: true)
                return true
            }
            return false
        }
        switch error.kind {
        case .connectionFailed, .unavailable:
            // Never sent. The primary may be gone: ask the cluster who serves the slot now.
            _ = try? await refreshMap(force: true, avoiding: node)
            if let node, state.withLock({ $0.map.primary(for: slot) }) == node {
                try await Task.sleep(for: pause)
            }
            return true
        case .connectionClosed, .timeout:
            // Possibly ran: not retried, but the next request should find the right node.
            Task { try? await self.refreshMap(force: true) }
            return false
        default:
            return false
        }
    }

    // MARK: The slot map

    /// The primary serving `slot`, reading the map first when it has none.
    private func primary(for slot: HashSlot) async throws -> RedisAddress {
        if let node = state.withLock({ $0.map.primary(for: slot) }) { return node }
        let map = try await refreshMap(force: true)
        guard let node = map.primary(for: slot) else {
            throw RedisError.connectionFailed(
                "no Redis Cluster primary serves \(slot) (\(map.unservedSlotCount) of \(HashSlot.count) slots unserved: cluster down or still being created)"
            )
        }
        return node
    }

    /// Reads `CLUSTER SLOTS` again (one read at a time; callers share it). Without `force`,
    /// not within ``minimumRefreshInterval`` of the last read.
    @discardableResult
    func refreshMap(force: Bool, avoiding unreachable: RedisAddress? = nil) async throws -> ClusterSlotMap {
        let task: Task<ClusterSlotMap, any Error> = try state.withLock { state in
            if state.isShutDown { throw RedisError.clientShutdown }
            if let running = state.refresh { return running }
            if !force, let last = state.lastRefresh, last.duration(to: .now) < Self.minimumRefreshInterval {
                let map = state.map
                return Task { map }
            }
            // The node that just failed is asked last: its connect may take the whole timeout.
            var candidates = state.map.primaries + cluster.seeds.filter { !state.map.primaries.contains($0) }
            if let unreachable, let index = candidates.firstIndex(of: unreachable) {
                candidates.append(candidates.remove(at: index))
            }
            let task = Task { try await self.readMap(asking: candidates) }
            state.refresh = task
            return task
        }
        return try await task.value
    }

    private func readMap(asking candidates: [RedisAddress]) async throws -> ClusterSlotMap {
        var problems: [String] = []
        var result: ClusterSlotMap?
        for node in candidates {
            do {
                let connection = try await RedisConnection.connect(
                    to: endpoint(of: node), tls: configuration.tls, eventLoop: eventLoopGroup.next(), logger: logger,
                    connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
                let reply: RESPValue
                do {
                    reply = try await connection.send(RedisCommand("CLUSTER", ["SLOTS"]))
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
                let map = try ClusterSlotMap(slotsReply: reply, answeredBy: node)
                // A node that has just lost its primary may still list it; one that serves
                // every slot is preferred, but any map beats none.
                if result == nil || map.unservedSlotCount < result!.unservedSlotCount { result = map }
                if map.unservedSlotCount == 0 { break }
            } catch {
                problems.append("\(node): \(error)")
            }
        }
        let map = result
        let previous: ClusterSlotMap = state.withLock { state in
            let previous = state.map
            if let map { state.map = map }
            state.refresh = nil
            state.lastRefresh = .now
            return previous
        }
        guard let map else {
            throw RedisError.connectionFailed(
                "no Redis Cluster node answered CLUSTER SLOTS (\(problems.joined(separator: "; ")))")
        }
        if map.primaries != previous.primaries {
            logger.info(
                "Redis Cluster slot map read",
                metadata: [
                    "redis.primaries": "\(map.primaries.map(\.description).joined(separator: ","))",
                    "redis.unserved_slots": "\(map.unservedSlotCount)",
                ])
        }
        return map
    }

    // MARK: Connections

    private func endpoint(of node: RedisAddress) -> RedisEndpoint {
        var endpoint = configuration.endpoint
        endpoint.host = node.host
        endpoint.port = node.port
        return endpoint
    }

    private func pool(for node: RedisAddress) throws -> RedisConnectionPool {
        try state.withLock { state in
            if state.isShutDown { throw RedisError.clientShutdown }
            if let pool = state.pools[node] { return pool }
            var nodeConfiguration = configuration
            nodeConfiguration.endpoint = endpoint(of: node)
            nodeConfiguration.sentinel = nil
            nodeConfiguration.cluster = nil
            let pool = RedisConnectionPool(
                configuration: nodeConfiguration, eventLoopGroup: eventLoopGroup, logger: logger, onConnect: onConnect)
            state.pools[node] = pool
            return pool
        }
    }

    func shutdown() async {
        let (pools, refresh) = state.withLock { state in
            state.isShutDown = true
            return (Array(state.pools.values), state.refresh)
        }
        _ = try? await refresh?.value
        for pool in pools { await pool.shutdown() }
    }
}
