import NIOCore
import Testing

@testable import RedisClient

@Suite struct RESPReaderTests {
    private static func bulk(_ text: String) -> RESPValue {
        .bulkString(ByteBuffer(string: text))
    }

    static let cases: [(wire: String, value: RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR unknown command 'FOO'\r\n", .error("ERR unknown command 'FOO'")),
        (":-12\r\n", .integer(-12)),
        (":9223372036854775807\r\n", .integer(.max)),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("$0\r\n\r\n", bulk("")),
        ("$4\r\na\r\nb\r\n", bulk("a\r\nb")),
        ("*0\r\n", .array([])),
        (
            "*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n+x\r\n",
            .array([bulk("a"), .array([.integer(1), .null]), .simpleString("x")])
        ),
    ]

    @Test(arguments: cases)
    func decodesEachReplyType(wire: String, value: RESPValue) throws {
        let reader = RESPReader()
        try reader.feed(ByteBuffer(string: wire))
        #expect(try reader.next() == value)
        #expect(try reader.next() == nil)
    }

    @Test func partialRepliesWaitForMoreBytes() throws {
        let wire = Self.cases.map(\.wire).joined()
        let reader = RESPReader()
        var decoded: [RESPValue] = []
        // One byte at a time: every prefix is a partial reply until its last byte arrives.
        for byte in wire.utf8 {
            try reader.feed(ByteBuffer(bytes: [byte]))
            while let value = try reader.next() {
                decoded.append(value)
            }
        }
        #expect(decoded == Self.cases.map(\.value))
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let payload: [UInt8] = Array(0...255) + [0x0D, 0x0A, 0x00]
        var wire = ByteBuffer(string: "$\(payload.count)\r\n")
        wire.writeBytes(payload)
        wire.writeString("\r\n")
        let reader = RESPReader()
        try reader.feed(wire)
        #expect(try reader.next()?.buffer.map { Array($0.readableBytesView) } == payload)
    }

    @Test func malformedInputIsAProtocolError() throws {
        let reader = RESPReader()
        try reader.feed(ByteBuffer(string: "!not resp\r\n"))
        let error = #expect(throws: RedisError.self) { try reader.next() }
        #expect(error?.kind == .protocolError)
        #expect(error?.description.contains("Protocol error") == true)
    }

    @Test func arraysNestedDeeperThanSevenAreRefused() throws {
        // hiredis 0.14 keeps a fixed stack of 9 read tasks.
        let reader = RESPReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 9) + ":1\r\n"))
        let error = #expect(throws: RedisError.self) { try reader.next() }
        #expect(error?.kind == .protocolError)
    }

    @Test func sevenLevelsOfNestingAreRead() throws {
        let reader = RESPReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 7) + ":1\r\n"))
        var expected = RESPValue.integer(1)
        for _ in 0..<7 {
            expected = .array([expected])
        }
        #expect(try reader.next() == expected)
    }
}
