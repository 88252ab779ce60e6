import HikyakuTestSupport
import NIOCore
import RedisClient
import Testing

/// `RedisConnection` against a real redis-server.
@Suite struct RedisConnectionTests {
    @Test func sendsCommandsAndThrowsErrorReplies() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server)
        defer { Task { await connection.close() } }

        #expect(try await connection.send(RedisCommand("PING")) == .simpleString("PONG"))
        #expect(try await connection.send(RedisCommand("SET", "greeting", "hello")) == .simpleString("OK"))
        #expect(try await connection.send(RedisCommand("GET", "greeting")).string == "hello")
        #expect(try await connection.send(RedisCommand("GET", "missing")) == .null)
        #expect(try await connection.send(RedisCommand("INCRBY", "n", 41)) == .integer(41))

        let error = await #expect(throws: RedisError.self) {
            try await connection.send(RedisCommand("NOSUCHCOMMAND", "x"))
        }
        #expect(error?.isServerError == true)
        #expect(error?.serverErrorPrefix == "ERR")
        #expect(error?.serverMessage?.contains("unknown command") == true)

        // An error reply leaves the connection usable.
        #expect(connection.isActive)
        #expect(try await connection.send(RedisCommand("INCR", "n")) == .integer(42))
    }

    @Test func errorReplyInsideAPipelineLeavesTheOthersIntact() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server)
        defer { Task { await connection.close() } }

        let replies = try await connection.pipeline([
            RedisCommand("SET", "a", "1"),
            RedisCommand("LPUSH", "a", "x"),
            RedisCommand("INCR", "a"),
            RedisCommand("NOSUCHCOMMAND"),
            RedisCommand("GET", "a"),
        ])
        #expect(replies.count == 5)
        #expect(replies[0] == .simpleString("OK"))
        #expect(replies[1].errorMessage?.hasPrefix("WRONGTYPE") == true)
        #expect(replies[2] == .integer(2))
        #expect(replies[3].errorMessage?.hasPrefix("ERR unknown command") == true)
        #expect(replies[4].string == "2")
        #expect(try await connection.pipeline([]) == [])
    }

    @Test func tenThousandPipelinedCommandsAnsweredInOrder() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server)
        defer { Task { await connection.close() } }

        let commands = (0..<10_000).map { index in
            index % 2 == 0 ? RedisCommand("INCR", "counter") : RedisCommand("ECHO", .int(index))
        }
        let replies = try await connection.pipeline(commands)
        #expect(replies.count == 10_000)
        var mismatches = 0
        for (index, reply) in replies.enumerated() {
            let expected: RESPValue =
                index % 2 == 0 ? .integer(Int64(index / 2 + 1)) : .bulkString(ByteBuffer(string: String(index)))
            if reply != expected { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func argumentsAndRepliesAreBinarySafe() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server)
        defer { Task { await connection.close() } }

        let value = ByteBuffer(bytes: Array(0...255) + Array("\r\n\0\r\n$3\r\n+OK\r\n".utf8))
        let key = ByteBuffer(bytes: [0x6B, 0x00, 0x0D, 0x0A, 0xFF])
        #expect(try await connection.send(RedisCommand("SET", .bytes(key), .bytes(value))) == .simpleString("OK"))
        #expect(try await connection.send(RedisCommand("GET", .bytes(key))) == .bulkString(value))
        #expect(try await connection.send(RedisCommand("ECHO", .bytes(value))) == .bulkString(value))
        #expect(try await connection.send(RedisCommand("STRLEN", .bytes(key))) == .integer(Int64(value.readableBytes)))
        let members = try await connection.send(RedisCommand("KEYS", "*"))
        #expect(members == .array([.bulkString(key)]))
    }

    @Test func thirtyMegabyteValueRoundTrips() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server, commandTimeout: .seconds(60))
        defer { Task { await connection.close() } }

        let value = TestSupport.bytes(count: 30 * 1024 * 1024)
        #expect(try await connection.send(RedisCommand("SET", "big", .bytes(value))) == .simpleString("OK"))
        #expect(try await connection.send(RedisCommand("STRLEN", "big")) == .integer(30 * 1024 * 1024))
        let fetched = try await connection.send(RedisCommand("GET", "big"))
        #expect(fetched.buffer?.readableBytes == value.readableBytes)
        #expect(fetched.buffer == value)
        // The connection keeps working after the large reply.
        #expect(try await connection.send(RedisCommand("PING")) == .simpleString("PONG"))
    }

    @Test func requestsAreInFlightConcurrentlyAndMatchedInOrder() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server)
        let observer = try await TestSupport.connect(server)
        defer {
            Task {
                await connection.close()
                await observer.close()
            }
        }

        // BLPOP holds up the connection; PING is pipelined behind it.
        let blocked = Task { try await connection.send(RedisCommand("BLPOP", "jobs", 0)) }
        #expect(try await TestSupport.waitForBlockedClients(1, observer: observer))
        let ping = Task { try await connection.send(RedisCommand("PING")) }
        _ = try await observer.send(RedisCommand("RPUSH", "jobs", "job-1"))

        #expect(
            try await blocked.value
                == .array([.bulkString(ByteBuffer(string: "jobs")), .bulkString(ByteBuffer(string: "job-1"))])
        )
        #expect(try await ping.value == .simpleString("PONG"))
    }

    @Test func timeoutFailsTheCallerAndClosesTheConnection() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server, commandTimeout: .milliseconds(300))
        let observer = try await TestSupport.connect(server)
        defer {
            Task {
                await connection.close()
                await observer.close()
            }
        }

        // BLPOP holds up the connection, with a long timeout of its own.
        let blocked = Task { try await connection.send(RedisCommand("BLPOP", "never", 0), timeout: .seconds(60)) }
        #expect(try await TestSupport.waitForBlockedClients(1, observer: observer))

        // PING waits behind it past the connection's 300 ms timeout.
        await #expect(throws: RedisError.timeout) { try await connection.send(RedisCommand("PING")) }
        await #expect(throws: RedisError.connectionClosed) { try await blocked.value }
        #expect(!connection.isActive)
        await #expect(throws: RedisError.connectionClosed) { try await connection.send(RedisCommand("PING")) }
        // The server saw the client go away.
        #expect(try await TestSupport.waitForBlockedClients(0, observer: observer))
    }

    @Test func blockingCommandsGetTheirBlockTimeOnTopOfTheTimeout() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server, commandTimeout: .seconds(1))
        defer { Task { await connection.close() } }

        // The server answers after 2 s, past the 1 s command timeout but within 1 s + 2 s.
        #expect(try await connection.send(RedisCommand("BLPOP", "empty", 2)) == .null)
        #expect(try await connection.send(RedisCommand("XREAD", "BLOCK", 2000, "STREAMS", "s", "$")) == .null)
        #expect(connection.isActive)
    }

    @Test func inFlightRequestsFailWhenTheServerClosesTheConnection() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await TestSupport.connect(server)
        let observer = try await TestSupport.connect(server)
        defer { Task { await observer.close() } }

        let id = try #require(try await connection.send(RedisCommand("CLIENT", "ID")).int)
        let blocked = Task { try await connection.send(RedisCommand("BLPOP", "never", 0)) }
        #expect(try await TestSupport.waitForBlockedClients(1, observer: observer))
        #expect(try await observer.send(RedisCommand("CLIENT", "KILL", "ID", .integer(id))) == .integer(1))

        await #expect(throws: RedisError.connectionClosed) { try await blocked.value }
        #expect(try await TestSupport.eventually { !connection.isActive })
        await #expect(throws: RedisError.connectionClosed) { try await connection.send(RedisCommand("PING")) }
    }

    @Test func authenticatesWithPassword() async throws {
        let server = try await RedisServerProcess.start(extraArguments: ["--requirepass", "s3cret"])
        defer { server.stop() }
        let group = TestSupport.group

        let anonymous = try await TestSupport.connect(server)
        let error = await #expect(throws: RedisError.self) { try await anonymous.send(RedisCommand("PING")) }
        #expect(error?.serverErrorPrefix == "NOAUTH")
        await anonymous.close()

        let endpoint = try RedisEndpoint(url: "redis://:s3cret@127.0.0.1:\(server.port)")
        let connection = try await RedisConnection.connect(to: endpoint, eventLoop: group.next(), logger: .quiet)
        #expect(try await connection.send(RedisCommand("PING")) == .simpleString("PONG"))
        await connection.close()

        let wrong = try RedisEndpoint(url: "redis://:nope@127.0.0.1:\(server.port)")
        let failure = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(to: wrong, eventLoop: group.next(), logger: .quiet)
        }
        #expect(failure?.kind == .connectionFailed)
        #expect(failure?.description.contains("WRONGPASS") == true)
        #expect(failure?.description.contains("nope") == false)
    }

    @Test func authenticatesAsAnACLUserAndSelectsTheDatabase() async throws {
        let server = try await RedisServerProcess.start(extraArguments: [
            "--user", "relay", "on", ">pw", "~*", "&*", "+@all",
        ])
        defer { server.stop() }

        let endpoint = try RedisEndpoint(url: "redis://relay:pw@127.0.0.1:\(server.port)/3")
        let connection = try await RedisConnection.connect(
            to: endpoint,
            eventLoop: TestSupport.group.next(),
            logger: .quiet
        )
        defer { Task { await connection.close() } }
        #expect(try await connection.send(RedisCommand("ACL", "WHOAMI")).string == "relay")
        _ = try await connection.send(RedisCommand("SET", "where", "db3"))

        let replies = try await connection.pipeline([
            RedisCommand("SELECT", 0), RedisCommand("GET", "where"), RedisCommand("SELECT", 3),
            RedisCommand("GET", "where"),
        ])
        #expect(replies[1] == .null)
        #expect(replies[3].string == "db3")
    }

    @Test func connectFailsClearlyWhenNothingListens() async throws {
        let server = try await RedisServerProcess.start()
        let port = server.port
        server.stop()
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(
                to: RedisEndpoint(host: "127.0.0.1", port: port),
                eventLoop: TestSupport.group.next(),
                logger: .quiet
            )
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }
}
