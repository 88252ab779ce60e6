import NIOCore
import SMTPProtocol

/// Parses a command line given as a string.
func parse(_ line: String) throws(SMTPCommandError) -> SMTPCommand {
    try SMTPCommandParser.parse(ByteBuffer(string: line))
}

/// The wire form of a command.
func encoded(_ command: SMTPCommand) -> String {
    var buffer = ByteBuffer()
    command.encode(into: &buffer)
    return String(buffer: buffer)
}

/// The wire form of a reply.
func encoded(_ reply: SMTPReply) -> String {
    var buffer = ByteBuffer()
    reply.encode(into: &buffer)
    return String(buffer: buffer)
}

func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

extension ByteBuffer {
    var bytes: [UInt8] {
        Array(self.readableBytesView)
    }
}

/// A deterministic random number generator (SplitMix64), so random tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Splits `input` into pieces at the given (sorted, distinct) offsets.
func pieces(of input: [UInt8], at offsets: [Int]) -> [[UInt8]] {
    var result: [[UInt8]] = []
    var start = 0
    for offset in offsets where offset > start && offset < input.count {
        result.append(Array(input[start..<offset]))
        start = offset
    }
    result.append(Array(input[start...]))
    return result
}
