import NIOCore
import Testing

@testable import DNSResolver

/// The resolver against a real server: dnsmasq on a loopback port, answering only from
/// its options. `--local=/test/` makes it authoritative for `.test`, so missing names get
/// NXDOMAIN and missing types NODATA rather than REFUSED.
@Suite struct DnsmasqResolverTests {
    static func start(_ options: [String]) throws -> Dnsmasq {
        try Dnsmasq.start(["--local=/test/"] + options)
    }

    static func v4(_ ip: String, port: Int = 25) throws -> SocketAddress {
        try SocketAddress(ipAddress: ip, port: port)
    }

    @Test func mxLookupWithTwoPreferences() async throws {
        let dns = try Self.start([
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
        #expect(exchangers[0].addresses == [try Self.v4("127.0.0.10")])
        #expect(exchangers[1].addresses == [try Self.v4("127.0.0.20"), try SocketAddress(ipAddress: "::20", port: 25)])
    }

    @Test func domainWithoutMXFallsBackToItsAddressAsImplicitMX() async throws {
        let dns = try Self.start(["--host-record=plain.test,127.0.0.7,::7"])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        #expect(try await resolver.mx("plain.test").isEmpty)
        let exchangers = try await resolver.mailExchangers(for: "plain.test")
        #expect(
            exchangers == [
                MailExchanger(
                    host: "plain.test", preference: 0,
                    addresses: [try Self.v4("127.0.0.7"), try SocketAddress(ipAddress: "::7", port: 25)], isImplicit: true)
            ]
        )
        #expect(
            try await resolver.addresses("plain.test") == [try Self.v4("127.0.0.7", port: 0), try SocketAddress(ipAddress: "::7", port: 0)])
    }

    @Test func nxdomainIsPermanent() async throws {
        let dns = try Dnsmasq.start(["--address=/nx.test/"])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        let error = await TestSupport.dnsError { try await resolver.mailExchangers(for: "nx.test") }
        #expect(error?.code == .nameDoesNotExist)
        #expect(error?.isPermanent == true)
        let hostError = await TestSupport.dnsError { try await resolver.addresses("host.nx.test") }
        #expect(hostError?.code == .nameDoesNotExist)
        #expect(hostError?.isPermanent == true)
    }

    @Test func nullMXIsPermanent() async throws {
        // RFC 7505: MX 0 "." — RDATA 00 00 (preference) 00 (root name).
        let dns = try Self.start(["--dns-rr=nullmx.test,15,000000", "--host-record=nullmx.test,127.0.0.8"])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        #expect(try await resolver.mx("nullmx.test") == [MXRecord(preference: 0, exchange: ".")])
        let error = await TestSupport.dnsError { try await resolver.mailExchangers(for: "nullmx.test") }
        #expect(error?.code == .nullMX)
        #expect(error?.isPermanent == true)
    }

    @Test func existingDomainWithNeitherMXNorAddressIsNoData() async throws {
        let dns = try Self.start(["--txt-record=textonly.test,hello"])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        #expect(try await resolver.addresses("textonly.test").isEmpty)
        let error = await TestSupport.dnsError { try await resolver.mailExchangers(for: "textonly.test") }
        #expect(error?.code == .noData)
        #expect(error?.isPermanent == true)
    }

    @Test func mxHostsThatDoNotResolveAreSkipped() async throws {
        let dns = try Self.start([
            "--mx-host=partial.test,missing.partial.test,5",
            "--mx-host=partial.test,good.partial.test,10",
            "--mx-host=broken.test,missing1.broken.test,10",
            "--mx-host=broken.test,missing2.broken.test,20",
            "--host-record=good.partial.test,127.0.0.9",
        ])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        let exchangers = try await resolver.mailExchangers(for: "partial.test")
        #expect(exchangers.map(\.host) == ["good.partial.test"])
        #expect(exchangers.first?.addresses == [try Self.v4("127.0.0.9")])

        let error = await TestSupport.dnsError { try await resolver.mailExchangers(for: "broken.test") }
        #expect(error?.code == .noExchangerAddresses)
        #expect(error?.isPermanent == true)
    }

