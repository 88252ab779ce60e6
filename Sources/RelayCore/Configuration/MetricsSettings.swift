/// `metrics:` — Prometheus exposition.
public struct MetricsSettings: Sendable, Codable, Hashable {
    /// `host:port` to serve `GET /metrics` on; absent means no metrics endpoint.
    public var address: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case address }

    public init(address: String? = nil) { self.address = address }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = try c.decodeIfPresent(String.self, forKey: .address)
    }

    func validate() throws {
        if let address, HostPort.parse(address) == nil {
            throw ConfigurationError(key: "metrics.address", problem: "'\(address)' is not host:port (e.g. 127.0.0.1:9464)")
        }
    }
}
