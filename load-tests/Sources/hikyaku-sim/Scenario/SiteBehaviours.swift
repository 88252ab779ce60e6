/// How one site answers (`behaviours` in the scenario). Every key is optional; an empty
/// object accepts every recipient at once, without TLS.
///
/// Recipients are checked in this order, the first refusal winning: blocked IP, unknown
/// user, mailbox full, greylisting, per-IP rate.
struct SiteBehaviours: Decodable, Sendable {
    var perIPRate: RateLimitRule?
    var blockAfterExcess: BlockRule?
    var unknownUsers: AddressRule?
    var greylist: GreylistRule?
    var mailboxFull: AddressRule?
    var latency = Latency()
    /// The chance, per message, that the connection is closed after the end of data
    /// instead of answering (the message is not accepted; the client must retry).
    var dropConnectionProbability = 0.0
    /// Whether STARTTLS (RFC 3207) is offered.
    var startTLS = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case perIPRate = "per_ip_rate", blockAfterExcess = "block_after_excess", unknownUsers = "unknown_users"
        case greylist, mailboxFull = "mailbox_full", latency = "latency_ms"
        case dropConnectionProbability = "drop_connection_probability", startTLS = "starttls"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.perIPRate = try container.decodeIfPresent(RateLimitRule.self, forKey: .perIPRate)
        self.blockAfterExcess = try container.decodeIfPresent(BlockRule.self, forKey: .blockAfterExcess)
        self.unknownUsers = try container.decodeIfPresent(AddressRule.self, forKey: .unknownUsers)
        self.greylist = try container.decodeIfPresent(GreylistRule.self, forKey: .greylist)
        if container.contains(.mailboxFull) {
            let nested = try container.superDecoder(forKey: .mailboxFull)
            self.mailboxFull = try AddressRule.decode(from: nested, defaultReply: SimDefaults.mailboxFullReply)
        }
        self.latency = try container.decodeIfPresent(Latency.self, forKey: .latency) ?? Latency()
        self.dropConnectionProbability = try container.decodeIfPresent(Double.self, forKey: .dropConnectionProbability) ?? 0
        self.startTLS = try container.decodeIfPresent(Bool.self, forKey: .startTLS) ?? false
        let path = decoder.keyPath
        guard (0...1).contains(self.dropConnectionProbability) else {
            throw ScenarioError.invalidValue("\(path).drop_connection_probability", "must be between 0 and 1")
        }
        if self.blockAfterExcess != nil, self.perIPRate == nil {
            throw ScenarioError.invalidValue("\(path).block_after_excess", "needs per_ip_rate (excess is counted against it)")
        }
    }
}
