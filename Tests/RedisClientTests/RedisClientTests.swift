import HikyakuTestSupport
import Logging
import NIOCore
import RedisClient
import Testing

/// Counts `onConnect` calls across tasks.
private actor Counter {
    private(set) var value = 0

    func increment() -> Int {
        value += 1
        return value
    }
}

/// `RedisClient` against a real redis-server.
@Suite struct RedisClientTests {
    private func makeClient(
        _ server: RedisServerProcess,
        connectionCount: Int = 2,
        commandTimeout: Duration = .seconds(30),
        backoff: (initial: Duration, max: Duration) = (.milliseconds(100), .seconds(5)),
        logger: Logger = .quiet,
        onConnect: (@Sendable (RedisConnection) async throws -> Void)? = nil
    ) throws -> RedisClient {
        RedisClient(
            configuration: .init(
                endpoint: try RedisEndpoint(url: server.url),
                connectionCount: connectionCount,
                commandTimeout: commandTimeout,
                reconnectBackoff: backoff
            ),
            eventLoopGroup: TestSupport.group,
            logger: logger,
            onConnect: onConnect
        )
    }

    @Test func connectsLazilyAndSpreadsRequestsRoundRobin() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let observer = try await TestSupport.connect(server)
        defer { Task { await observer.close() } }
        let client = try makeClient(server, connectionCount: 3)

        #expect(try await TestSupport.info(observer, section: "clients", field: "connected_clients") == 1)
        _ = try await client.send(RedisCommand("PING"))
        #expect(try await TestSupport.info(observer, section: "clients", field: "connected_clients") == 2)

        var ids: [Int64] = []
        for _ in 0..<6 {
            ids.append(try #require(try await client.send(RedisCommand("CLIENT", "ID")).int))
        }
        // The PING went to the first connection, so CLIENT ID starts on the second.
        #expect(Set(ids).count == 3)
        #expect(Array(ids[0..<3]) == Array(ids[3..<6]))
        #expect(try await TestSupport.info(observer, section: "clients", field: "connected_clients") == 4)
        await client.shutdown()
    }

