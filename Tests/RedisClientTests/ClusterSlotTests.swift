import NIOCore
import Testing

@testable import RedisClient

@Suite struct HashSlotTests {
    /// Values from the Redis Cluster specification and `CLUSTER KEYSLOT` on redis-server 7.0.
    @Test func slotsMatchRedis() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)  // the specification's check value
        #expect(HashSlot(key: "foo").value == 12182)
        #expect(HashSlot(key: "abc").value == 7638)
        #expect(HashSlot(key: "hk:{hk}:events").value == 8014)
        #expect(HashSlot(key: "").value == 0)
    }

    @Test func hashTagDecides() {
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        #expect(HashSlot(key: "hk:{q1}:msg:7") == HashSlot(key: "q1"))
        // The first '{' and the first '}' after it; an empty tag hashes the whole key.
        #expect(HashSlot(key: "foo{}{bar}") == HashSlot(key: "foo{}{bar}".utf8.map { $0 }))
        #expect(HashSlot(key: "foo{}{bar}") != HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{{bar}}zap") == HashSlot(key: "{bar"))
        #expect(HashSlot(key: "foo{bar}{zap}") == HashSlot(key: "bar"))
        #expect(HashSlot(key: "no{close") == HashSlot(key: Array("no{close".utf8)))
    }

    @Test func commandsRouteByTheirFirstKey() {
        let home = HashSlot(key: "hk:{hk}:")
        #expect(RedisCommand("GET", "hk:{hk}:msg:1").hashSlot == home)
        #expect(RedisCommand("FCALL", "hk_enqueue", 3, "hk:{hk}:msg:1", "x", "y", "arg").hashSlot == home)
        #expect(RedisCommand("FCALL", "hk_time", 0, "arg").hashSlot == nil)
        // SCAN goes where its pattern's literal hash tag is; any other SCAN to the home slot.
        #expect(RedisCommand("SCAN", "0", "MATCH", "hk:{hk}:susp:*", "COUNT", 100).hashSlot == home)
        #expect(RedisCommand("SCAN", "0", "MATCH", "hk:{lim}:susp:*").hashSlot == HashSlot(key: "{lim}"))
        #expect(RedisCommand("SCAN", "0", "MATCH", "hk:{l*}:susp:*").hashSlot == nil)
        #expect(RedisCommand("SCAN", "0", "MATCH", "hk:*").hashSlot == nil)
        #expect(RedisCommand("SCAN", "0").hashSlot == nil)
        #expect(RedisCommand("XREADGROUP", "GROUP", "g", "c", "BLOCK", 10, "streams", "hk:{hk}:events", ">").hashSlot == home)
        #expect(RedisCommand("XGROUP", "CREATE", "hk:{hk}:events", "g", "$").hashSlot == home)
        #expect(RedisCommand("BLPOP", "hk:{hk}:wake:p", 5).hashSlot == home)
        #expect(RedisCommand("APPEND", [.string("hk:{hk}:tmp:1"), .bytes(ByteBuffer(string: "x"))]).hashSlot == home)
        #expect(RedisCommand("GET", [.bytes(ByteBuffer(string: "foo"))]).hashSlot?.value == 12182)
        for keyless in ["PING", "TIME", "MULTI", "EXEC", "SCAN", "WAIT"] {
            #expect(RedisCommand(keyless, []).hashSlot == nil, "\(keyless)")
        }
        #expect(RedisCommand("FUNCTION", "LOAD", "REPLACE", "code").hashSlot == nil)
    }
}

@Suite struct ClusterSlotMapTests {
    private let asked = RedisAddress(host: "10.0.0.9", port: 7000)

    private func range(_ start: Int64, _ end: Int64, _ host: String, _ port: Int64) -> RESPValue {
        .array([
            .integer(start), .integer(end),
            .array([.bulkString(ByteBuffer(string: host)), .integer(port), .bulkString(ByteBuffer(string: "id"))]),
            .array([.bulkString(ByteBuffer(string: "10.0.0.99")), .integer(7999), .bulkString(ByteBuffer(string: "replica"))]),
        ])
    }

    @Test func readsClusterSlots() throws {
        let reply = RESPValue.array([
            range(0, 5460, "10.0.0.1", 7000), range(5461, 10922, "10.0.0.2", 7000), range(10923, 16383, "", 7002),
        ])
        let map = try ClusterSlotMap(slotsReply: reply, answeredBy: asked)
        #expect(map.primary(for: HashSlot(0)!) == RedisAddress(host: "10.0.0.1", port: 7000))
        #expect(map.primary(for: HashSlot(5461)!) == RedisAddress(host: "10.0.0.2", port: 7000))
        // An empty host is the node that answered.
        #expect(map.primary(for: HashSlot(16383)!) == RedisAddress(host: "10.0.0.9", port: 7002))
        #expect(map.primaries.count == 3)
        #expect(map.unservedSlotCount == 0)
    }

    @Test func gapsAreUnservedAndMovesCorrectOneSlot() throws {
        var map = try ClusterSlotMap(slotsReply: .array([range(0, 99, "a", 1)]), answeredBy: asked)
        #expect(map.unservedSlotCount == HashSlot.count - 100)
        #expect(map.primary(for: HashSlot(100)!) == nil)
        map.move(HashSlot(50)!, to: RedisAddress(host: "b", port: 2))
        #expect(map.primary(for: HashSlot(50)!) == RedisAddress(host: "b", port: 2))
        #expect(map.primary(for: HashSlot(49)!) == RedisAddress(host: "a", port: 1))
    }

    @Test func malformedRepliesAreProtocolErrors() {
        let bad: [RESPValue] = [
            .integer(1),
            .array([.array([.integer(0), .integer(16384), .array([.bulkString(ByteBuffer(string: "a")), .integer(1)])])]),
            .array([.array([.integer(9), .integer(3), .array([.bulkString(ByteBuffer(string: "a")), .integer(1)])])]),
            .array([.array([.integer(0), .integer(3), .array([.bulkString(ByteBuffer(string: "a")), .integer(0)])])]),
            .array([.array([.integer(0), .integer(3)])]),
        ]
        for reply in bad {
            #expect(throws: RedisError.self) { try ClusterSlotMap(slotsReply: reply, answeredBy: asked) }
        }
    }

    @Test func redirectionsParse() {
        let moved = ClusterRedirect(errorMessage: "MOVED 3999 127.0.0.1:6381", answeredBy: asked)
        #expect(moved?.kind == .moved)
        #expect(moved?.slot == HashSlot(3999))
        #expect(moved?.address == RedisAddress(host: "127.0.0.1", port: 6381))
        let ask = ClusterRedirect(errorMessage: "ASK 12 :6390", answeredBy: asked)
        #expect(ask?.kind == .ask)
        #expect(ask?.address == RedisAddress(host: "10.0.0.9", port: 6390))
        #expect(ClusterRedirect(errorMessage: "MOVED 1 [::1]:7000", answeredBy: asked)?.address == RedisAddress(host: "::1", port: 7000))
        for notARedirect in ["ERR wrong", "MOVED 16384 a:1", "MOVED x a:1", "ASK 1 a:0", "MOVED 1 a", "TRYAGAIN Multiple keys"] {
            #expect(ClusterRedirect(errorMessage: notARedirect, answeredBy: asked) == nil, "\(notARedirect)")
        }
    }
}
