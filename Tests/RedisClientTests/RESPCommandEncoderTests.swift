import NIOCore
import Testing

@testable import RedisClient

@Suite struct RESPCommandEncoderTests {
    private func encoded(_ commands: RedisCommand...) -> String {
        var buffer = ByteBuffer()
        RESPCommandEncoder.encode(commands, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func encodesNameAndStringArguments() {
        #expect(encoded(RedisCommand("GET", "key")) == "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        #expect(encoded(RedisCommand("PING")) == "*1\r\n$4\r\nPING\r\n")
    }

    @Test func encodesBinaryArgumentsVerbatim() {
        let command = RedisCommand("SET", .bytes([0x00, 0x0D, 0x0A, 0xFF]), .string("é\r\n"), .bytes(ByteBuffer()))
        var buffer = ByteBuffer()
        RESPCommandEncoder.encode(command, into: &buffer)
        let expected: [UInt8] =
            Array("*4\r\n$3\r\nSET\r\n$4\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF]
            + Array("\r\n$4\r\né\r\n\r\n$0\r\n\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test(arguments: [
        (Int64(0), "0"), (42, "42"), (-7, "-7"), (Int64.max, "9223372036854775807"),
        (Int64.min, "-9223372036854775808"),
    ])
    func encodesIntegersAsDecimalText(value: Int64, text: String) {
        #expect(encoded(RedisCommand("X", .integer(value))) == "*2\r\n$1\r\nX\r\n$\(text.utf8.count)\r\n\(text)\r\n")
    }

    @Test(arguments: [(1.5, "1.5"), (-0.25, "-0.25"), (Double.infinity, "inf"), (-Double.infinity, "-inf")])
    func encodesDoubles(value: Double, text: String) {
        #expect(encoded(RedisCommand("X", .double(value))) == "*2\r\n$1\r\nX\r\n$\(text.utf8.count)\r\n\(text)\r\n")
    }

    @Test func literalsAndVariadicInitMatchArrayInit() {
        let variadic = RedisCommand("EXPIRE", "key", 60)
        let array = RedisCommand("EXPIRE", [.string("key"), .integer(60)])
        #expect(variadic == array)
        #expect(encoded(variadic) == "*3\r\n$6\r\nEXPIRE\r\n$3\r\nkey\r\n$2\r\n60\r\n")
    }

    @Test func appendsAPipelineToOneBuffer() {
        let text = encoded(RedisCommand("INCR", "a"), RedisCommand("INCR", "b"))
        #expect(text == "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n")
    }

    @Test func encodesManyArguments() {
        let arguments = (0..<1000).map { RESPArgument.int($0) }
        var buffer = ByteBuffer()
        RESPCommandEncoder.encode(RedisCommand("RPUSH", arguments), into: &buffer)
        let reader = RESPReader()
        // A RESP request is itself a valid RESP array: read it back.
        try? reader.feed(buffer)
        let decoded = try? reader.next()
        let strings = decoded?.array?.compactMap(\.string)
        #expect(strings == ["RPUSH"] + (0..<1000).map(String.init))
    }
}
