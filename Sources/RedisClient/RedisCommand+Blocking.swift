import NIOCore

extension RedisCommand {
    /// How long the server may hold a command before answering, by design.
    enum ServerBlock: Equatable {
        /// Answered at once.
        case none
        /// Answered within this time (`BLPOP q 5`, `XREAD BLOCK 2000 …`).
        case upTo(Duration)
        /// May wait forever (`BLPOP q 0`, `XREAD BLOCK 0 …`).
        case indefinitely
    }

    /// The blocking time this command asks the server for, so a request's timeout
    /// can cover it: a `XREAD BLOCK 30000` with a 5 s command timeout gets 35 s.
    ///
    /// Seconds for `BLPOP`, `BRPOP`, `BRPOPLPUSH`, `BLMOVE`, `BZPOPMIN`, `BZPOPMAX`
    /// (last argument) and `BLMPOP`, `BZMPOP` (first argument); milliseconds for
    /// `XREAD`/`XREADGROUP` (`BLOCK ms`) and `WAIT`/`WAITAOF` (last argument). Zero means forever.
    var serverBlock: ServerBlock {
        // Every blocking command starts with B, X or W: skip the rest without allocating.
        guard let first = name.utf8.first,
            first | 0x20 == UInt8(ascii: "b") || first | 0x20 == UInt8(ascii: "x") || first | 0x20 == UInt8(ascii: "w")
        else {
            return .none
        }
        switch name.uppercased() {
        case "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BZPOPMIN", "BZPOPMAX":
            return Self.block(arguments.last, unit: .seconds(1))
        case "BLMPOP", "BZMPOP":
            return Self.block(arguments.first, unit: .seconds(1))
        case "WAIT", "WAITAOF":
            return Self.block(arguments.last, unit: .milliseconds(1))
        case "XREAD", "XREADGROUP":
            guard let index = arguments.firstIndex(where: { $0.text?.uppercased() == "BLOCK" }),
                index + 1 < arguments.count
            else {
                return .none
            }
            return Self.block(arguments[index + 1], unit: .milliseconds(1))
        default:
            return .none
        }
    }

    private static func block(_ argument: RESPArgument?, unit: Duration) -> ServerBlock {
        guard let value = argument?.number, value >= 0, value.isFinite else { return .none }
        return value == 0 ? .indefinitely : .upTo(unit * value)
    }
}

extension RESPArgument {
    /// The argument as text, if it is text or UTF-8 bytes.
    fileprivate var text: String? {
        switch self {
        case .string(let text): text
        case .bytes(let bytes): String(buffer: bytes)
        case .integer, .double: nil
        }
    }

    fileprivate var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        case .string(let text): Double(text)
        case .bytes(let bytes): Double(String(buffer: bytes))
        }
    }
}

extension Duration? {
    /// This timeout extended by the time the server may block on purpose; `nil` stays `nil`.
    func extended(by block: RedisCommand.ServerBlock) -> Duration? {
        guard let timeout = self else { return nil }
        switch block {
        case .none: return timeout
        case .upTo(let duration): return timeout + duration
        case .indefinitely: return nil
        }
    }
}
