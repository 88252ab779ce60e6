import NIOCore

/// One RESP2 reply value, as the server sent it.
///
/// RESP2 has five reply types (see the Redis "RESP protocol specification",
/// section "RESP protocol description"); a nil bulk string (`$-1`) and a nil
/// array (`*-1`) both decode to ``null``:
///
/// ```
/// C: PING                 S: +PONG                 → .simpleString("PONG")
/// C: GET missing          S: $-1                   → .null
/// C: INCR counter         S: :7                    → .integer(7)
/// C: GET key              S: $5 hello              → .bulkString("hello" bytes)
/// C: LRANGE l 0 -1        S: *2 $1 a $1 b          → .array([.bulkString, .bulkString])
/// C: INCR notanumber      S: -ERR value is not …   → .error("ERR value is not …")
/// ```
public enum RESPValue: Sendable, Hashable {
    /// A status reply (`+OK`).
    case simpleString(String)
    /// An error reply (`-ERR …`), without the leading `-`.
    case error(String)
    /// An integer reply (`:42`).
    case integer(Int64)
    /// A binary-safe bulk string (`$5\r\nhello`).
    case bulkString(ByteBuffer)
    /// A nil bulk string (`$-1`) or nil array (`*-1`).
    case null
    /// A multi-bulk reply (`*N`).
    case array([RESPValue])
}

extension RESPValue {
    /// The text of a simple or bulk string (bulk bytes decoded as UTF-8, invalid
    /// sequences repaired); `nil` for every other case. Use ``buffer`` for binary data.
    public var string: String? {
        switch self {
        case .simpleString(let text):
            return text
        case .bulkString(let buffer):
            return String(buffer: buffer)
        case .error, .integer, .null, .array:
            return nil
        }
    }

    /// An integer reply, or a simple/bulk string holding a decimal integer
    /// (as `GET counter` returns); `nil` otherwise.
    public var int: Int64? {
        switch self {
        case .integer(let value):
            return value
        case .simpleString(let text):
            return Int64(text)
        case .bulkString(let buffer):
            return Int64(String(buffer: buffer))
        case .error, .null, .array:
            return nil
        }
    }

    /// The elements of an array reply; `nil` for every other case (including a nil array).
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is a nil bulk string or nil array.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The bytes of a bulk string; `nil` for every other case.
    public var buffer: ByteBuffer? {
        if case .bulkString(let buffer) = self { return buffer }
        return nil
    }

    /// The message of an error reply (`ERR …`, `NOSCRIPT …`); `nil` for every other case.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