    @Test func cnameChainIsFollowedWithinTheResponse() async throws {
        let dns = try Self.start(["--cname=alias.test,target.test", "--host-record=target.test,127.0.0.11"])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))
        #expect(try await resolver.addresses("alias.test") == [try Self.v4("127.0.0.11", port: 0)])
    }

    @Test func truncatedReplyFromDnsmasqIsRetriedOverTCP() async throws {
        // 120 A records do not fit 1232 octets: dnsmasq sets TC and sends 75 of them.
        let records = (1...120).map { "--host-record=big.test,10.0.\($0 / 200).\($0 % 200)" }
        let dns = try Self.start(records)
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))
        let addresses = try await resolver.addresses("big.test")
        #expect(addresses.count == 120)
        #expect(Set(addresses).count == 120)
        // Once over UDP (truncated), once over TCP.
        #expect(dns.queryCount(type: "A", name: "big.test") == 2)
    }

    @Test func cacheHitSendsNoSecondQuery() async throws {
        let dns = try Self.start(["--local-ttl=600", "--mx-host=cached.test,mx.cached.test,10"])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        _ = try await resolver.mx("cached.test")
        #expect(dns.queryCount(type: "MX", name: "cached.test") == 1)
        #expect(try await resolver.mx("Cached.Test") == [MXRecord(preference: 10, exchange: "mx.cached.test")])
        #expect(dns.queryCount(type: "MX", name: "cached.test") == 1)
    }

    @Test func withoutTheCacheEveryLookupIsAQuery() async throws {
        let dns = try Self.start(["--local-ttl=600", "--mx-host=uncached.test,mx.uncached.test,10"])
        defer { dns.stop() }
        var configuration = try TestSupport.configuration(port: dns.port)
        configuration.cacheEnabled = false
        let resolver = TestSupport.resolver(configuration)

        _ = try await resolver.mx("uncached.test")
        _ = try await resolver.mx("uncached.test")
        #expect(dns.queryCount(type: "MX", name: "uncached.test") == 2)
    }

    @Test func txtRecordsAreJoinedAcrossCharacterStrings() async throws {
        // dnsmasq splits a value over 255 octets into several character-strings, as a
        // zone file must for a 2048-bit DKIM key.
        let key = String(repeating: "A", count: 400)
        let dns = try Self.start([
            "--txt-record=s1._domainkey.long.test,v=DKIM1; k=rsa; p=\(key)",
            "--txt-record=long.test,v=spf1 ip4:192.0.2.0/24 -all",
            "--txt-record=long.test,google-site-verification=abc",
        ])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        let raw = try await resolver.records("s1._domainkey.long.test", type: .txt)
        guard case .txt(let strings) = raw.first?.data else {
            Issue.record("no TXT record")
            return
        }
        #expect(strings.count == 2)
        #expect(try await resolver.txt("s1._domainkey.long.test") == ["v=DKIM1; k=rsa; p=\(key)"])
        #expect(Set(try await resolver.txt("long.test")) == ["v=spf1 ip4:192.0.2.0/24 -all", "google-site-verification=abc"])
        let error = await TestSupport.dnsError { try await resolver.txt("missing.long.test") }
        #expect(error?.code == .nameDoesNotExist)
    }

    @Test func ptrLookupForIPv4AndIPv6() async throws {
        let dns = try Dnsmasq.start([
            "--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/",
            "--ptr-record=10.2.0.192.in-addr.arpa,mail.ptr.test",
            "--host-record=mail6.ptr.test,2001:db8::25",
        ])
        defer { dns.stop() }
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: dns.port))

        #expect(try await resolver.ptr("192.0.2.10") == ["mail.ptr.test"])
        // --host-record also publishes the reverse mapping.
        #expect(try await resolver.ptr("2001:db8::25") == ["mail6.ptr.test"])
        let missing = await TestSupport.dnsError { try await resolver.ptr("192.0.2.99") }
        #expect(missing?.code == .nameDoesNotExist)
        let invalid = await TestSupport.dnsError { try await resolver.ptr("not-an-ip") }
        #expect(invalid?.code == .invalidName)
    }
}
