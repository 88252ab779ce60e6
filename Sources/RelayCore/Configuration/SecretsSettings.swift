/// `secrets:` — the key file that seals secrets stored in Redis (DKIM private keys) and
/// from which HMAC keys are derived (README, "Secrets: where each lives and how to rotate it").
public struct SecretsSettings: Sendable, Codable, Hashable {
    /// Path of the key file (`hikyaku secrets generate-key PATH` makes one; mode 0600 is
    /// required). Needed by ingest nodes and the operator commands that store DKIM keys, and
    /// by delivery workers only to sign VERP return paths (accounts with a return-path
    /// domain). Absent: DKIM keys are stored and read in plain text (a warning at start),
    /// unless `required`, and mail is sent without VERP.
    public var keyFile: String?
    /// Refuse to start an ingest node, or to store a DKIM key, without `key_file`. Default false.
    public var required: Bool

    enum CodingKeys: String, CodingKey, CaseIterable { case keyFile = "key_file", required }

    public init(keyFile: String? = nil, required: Bool = false) {
        self.keyFile = keyFile
        self.required = required
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
    }

    func validate() throws {
        if let keyFile, keyFile.isEmpty {
            throw ConfigurationError(key: "secrets.key_file", problem: "is empty; remove it or give a path")
        }
    }
}
