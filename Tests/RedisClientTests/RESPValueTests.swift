import NIOCore
import RedisClient
import Testing

@Suite struct RESPValueTests {
    @Test func conveniences() {
        let bulk = RESPValue.bulkString(ByteBuffer(string: "42"))
        #expect(bulk.string == "42")
        #expect(bulk.int == 42)
        #expect(bulk.buffer == ByteBuffer(string: "42"))
        #expect(!bulk.isNull)

        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.simpleString("OK").buffer == nil)
        #expect(RESPValue.integer(7).int == 7)
        #expect(RESPValue.integer(7).string == nil)
        #expect(RESPValue.null.isNull)
        #expect(RESPValue.null.string == nil)
        #expect(RESPValue.array([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.integer(1).array == nil)
        #expect(RESPValue.error("ERR x").string == nil)
        #expect(RESPValue.error("ERR x").errorMessage == "ERR x")
        #expect(RESPValue.bulkString(ByteBuffer(string: "abc")).int == nil)
    }

    @Test func errorKindsAndMessages() {
        let server = RedisError.server("NOSCRIPT No matching script. Please use EVAL.")
        #expect(server.isServerError)
        #expect(server.kind == .server)
        #expect(server.serverMessage == "NOSCRIPT No matching script. Please use EVAL.")
        #expect(server.serverErrorPrefix == "NOSCRIPT")
        #expect(server != .server("ERR other"))
        #expect(!RedisError.timeout.isServerError)
        #expect(RedisError.timeout.serverMessage == nil)
        #expect(RedisError.timeout == .timeout)
        #expect(RedisError.timeout != .connectionClosed)

        let unavailable = RedisError.unavailable(
            retryAfter: .milliseconds(1500),
            failedAttempts: 3,
            lastFailure: "refused"
        )
        #expect(unavailable.kind == .unavailable)
        #expect(unavailable.retryAfter == .milliseconds(1500))
        #expect(unavailable.description.contains("next attempt in 1500 ms"))
        #expect(unavailable.description.contains("3 failed"))
    }
}
