import DNSResolver

@testable import DomainCheck

/// A zone written out in full for the checks: a complete ``DNSSnapshot`` built record by
/// record. Names not given have no records.
struct Zone {
    private(set) var snapshot = DNSSnapshot(isComplete: true)
    private var records: [DNSSnapshot.Key: [DNSRecordData]] = [:]

    private mutating func add(_ name: String, _ type: DNSRecordType, _ data: DNSRecordData) {
        let key = DNSSnapshot.Key(name, type)
        self.records[key, default: []].append(data)
        self.snapshot.set(.records(self.records[key]!), for: key)
    }

    /// A TXT record of one or more character-strings (joined by the checks).
    @discardableResult
    mutating func txt(_ name: String, _ strings: String...) -> Self {
        self.add(name, .txt, .txt(strings.map { Array($0.utf8) }))
        return self
    }

    @discardableResult
    mutating func a(_ name: String, _ addresses: String...) -> Self {
        for address in addresses {
            let ip = IPAddress(address)!
            self.add(name, ip.isIPv4 ? .a : .aaaa, ip.isIPv4 ? .a(ip.bytes) : .aaaa(ip.bytes))
        }
        return self
    }

    @discardableResult
    mutating func mx(_ name: String, _ preference: UInt16, _ exchange: String) -> Self {
        self.add(name, .mx, .mx(preference: preference, exchange: exchange == "." ? .root : try! DNSName(exchange)))
        return self
    }

    @discardableResult
    mutating func ptr(_ address: String, _ target: String) -> Self {
        self.add(IPAddress(address)!.reverseName, .ptr, .ptr(try! DNSName(target)))
        return self
    }

    @discardableResult
    mutating func nxdomain(_ name: String, _ types: DNSRecordType...) -> Self {
        for type in types { self.snapshot.set(.nameDoesNotExist, for: DNSSnapshot.Key(name, type)) }
        return self
    }

    @discardableResult
    mutating func failing(_ name: String, _ type: DNSRecordType) -> Self {
        self.snapshot.set(.failed("timeout: no answer"), for: DNSSnapshot.Key(name, type))
        return self
    }
}

/// A domain that does everything right, for two egress IPs of one relay.
enum Fixture {
    static let domain = "example.test"
    static let key = String(repeating: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", count: 9) + "IDAQAB"
    static let dkimRecord = "v=DKIM1; k=rsa; p=\(key)"
    static let egress = [
        EgressIdentity(address: "192.0.2.10", heloName: "out1.example.test"),
        EgressIdentity(address: "2001:db8::25", heloName: "out6.example.test"),
    ]

    static var input: DomainCheckInput {
        DomainCheckInput(domain: domain, egress: egress, dkimSelectors: [DKIMSelector(selector: "s1", record: dkimRecord)])
    }

    static var goodZone: Zone {
        var zone = Zone()
        zone.txt(domain, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all")
        zone.txt(domain, "google-site-verification=abc")
        // A 2048-bit key does not fit one character-string: split as a zone file would.
        zone.txt("s1._domainkey.\(domain)", String(dkimRecord.prefix(255)), String(dkimRecord.dropFirst(255)))
        zone.txt("_dmarc.\(domain)", "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test")
        zone.mx(domain, 10, "mx.example.test")
        zone.a("mx.example.test", "192.0.2.25")
        zone.ptr("192.0.2.10", "out1.example.test")
        zone.a("out1.example.test", "192.0.2.10")
        zone.ptr("2001:db8::25", "out6.example.test")
        zone.a("out6.example.test", "2001:db8::25")
        return zone
    }
}