    @Test func fiftyConcurrentTasksEachGetTheirOwnReplies() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let client = try makeClient(server, connectionCount: 2)

        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<50 {
                group.addTask {
                    var wrong = 0
                    for round in 0..<20 {
                        let payload = "task-\(task)-round-\(round)"
                        if round % 5 == 4 {
                            let replies = try await client.pipeline([
                                RedisCommand("ECHO", .string(payload)), RedisCommand("ECHO", .string(payload + "-b")),
                            ])
                            if replies.map(\.string) != [payload, payload + "-b"] { wrong += 1 }
                        } else if try await client.send(RedisCommand("ECHO", .string(payload))).string != payload {
                            wrong += 1
                        }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        await client.shutdown()
    }

    @Test func pipelineReturnsErrorRepliesInPlace() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let client = try makeClient(server)

        let replies = try await client.pipeline([
            RedisCommand("SET", "k", "v"), RedisCommand("INCR", "k"), RedisCommand("GET", "k"),
        ])
        #expect(replies[0] == .simpleString("OK"))
        #expect(replies[1].errorMessage?.hasPrefix("ERR") == true)
        #expect(replies[2].string == "v")
        let error = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("INCR", "k")) }
        #expect(error?.isServerError == true)
        #expect(try await client.pipeline([]) == [])
        await client.shutdown()
    }

    @Test func onConnectRunsOnEveryNewConnectionBeforeItServes() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let calls = Counter()
        let client = try makeClient(server, connectionCount: 2) { connection in
            _ = await calls.increment()
            _ = try await connection.send(RedisCommand("CLIENT", "SETNAME", "hikyaku"))
        }

        for _ in 0..<6 {
            #expect(try await client.send(RedisCommand("CLIENT", "GETNAME")).string == "hikyaku")
        }
        #expect(await calls.value == 2)

        let name = try await client.withDedicatedConnection { connection in
            try await connection.send(RedisCommand("CLIENT", "GETNAME")).string
        }
        #expect(name == "hikyaku")
        #expect(await calls.value == 3)
        await client.shutdown()
    }

    @Test func onConnectFailureCountsAsAConnectFailure() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let calls = Counter()
        let recorder = LogRecorder()
        let client = try makeClient(
            server,
            connectionCount: 1,
            backoff: (.milliseconds(20), .milliseconds(40)),
            logger: .recording(recorder)
        ) { _ in
            if await calls.increment() == 1 {
                throw RedisError.server("ERR simulated FUNCTION LOAD failure")
            }
        }

        let first = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
        #expect(first?.kind == .connectionFailed)
        #expect(first?.description.contains("onConnect hook failed") == true)
        #expect(recorder.contains(level: .warning, "Redis connection attempt failed"))

        // After the backoff the next attempt runs the hook again, which now succeeds.
        #expect(try await Self.sendRetryingWhileUnavailable(client, RedisCommand("PING")) == .simpleString("PONG"))
        #expect(await calls.value == 2)
        #expect(recorder.contains(level: .info, "Redis connection re-established"))
        await client.shutdown()
    }

    @Test func requestsAvoidASlotThatIsBackingOff() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let calls = Counter()
        // The second connection's hook fails, so its slot backs off for a long time.
        let client = try makeClient(server, connectionCount: 2, backoff: (.seconds(20), .seconds(40))) { connection in
            if await calls.increment() == 2 {
                throw RedisError.server("ERR simulated failure")
            }
        }
        #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
        let failed = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
        #expect(failed?.kind == .connectionFailed)
        // Round-robin would pick the failed slot every other time; the open connection serves instead.
        for _ in 0..<10 {
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
        }
        #expect(await calls.value == 2)
        await client.shutdown()
    }

    @Test func timeoutClosesTheConnectionAndTheNextRequestReconnects() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let client = try makeClient(server, connectionCount: 1, commandTimeout: .seconds(1))

        let observer = try await TestSupport.connect(server)
        defer { Task { await observer.close() } }

        let before = try #require(try await client.send(RedisCommand("CLIENT", "ID")).int)
        // BLPOP … 0 waits forever by request (no timeout); PING behind it times out.
        let blocked = Task { try await client.send(RedisCommand("BLPOP", "never", 0)) }
        #expect(try await TestSupport.waitForBlockedClients(1, observer: observer))
        await #expect(throws: RedisError.timeout) { try await client.send(RedisCommand("PING")) }
        await #expect(throws: RedisError.connectionClosed) { try await blocked.value }

        let after = try #require(try await client.send(RedisCommand("CLIENT", "ID")).int)
        #expect(after != before)
        await client.shutdown()
    }

    @Test func recoversAfterTheServerGoesAwayAndComesBack() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let recorder = LogRecorder()
        // A long first backoff, so the request right after a failed attempt surely falls inside it.
        let client = try makeClient(
            server,
            connectionCount: 1,
            backoff: (.seconds(3), .seconds(6)),
            logger: .recording(recorder)
        )
        let observer = try await TestSupport.connect(server)

        #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))

        // A request in flight when the server dies fails with connectionClosed.
        let blocked = Task { try await client.send(RedisCommand("BLPOP", "never", 0)) }
        #expect(try await TestSupport.waitForBlockedClients(1, observer: observer))
        server.stop()
        await #expect(throws: RedisError.connectionClosed) { try await blocked.value }
        await observer.close()

        // The next request tries to reconnect and fails; the one after fails fast.
        let failed = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
        #expect(failed?.kind == .connectionFailed)
        let unavailable = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
        #expect(unavailable?.kind == .unavailable)
        #expect(unavailable?.retryAfter.map { $0 > .zero && $0 <= .seconds(3) } == true)
        #expect(unavailable?.description.contains("next attempt in") == true)
        #expect(recorder.contains(level: .warning, "Redis connection attempt failed"))

        // Same port, same client: requests succeed again.
        try await server.restart()
        #expect(try await Self.sendRetryingWhileUnavailable(client, RedisCommand("PING")) == .simpleString("PONG"))
        #expect(recorder.contains(level: .info, "Redis connection re-established"))
        #expect(try await client.send(RedisCommand("SET", "back", "yes")) == .simpleString("OK"))
        await client.shutdown()
    }

    @Test func failsFastWhileTheServerIsDown() async throws {
        let server = try await RedisServerProcess.start()
        server.stop()
        let client = try makeClient(server, connectionCount: 1, backoff: (.seconds(10), .seconds(20)))

        let first = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
        #expect(first?.kind == .connectionFailed)
        // Every request during the backoff is refused at once, none queued.
        for _ in 0..<100 {
            let error = await #expect(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
            #expect(error?.kind == .unavailable)
        }
        await client.shutdown()
    }

    @Test func dedicatedConnectionServesBlockingCommands() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let client = try makeClient(server, connectionCount: 1)

        let (popped, dedicated) = try await client.withDedicatedConnection { connection in
            async let pop = connection.send(RedisCommand("BLPOP", "jobs", 0), timeout: .seconds(30))
            // The pooled connection is not held up by the blocked one.
            let observer = try await TestSupport.connect(server)
            #expect(try await TestSupport.waitForBlockedClients(1, observer: observer))
            await observer.close()
            _ = try await client.send(RedisCommand("RPUSH", "jobs", "job-7"))
            return (try await pop, connection)
        }
        #expect(popped.array?.last?.string == "job-7")
        #expect(!dedicated.isActive)
        await client.shutdown()
    }

    @Test func shutdownClosesConnectionsAndRefusesRequests() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let client = try makeClient(server, connectionCount: 2)
        let observer = try await TestSupport.connect(server)
        defer { Task { await observer.close() } }

        _ = try await client.send(RedisCommand("PING"))
        _ = try await client.send(RedisCommand("PING"))
        #expect(try await TestSupport.info(observer, section: "clients", field: "connected_clients") == 3)
        await client.shutdown()
        await #expect(throws: RedisError.clientShutdown) { try await client.send(RedisCommand("PING")) }
        #expect(
            try await TestSupport.eventually {
                try await TestSupport.info(observer, section: "clients", field: "connected_clients") == 1
            }
        )
    }

    /// Sends `command`, sleeping through `unavailable` backoffs (at most 50 tries).
    static func sendRetryingWhileUnavailable(_ client: RedisClient, _ command: RedisCommand) async throws -> RESPValue {
        for _ in 0..<50 {
            do {
                return try await client.send(command)
            } catch let error as RedisError where error.kind == .unavailable || error.kind == .connectionFailed {
                try await Task.sleep(for: error.retryAfter ?? .milliseconds(50))
            }
        }
        return try await client.send(command)
    }
}
