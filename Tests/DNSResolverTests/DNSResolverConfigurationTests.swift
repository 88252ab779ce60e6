import NIOCore
import Testing

@testable import DNSResolver

@Suite struct DNSResolverConfigurationTests {
    @Test(arguments: [
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:53", "::1", 53),
        ("[2001:db8::5]", "2001:db8::5", 53),
        ("10.0.0.1", "10.0.0.1", 53),
        ("  192.0.2.1  ", "192.0.2.1", 53),
        ("::1", "::1", 53),
    ])
    func parsesServerAddresses(text: String, ip: String, port: Int) throws {
        #expect(try DNSResolverConfiguration.parse(server: text) == SocketAddress(ipAddress: ip, port: port))
    }

    @Test(arguments: ["", "dns.example:53", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", "[::1", "[::1]53", "[::1]:", "300.1.1.1"])
    func rejectsBadServerAddresses(text: String) {
        let error = #expect(throws: DNSError.self) { try DNSResolverConfiguration.parse(server: text) }
        #expect(error?.code == .invalidServerAddress)
    }

    @Test func readsNameserversFromResolvConf() throws {
        let contents = """
            # generated
            search example.com
            nameserver 192.0.2.53
            ; nameserver 192.0.2.99
            nameserver\t2001:db8::53
            nameserver not-an-address
            options ndots:2
            """
        #expect(
            ResolvConf.nameservers(in: contents) == [
                try SocketAddress(ipAddress: "192.0.2.53", port: 53), try SocketAddress(ipAddress: "2001:db8::53", port: 53),
            ]
        )
        #expect(ResolvConf.nameservers(in: "search example.com\n").isEmpty)
    }

    @Test func systemDefaultMatchesTheMachinesResolvConf() throws {
        let configuration = DNSResolverConfiguration.systemDefault()
        let expected = ResolvConf.contents(ofFile: "/etc/resolv.conf").map(ResolvConf.nameservers(in:)) ?? []
        #expect(configuration.servers == (expected.isEmpty ? [try SocketAddress(ipAddress: "127.0.0.1", port: 53)] : expected))
        #expect(configuration.timeout == .seconds(3))
        #expect(configuration.attempts == 2)
        #expect(configuration.cacheEnabled)
        #expect(ResolvConf.contents(ofFile: "/nonexistent/resolv.conf") == nil)
    }
}
