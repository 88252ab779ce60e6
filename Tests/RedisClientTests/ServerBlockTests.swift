import NIOCore
import Testing

@testable import RedisClient

@Suite struct ServerBlockTests {
    static let cases: [(command: RedisCommand, block: RedisCommand.ServerBlock)] = [
        (RedisCommand("GET", "k"), .none),
        (RedisCommand("FCALL", "claim", 0), .none),
        (RedisCommand("BLPOP", "a", "b", 5), .upTo(.seconds(5))),
        (RedisCommand("brpop", "a", .double(0.5)), .upTo(.milliseconds(500))),
        (RedisCommand("BLMOVE", "a", "b", "LEFT", "RIGHT", "0"), .indefinitely),
        (RedisCommand("BZPOPMIN", "z", .bytes(ByteBuffer(string: "1.5"))), .upTo(.milliseconds(1500))),
        (RedisCommand("BLMPOP", 3, 1, "a", "LEFT"), .upTo(.seconds(3))),
        (RedisCommand("XREAD", "COUNT", 10, "BLOCK", 2000, "STREAMS", "s", "$"), .upTo(.seconds(2))),
        (RedisCommand("XREADGROUP", "GROUP", "g", "c", "block", 0, "STREAMS", "s", ">"), .indefinitely),
        (RedisCommand("XREAD", "COUNT", 10, "STREAMS", "s", "0"), .none),
        (RedisCommand("XADD", "s", "*", "f", "v"), .none),
        (RedisCommand("WAIT", 1, 250), .upTo(.milliseconds(250))),
        (RedisCommand("BLPOP", "a", "soon"), .none),
        (RedisCommand("BLPOP", "a", -1), .none),
    ]

    @Test(arguments: cases)
    func findsTheBlockingTime(command: RedisCommand, block: RedisCommand.ServerBlock) {
        #expect(command.serverBlock == block)
    }

    @Test func extendsTimeouts() {
        let timeout: Duration? = .seconds(5)
        #expect(timeout.extended(by: .none) == .seconds(5))
        #expect(timeout.extended(by: .upTo(.seconds(30))) == .seconds(35))
        #expect(timeout.extended(by: .indefinitely) == nil)
        #expect(Duration?.none.extended(by: .upTo(.seconds(1))) == nil)
    }
}
