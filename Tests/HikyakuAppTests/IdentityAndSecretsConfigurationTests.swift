import HikyakuApp
import Logging
import RelayCore
import Testing

/// `node_name`, `delivery.node_lease` and `secrets:` (issue 10, items 10 and 2).
struct IdentityAndSecretsConfigurationTests {
    @Test func defaults() throws {
        let configuration = try ConfigurationLoader.parse(yaml: "hostname: relay.test")
        #expect(configuration.nodeName == nil)
        #expect(configuration.effectiveNodeName == "relay.test")
        #expect(configuration.delivery.nodeLease == .seconds(10))
        #expect(configuration.secrets.keyFile == nil)
        #expect(configuration.secrets.required == false)
    }

    @Test func valuesAreRead() throws {
        let configuration = try ConfigurationLoader.parse(
            yaml: """
                node_name: worker-3.dc1
                delivery: {node_lease: 30s}
                secrets: {key_file: /etc/hikyaku/secrets.key, required: true}
                """)
        #expect(configuration.effectiveNodeName == "worker-3.dc1")
        #expect(configuration.delivery.nodeLease == .seconds(30))
        #expect(configuration.secrets == SecretsSettings(keyFile: "/etc/hikyaku/secrets.key", required: true))
    }

    @Test(arguments: [
        ("node_name: \"a/b\"", "node_name"),
        ("node_name: \"a#1\"", "node_name"),
        ("node_name: \"with space\"", "node_name"),
        ("delivery: {node_lease: 1s}", "delivery.node_lease"),
        ("secrets: {keyfile: x}", "secrets.keyfile"),
    ])
    func invalidValuesNameTheKey(yaml: String, key: String) {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("expected an error for \(yaml)")
        } catch let error as ConfigurationError {
            #expect(error.key == key, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aHostNameWithOtherCharactersGivesAUsableNodeName() throws {
        let configuration = try ConfigurationLoader.parse(yaml: "hostname: relay_1.test")
        #expect(HikyakuConfiguration.isValidNodeName(configuration.effectiveNodeName))
    }

    @Test func anIngestNodeWithoutKeyFileRefusesOnlyWhenRequired() throws {
        let logger = Logger(label: "test")
        #expect(try HikyakuApplication.keyring(SecretsSettings(), logger: logger) == nil)
        #expect(throws: ConfigurationError.self) {
            _ = try HikyakuApplication.keyring(SecretsSettings(required: true), logger: logger)
        }
        #expect(throws: ConfigurationError.self) {
            _ = try HikyakuApplication.keyring(SecretsSettings(keyFile: "/nonexistent/secrets.key"), logger: logger)
        }
    }
}
