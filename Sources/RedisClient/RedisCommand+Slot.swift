import NIOCore

extension RedisCommand {
    /// The hash slot of the command's first key, which decides the Redis Cluster node it
    /// goes to; `nil` for a command without keys (`PING`, `TIME`, `WAIT`, `MULTI`, `SCAN`,
    /// `FUNCTION LOAD`, an `FCALL` with no keys), which any node of the right shard answers.
    ///
    /// Where the first key is, by the command's key specification (`COMMAND INFO`):
    /// `FCALL name numkeys key…` and the `EVAL` family after the key count; `XREAD …
    /// STREAMS key… id…` after `STREAMS`; `XGROUP CREATE key …`, `XINFO STREAM key`,
    /// `OBJECT ENCODING key` and `MEMORY USAGE key` after the subcommand; every other
    /// command Hikyaku sends (`GET`, `HSET`, `XADD`, `BLPOP`, `MGET` …) takes it first.
    /// A command naming several keys must keep them in one slot (Redis answers `CROSSSLOT`
    /// otherwise), so the first one decides.
    public var hashSlot: HashSlot? {
        guard let index = firstKeyIndex, index < arguments.count, let key = arguments[index].keyBytes else { return nil }
        return HashSlot(key: key)
    }

    private var firstKeyIndex: Int? {
        switch name.uppercased() {
        case "FCALL", "FCALL_RO", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO":
            guard arguments.count > 1, let count = arguments[1].integerValue, count > 0 else { return nil }
            return 2
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { $0.keyBytes.map { Self.isStreamsToken($0) } ?? false }) else {
                return nil
            }
            return streams + 1
        case "XGROUP", "XINFO", "OBJECT", "MEMORY":
            return arguments.count > 1 ? 1 : nil
        case "SCAN":
            // `SCAN … MATCH pattern`: a pattern whose hash tag is literal (`hk:{hk-limits}:susp:*`)
            // can only match keys of that tag's slot, so it goes to the node that has them.
            guard let match = arguments.firstIndex(where: { $0.keyBytes.map { Self.isToken($0, "MATCH") } ?? false }),
                match + 1 < arguments.count, let pattern = arguments[match + 1].keyBytes, Self.hasLiteralHashTag(pattern)
            else { return nil }
            return match + 1
        case "PING", "TIME", "WAIT", "WAITAOF", "MULTI", "EXEC", "DISCARD", "FUNCTION", "SCRIPT", "INFO",
            "SELECT", "AUTH", "HELLO", "ROLE", "CLUSTER", "ASKING", "READONLY", "READWRITE", "CLIENT", "CONFIG",
            "DBSIZE", "FLUSHALL", "FLUSHDB", "ACL", "SENTINEL", "LATENCY", "SLOWLOG", "COMMAND", "LASTSAVE",
            "BGSAVE", "BGREWRITEAOF", "SAVE", "DEBUG", "ECHO", "QUIT", "RESET":
            return nil
        default:
            return arguments.isEmpty ? nil : 0
        }
    }

    private static func isStreamsToken(_ bytes: [UInt8]) -> Bool { isToken(bytes, "STREAMS") }

    private static func isToken(_ bytes: [UInt8], _ token: String) -> Bool {
        bytes.count == token.utf8.count && bytes.elementsEqual(token.utf8, by: { $0 | 0x20 == $1 | 0x20 })
    }

    /// The pattern has a hash tag (the first `{` and the next `}`, something between) with
    /// no glob character before its end, so every key it matches hashes to the tag's slot.
    private static func hasLiteralHashTag(_ pattern: [UInt8]) -> Bool {
        guard let open = pattern.firstIndex(of: UInt8(ascii: "{")),
            let close = pattern[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        else { return false }
        return !pattern[..<close].contains {
            $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\")
        }
    }
}

extension RESPArgument {
    /// The bytes a key argument hashes: text as UTF-8, bytes as they are, numbers as
    /// the decimal text they are sent as.
    fileprivate var keyBytes: [UInt8]? {
        switch self {
        case .string(let text): Array(text.utf8)
        case .bytes(let buffer): Array(buffer.readableBytesView)
        case .integer(let value): Array(String(value).utf8)
        case .double: nil
        }
    }

    fileprivate var integerValue: Int64? {
        switch self {
        case .integer(let value): value
        case .string(let text): Int64(text)
        case .bytes(let buffer): Int64(String(buffer: buffer))
        case .double: nil
        }
    }
}
