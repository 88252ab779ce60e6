import NIOCore
import Testing

@testable import DNSResolver

/// The resolver against a real recursive-style server: dnsmasq on a loopback port.
@Suite struct DnsmasqResolverTests {
    @Test func mxLookupReturnsBothPreferencesSorted() async throws {
        let dns = try Dnsmasq.start([
            "--local=/test/",
            "--mx-host=two.test,mx20.two.test,20",
            "--mx-host=two.test,mx10.two.test,10",
            "--host-record=mx10.two.test,127.0.0.10",
            "--host-record=mx20.two.test,127.0.0.20,::20",
        ])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        let records = try await resolver.mx("two.test")
        #expect(records == [MXRecord(preference: 10, exchange: "mx10.two.test"), MXRecord(preference: 20, exchange: "mx20.two.test")])

        let exchangers = try await resolver.mailExchangers(for: "TWO.test")
        #expect(exchangers.map(\.host) == ["mx10.two.test", "mx20.two.test"])
        #expect(exchangers.map(\.preference) == [10, 20])
        #expect(exchangers.allSatisfy { !$0.isImplicit })
        #expect(exchangers[0].addresses == [try SocketAddress(ipAddress: "127.0.0.10", port: 25)])
        #expect(
            exchangers[1].addresses == [
                try SocketAddress(ipAddress: "127.0.0.20", port: 25), try SocketAddress(ipAddress: "::20", port: 25),
            ]
        )
    }
}
