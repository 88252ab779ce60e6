import Foundation
import RelayCore

/// A scenario file: the fake receiving sites one simulator process serves.
///
/// ```json
/// {"listen_port": 2700,
///  "tls": {"certificate": "cert.pem", "private_key": "key.pem"},
///  "sites": [{"name": "plain", "domains": ["a.sim"], "addresses": ["127.0.1.3"], "behaviours": {}}]}
/// ```
/// Every site listens on each of its addresses at `listen_port` (the relay's
/// `delivery.mx_port`); `0` picks one free port for all of them. `tls` is optional: when a
/// site offers STARTTLS without it, a self-signed certificate is made at start.
struct Scenario: Decodable, Sendable {
    var listenPort: Int
    var tls: TLSFiles?
    var sites: [SiteDefinition]

    /// PEM files for STARTTLS.
    struct TLSFiles: Decodable, Sendable {
        var certificate: String
        var privateKey: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case certificate, privateKey = "private_key"
        }

        init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.certificate = try container.decode(String.self, forKey: .certificate)
            self.privateKey = try container.decode(String.self, forKey: .privateKey)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listenPort = "listen_port", tls, sites
    }

    init(listenPort: Int, tls: TLSFiles? = nil, sites: [SiteDefinition]) throws(ScenarioError) {
        self.listenPort = listenPort
        self.tls = tls
        self.sites = sites
        try self.validate()
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.listenPort = try container.decode(Int.self, forKey: .listenPort)
        self.tls = try container.decodeIfPresent(TLSFiles.self, forKey: .tls)
        self.sites = try container.decode([SiteDefinition].self, forKey: .sites)
        try self.validate()
    }

    /// Reads and checks a scenario file.
    static func load(path: String) throws(ScenarioError) -> Scenario {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable("cannot read \(path): \(error.localizedDescription)")
        }
        return try Self.decode(data)
    }

    /// Parses and checks scenario JSON.
    static func decode(_ data: Data) throws(ScenarioError) -> Scenario {
        do {
            return try JSONDecoder().decode(Scenario.self, from: data)
        } catch let error as ScenarioError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidValue(AnyCodingKey.path(context.codingPath + [key]), "missing")
        } catch let DecodingError.typeMismatch(type, context) {
            throw .invalidValue(AnyCodingKey.path(context.codingPath), "expected \(type)")
        } catch let DecodingError.valueNotFound(type, context) {
            throw .invalidValue(AnyCodingKey.path(context.codingPath), "expected \(type), found null")
        } catch {
            throw .unreadable("not valid JSON: \(error)")
        }
    }

    private func validate() throws(ScenarioError) {
        guard (0...65535).contains(self.listenPort) else {
            throw .invalidValue("listen_port", "must be a TCP port (0 picks a free one)")
        }
        guard !self.sites.isEmpty else { throw .invalidValue("sites", "must list at least one site") }
        var names = Set<String>()
        var addresses = Set<String>()
        var domains = Set<String>()
        for (index, site) in self.sites.enumerated() {
            guard names.insert(site.name).inserted else {
                throw .invalidValue("sites[\(index)].name", "'\(site.name)' is used by another site")
            }
            for address in site.addresses where !addresses.insert(address).inserted {
                throw .invalidValue("sites[\(index)].addresses", "\(address) is used twice")
            }
            for domain in site.domains where !domains.insert(domain).inserted {
                throw .invalidValue("sites[\(index)].domains", "\(domain) is used twice")
            }
        }
    }

    /// Whether any site offers STARTTLS.
    var needsTLS: Bool {
        self.sites.contains { $0.behaviours.startTLS }
    }
}
