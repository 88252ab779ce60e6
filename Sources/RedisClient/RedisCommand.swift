/// One Redis command: its name and its arguments, sent as a RESP array of bulk strings.
///
/// ```
/// RedisCommand("SET", "greeting", "hello")
/// C: *3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$5\r\nhello\r\n
/// S: +OK\r\n
/// ```
public struct RedisCommand: Sendable, Hashable {
    /// The command name (`GET`, `EVALSHA`, `XREADGROUP`); sent as the first bulk string.
    public var name: String
    /// The arguments after the name.
    public var arguments: [RESPArgument]

    public init(_ name: String, _ arguments: [RESPArgument]) {
        self.name = name
        self.arguments = arguments
    }

    public init(_ name: String, _ arguments: RESPArgument...) {
        self.init(name, arguments)
    }
}
