#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `redis.tls:` — how a `rediss://` connection checks the server, and the client
/// certificate it shows when the server asks for one (`tls-auth-clients yes`). Used for
/// the Sentinels too. Without this block, `rediss://` trusts the system's CA store.
public struct RedisTLSSettings: Sendable, Codable, Equatable {
    /// PEM file of the CA(s) that signed the Redis servers' certificates. Default: none
    /// (the system's trust store).
    public var caFile: String?
    /// PEM client certificate (chain) and its private key, both or neither. Default: none.
    public var certFile: String?
    public var keyFile: String?
    /// The name the servers' certificates must carry (and the SNI sent); default: the host
    /// connected to — the URL's host, or the address a Sentinel names, which must then be
    /// an IP `subjectAltName` of the certificate.
    public var serverName: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case caFile = "ca_file", certFile = "cert_file", keyFile = "key_file", serverName = "server_name"
    }

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.serverName = serverName
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            caFile: try c.decodeIfPresent(String.self, forKey: .caFile),
            certFile: try c.decodeIfPresent(String.self, forKey: .certFile),
            keyFile: try c.decodeIfPresent(String.self, forKey: .keyFile),
            serverName: try c.decodeIfPresent(String.self, forKey: .serverName))
    }

    /// Every configured file must be readable now: a relay that cannot read its CA must
    /// not start and then fail every connection.
    func validate() throws {
        if (certFile == nil) != (keyFile == nil) {
            throw ConfigurationError(
                key: certFile == nil ? "redis.tls.cert_file" : "redis.tls.key_file",
                problem: "a client certificate needs both redis.tls.cert_file and redis.tls.key_file")
        }
        for (key, path) in [("ca_file", caFile), ("cert_file", certFile), ("key_file", keyFile)] {
            guard let path else { continue }
            guard let file = fopen(path, "r") else {
                throw ConfigurationError(
                    key: "redis.tls.\(key)", problem: "cannot read '\(path)' (missing, or no permission for this user)")
            }
            fclose(file)
        }
        if let serverName, serverName.isEmpty || serverName.contains(where: \.isWhitespace) {
            throw ConfigurationError(key: "redis.tls.server_name", problem: "must be a host name")
        }
    }
}
