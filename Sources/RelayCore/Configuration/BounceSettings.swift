/// `bounces:` — how failures are classified (README "Bounce classification"), what the
/// relay keeps to tie bounces that come back later to the message and recipient they are
/// about (README "Bounces: VERP return path"), and the bounce listener, the inbound MX of
/// the return-path domains (README "Asynchronous bounces and complaints").
public struct BounceSettings: Sendable, Codable, Hashable {
    /// A rules file that replaces the shipped classification rules (`hikyaku bounce rules`
    /// prints them, to copy and edit). Read once when a worker starts; a file that does not
    /// parse stops the start with the line at fault. Default: none (the shipped rules).
    public var rulesFile: String?
    /// How long a message's recipient index (`hk:rix:<queue id>`, written at enqueue for
    /// accounts with a return-path domain) is kept after its last recipient is final, so a
    /// bounce that arrives days later still resolves its VERP token. Default 7d.
    public var window: ConfigDuration
    /// Where `serve --role bounce` (and `all`) listens for inbound bounces and feedback
    /// reports, e.g. `0.0.0.0:25` on the hosts the return-path domains' MX records name.
    /// Without it the listener is off (`--role bounce` refuses to start).
    public var listen: String?
    /// Addresses where feedback loops (Yahoo CFL, Microsoft JMRP) send their ARF reports;
    /// accepted by the listener besides return paths, `postmaster@` and `abuse@`.
    public var feedbackLoopAddresses: [String]
    /// Largest inbound message accepted (`552 5.3.4` above). Default 10 MiB: a DSN often
    /// encloses the whole original. Only its first MiB is read.
    public var maxMessageSize: ByteSize

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rulesFile = "rules_file", window, listen, feedbackLoopAddresses = "fbl_addresses"
        case maxMessageSize = "max_message_size"
    }

    public init() {
        window = .days(7)
        feedbackLoopAddresses = []
        maxMessageSize = .mebibytes(10)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        rulesFile = try c.decodeIfPresent(String.self, forKey: .rulesFile) ?? rulesFile
        window = try c.decodeIfPresent(ConfigDuration.self, forKey: .window) ?? window
        listen = try c.decodeIfPresent(String.self, forKey: .listen) ?? listen
        feedbackLoopAddresses = try c.decodeIfPresent([String].self, forKey: .feedbackLoopAddresses) ?? feedbackLoopAddresses
        maxMessageSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxMessageSize) ?? maxMessageSize
    }

    func validate() throws {
        if let rulesFile, rulesFile.isEmpty || rulesFile.utf8.contains(0) {
            throw ConfigurationError(key: "bounces.rules_file", problem: "must be the path of a rules file, or left out")
        }
        if window.milliseconds < 1000 {
            throw ConfigurationError(key: "bounces.window", problem: "must be at least 1s (e.g. 7d)")
        }
        if let listen, HostPort.parse(listen) == nil {
            throw ConfigurationError(key: "bounces.listen", problem: "'\(listen)' is not host:port (e.g. 0.0.0.0:25)")
        }
        for (index, address) in feedbackLoopAddresses.enumerated() {
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || address.contains(where: { $0 == " " || $0 == "<" }) {
                throw ConfigurationError(
                    key: "bounces.fbl_addresses[\(index)]", problem: "'\(address)' is not an address (e.g. fbl@bounces.example.com)")
            }
        }
        if maxMessageSize.bytes < 64 * 1024 {
            throw ConfigurationError(key: "bounces.max_message_size", problem: "must be at least 64KiB")
        }
    }
}
