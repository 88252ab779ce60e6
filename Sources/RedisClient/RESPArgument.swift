import NIOCore

/// One argument of a ``RedisCommand``. Every argument goes on the wire as a
/// binary-safe bulk string; integers and doubles as their decimal text.
public enum RESPArgument: Sendable, Hashable {
    /// UTF-8 text.
    case string(String)
    /// Arbitrary bytes (NUL and CRLF included).
    case bytes(ByteBuffer)
    /// A decimal integer (`EXPIRE key 60`).
    case integer(Int64)
    /// A double in Swift's shortest round-tripping form (`1.5`, `inf`, `-inf`), as `ZADD` scores take.
    case double(Double)
}

extension RESPArgument: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension RESPArgument: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension RESPArgument {
    /// An integer argument from any integer type.
    public static func int<I: BinaryInteger>(_ value: I) -> RESPArgument {
        .integer(Int64(value))
    }

    /// Arbitrary bytes from any byte sequence.
    public static func bytes<Bytes: Sequence>(_ bytes: Bytes) -> RESPArgument where Bytes.Element == UInt8 {
        .bytes(ByteBuffer(bytes: bytes))
    }
}
