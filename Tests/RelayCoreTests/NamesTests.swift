import Foundation
import RelayCore
import Testing

struct NamesTests {
    @Test func aDomainIsNormalisedHoweverItIsMade() {
        #expect(DomainName(rawValue: "Example.ORG.") == DomainName(normalizing: "example.org"))
        #expect(DomainName(normalizing: "MAIL.Example.net..").rawValue == "mail.example.net")
        #expect(("Example.ORG." as DomainName).rawValue == "example.org", "literals are normalised too")
    }

    @Test func aDeliveryUnitSplitsAtTheFirstBar() throws {
        let unit = DeliveryUnit(egress: "2001:db8::1", site: "mx:example.net")
        #expect(unit.rawValue == "2001:db8::1|mx:example.net")
        #expect(DeliveryUnit(rawValue: unit.rawValue) == unit)
        // Site names never contain `|` (SiteResolver replaces it), egress names never do.
        let odd = try #require(DeliveryUnit(rawValue: "host:a|b|c"))
        #expect(odd.egress == "host:a" && odd.site == "b|c")
        #expect(DeliveryUnit(rawValue: "no-bar") == nil)
    }

    @Test func aLeaseNamesTheWorkerThatTookIt() {
        #expect(LeaseName(rawValue: "host-a/12#7").consumer == "host-a/12")
        #expect(LeaseName(rawValue: "a#b#3").consumer == "a#b", "only the last # separates the counter")
        #expect(LeaseName(rawValue: "nohash").consumer == "nohash")
    }

    @Test func poolNamesAreCheckedBeforeTheyReachAKey() throws {
        #expect(try PoolName.validate("bulk-2", key: "k") == "bulk-2")
        for bad in ["", "Bulk", "a b", "a:b", String(repeating: "a", count: 65)] {
            #expect(throws: ConfigurationError.self) { try PoolName.validate(bad, key: "egress[0].pool") }
        }
    }

    @Test func namesEncodeAsPlainJSONStrings() throws {
        var event = DeliveryEvent(event: .delivered, time: "t", queueID: "Q", messageID: nil, sender: "")
        event.domain = "example.net"
        event.site = "gmail"
        event.egressIP = "192.0.2.1"
        let json = try JSONEncoder().encode(event)
        let text = String(decoding: json, as: UTF8.self)
        #expect(
            text.contains("\"site\":\"gmail\"") && text.contains("\"egress_ip\":\"192.0.2.1\"")
                && text.contains("\"domain\":\"example.net\""))
        #expect(try JSONDecoder().decode(DeliveryEvent.self, from: json) == event)
        #expect(
            String(decoding: event.jsonBytes(), as: UTF8.self)
                == String(
                    decoding: try {
                        let e = JSONEncoder()
                        e.outputFormatting = .sortedKeys
                        return try e.encode(event)
                    }(), as: UTF8.self))
    }
}
