import Foundation
import HikyakuApp
import RelayCore
import Testing

/// `bounces.window`, its way into the queue's settings, and an account's `return_path_domain` (issue 13, item 2).
struct ReturnPathConfigurationTests {
    @Test func theWindowDefaultsToSevenDaysAndReachesTheQueue() throws {
        let defaults = try ConfigurationLoader.parse(yaml: "hostname: relay.test")
        #expect(defaults.bounces.window == .days(7))
        let configuration = try ConfigurationLoader.parse(yaml: "bounces: {window: 2d}\ndelivery: {max_age: 1d}")
        let queue = HikyakuApplication.queueConfiguration(configuration)
        #expect(queue.recipientIndexTTLSeconds == 2 * 86_400)
        // The backstop outlasts a message's whole stay in the queue plus the window.
        #expect(queue.recipientIndexBackstopSeconds == 4 * 86_400)
    }

    @Test(arguments: ["bounces: {window: 0s}", "bounces: {windw: 1d}"])
    func invalidValuesNameTheKey(yaml: String) {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse(yaml: yaml) }
    }

    @Test func anAccountsReturnPathDomainIsStoredAsReturnPathDomain() throws {
        var account = Account(name: "acme", createdAt: "2026-01-01T00:00:00Z")
        account.returnPathDomain = try Account.validate(domain: "Bounces.Acme.Example.")
        let json = try JSONEncoder().encode(account)
        #expect(String(decoding: json, as: UTF8.self).contains("\"return_path_domain\":\"bounces.acme.example\""))
        #expect(try JSONDecoder().decode(Account.self, from: json).returnPathDomain == "bounces.acme.example")
        // Accounts stored before the field existed have none.
        let old = try JSONDecoder().decode(Account.self, from: Data(#"{"name":"old","pool":"default"}"#.utf8))
        #expect(old.returnPathDomain == nil)
    }
}
