import Testing

@testable import Ingest

struct AuthLockoutTests {
    @Test(arguments: [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  // IPv4-mapped: the IPv4 address
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  // same /64, same key
        ("2001:0DB8:0001:0002:0:0:0:9", "2001:db8:1:2::/64"),  // spelling does not matter
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  // the next /64 is another key
        ("::1", "0:0:0:0::/64"),
        ("fe80::1%eth0", "unknown"),  // unparsable: one shared key
        ("not an address", "unknown"),
    ])
    func addressKey(ip: String, key: String) {
        #expect(AuthLockout.addressKey(for: ip) == key)
    }

    @Test func noAddressIsUnknown() {
        #expect(AuthLockout.addressKey(for: nil) == "unknown")
    }

    /// Redis joins the key and the user name with `|` (`authok:<key>|<user>`): no key may
    /// contain one, or two pairs could share an entry.
    @Test(arguments: ["192.0.2.7", "2001:db8::1", "::ffff:10.0.0.1", "x|y"])
    func keysHoldNoSeparator(ip: String) {
        #expect(!AuthLockout.addressKey(for: ip).contains("|"))
    }
}
