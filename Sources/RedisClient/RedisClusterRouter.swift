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

    func send(_ command: RedisCommand) async throws -> RESPValue {
        let slot = command.hashSlot ?? cluster.homeSlot
        var askTarget: RedisAddress?
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            let node: RedisAddress
            if let askTarget { node = askTarget } else { node = try await primary(for: slot) }
            let reply: RESPValue
            do {
                let connection = try await pool(for: node).connection()
                if askTarget != nil {
                    reply = try await connection.pipeline([RedisCommand("ASKING", []), command])[1]
                } else {
                    reply = try await connection.send(command)
                }
            } catch let error as RedisError {
                guard try await shouldRetry(after: error, slot: slot, node: node, attempt: attempt, started: started)
                else { throw error }
                askTarget = error.serverMessage.flatMap { Self.askTarget($0, node: node) }
                continue
            }
            // `RedisConnection.pipeline` returns error replies as values; `send` throws them.
            guard case .error(let message) = reply else { return reply }
            let error = RedisError.server(message)
            guard try await shouldRetry(after: error, slot: slot, node: node, attempt: attempt, started: started)
            else { throw error }
            askTarget = Self.askTarget(message, node: node)
        }
    }

    private static func askTarget(_ message: String, node: RedisAddress) -> RedisAddress? {
        ClusterRedirect(errorMessage: message, answeredBy: node).flatMap { $0.kind == .ask ? $0.address : nil }
    }

    /// Sends the commands to their slots' primaries: one pipeline per primary, in
    /// parallel, replies put back in the callers' order. A command without a key goes with
    /// the keyed command before it (`FCALL …` then `WAIT 1 1000` reach the same node), or
    /// with the first keyed command when it leads (`MULTI`).
    ///
    /// A command redirected (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`) is sent again
    /// through ``send(_:)``, with the keyless commands that followed it; a transaction
    /// (`MULTI` … `EXEC`) that met a redirection was discarded by Redis (`EXECABORT`) and is
    /// sent again whole.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        var replies = try await pipelineOnce(commands)
        if commands.contains(where: { $0.name.uppercased() == "MULTI" }) {
            let started = ContinuousClock.now
            let slot = commands.lazy.compactMap(\.hashSlot).first ?? cluster.homeSlot
            var attempt = 1
            while replies.contains(where: { Self.isRedirection($0) }),
                try await shouldRetry(
                    after: .server(replies.first(where: { Self.isRedirection($0) })?.errorMessage ?? ""),
                    slot: slot, node: state.withLock { $0.map.primary(for: slot) }, attempt: attempt, started: started)
            {
                attempt += 1
                replies = try await pipelineOnce(commands)
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
            while end < commands.count, commands[end].hashSlot == nil { end += 1 }
            if end == index + 1 {
                do { replies[index] = try await send(commands[index]) } catch let error as RedisError where error.isServerError {
                    replies[index] = .error(error.serverMessage ?? "")
                }
            } else {
                let again = try await pipelineOnSlot(Array(commands[index..<end]), slot: commands[index].hashSlot)
                replies.replaceSubrange(index..<end, with: again)
            }
            index = end
        }
        return replies
    }

    /// The commands on the connection serving `slot`, retried as ``send(_:)`` retries while
    /// the first reply is a redirection (the rest follow the first: keyless commands).
    private func pipelineOnSlot(_ commands: [RedisCommand], slot: HashSlot?) async throws -> [RESPValue] {
        let slot = slot ?? cluster.homeSlot
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            let node = try await primary(for: slot)
            do {
                let replies = try await pool(for: node).connection().pipeline(commands)
                guard case .error(let message) = replies.first, Self.isRedirection(replies[0]),
                    try await shouldRetry(after: .server(message), slot: slot, node: node, attempt: attempt, started: started)
                else { return replies }
            } catch let error as RedisError {
                guard try await shouldRetry(after: error, slot: slot, node: node, attempt: attempt, started: started)
                else { throw error }
            }
        }
    }

    /// One pass: each command to the primary its slot's map entry names.
    private func pipelineOnce(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        let firstSlot = commands.lazy.compactMap(\.hashSlot).first ?? cluster.homeSlot
        var slotOfCommand: [HashSlot] = []
        slotOfCommand.reserveCapacity(commands.count)
        var current = firstSlot
        for command in commands {
            if let slot = command.hashSlot { current = slot }
            slotOfCommand.append(current)
        }
        var nodeOfCommand: [RedisAddress] = []
        nodeOfCommand.reserveCapacity(commands.count)
        for slot in slotOfCommand { nodeOfCommand.append(try await primary(for: slot)) }
        // The common case in Hikyaku: every key in one slot.
        if nodeOfCommand.allSatisfy({ $0 == nodeOfCommand[0] }) {
            return try await pipelineOnSlot(commands, slot: firstSlot)
        }
        var groups: [RedisAddress: [Int]] = [:]
        for (index, node) in nodeOfCommand.enumerated() { groups[node, default: []].append(index) }
        var replies = [RESPValue](repeating: .null, count: commands.count)
        let slots = slotOfCommand
        try await withThrowingTaskGroup(of: ([Int], [RESPValue]).self) { group in
            for (_, indices) in groups {
                group.addTask {
                    (indices, try await self.pipelineOnSlot(indices.map { commands[$0] }, slot: slots[indices[0]]))
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
        let slot = key.map { HashSlot(key: $0) } ?? cluster.homeSlot
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            let node = try await primary(for: slot)
            do {
                return try await pool(for: node).makeConnection()
            } catch let error as RedisError {
                guard try await shouldRetry(after: error, slot: slot, node: node, attempt: attempt, started: started)
                else { throw error }
            }
        }
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
