import DNSResolver
import Foundation
import NIOCore
import NIOPosix
import ProcessSpawn
import Testing

@testable import hikyaku_sim

@Suite struct DnsmasqConfigurationTests {
    static let scenario = """
        {"listen_port": 2700, "sites": [
          {"name": "gmail-like", "domains": ["gmail.sim"], "addresses": ["127.0.1.1", "127.0.1.2"]},
          {"name": "plain", "domains": ["a.sim", "b.sim"], "addresses": ["127.0.1.3"]},
          {"name": "hosted", "domains": ["x.example", "y.example"], "addresses": ["127.0.1.4", "::1"], "mx_domain": "hub.sim"}]}
        """

    @Test func rendersMXHostAndTXTRecordsPerDomain() throws {
        let text = DnsmasqConfiguration.render(try Scenario.decode(Data(Self.scenario.utf8)))
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(
            lines == [
                "no-resolv", "no-hosts", "local=/sim/", "local=/example/",
                "mx-host=gmail.sim,mx1.gmail.sim,10", "mx-host=gmail.sim,mx2.gmail.sim,10",
                "txt-record=gmail.sim,\"v=spf1 -all\",\"hikyaku-sim site=gmail-like\"",
                "host-record=mx1.gmail.sim,127.0.1.1", "host-record=mx2.gmail.sim,127.0.1.2",
                "mx-host=a.sim,mx1.a.sim,10", "txt-record=a.sim,\"v=spf1 -all\",\"hikyaku-sim site=plain\"",
                "mx-host=b.sim,mx1.b.sim,10", "txt-record=b.sim,\"v=spf1 -all\",\"hikyaku-sim site=plain\"",
                "host-record=mx1.a.sim,127.0.1.3", "host-record=mx1.b.sim,127.0.1.3",
                "mx-host=x.example,mx1.hub.sim,10", "mx-host=x.example,mx2.hub.sim,10",
                "txt-record=x.example,\"v=spf1 -all\",\"hikyaku-sim site=hosted\"",
                "mx-host=y.example,mx1.hub.sim,10", "mx-host=y.example,mx2.hub.sim,10",
                "txt-record=y.example,\"v=spf1 -all\",\"hikyaku-sim site=hosted\"",
                "host-record=mx1.hub.sim,127.0.1.4", "host-record=mx2.hub.sim,::1",
            ])
    }

    /// The configuration served by a real dnsmasq, queried with the project's resolver.
    @Test func dnsmasqServesTheSitesMailExchangers() async throws {
        let path = NSTemporaryDirectory() + "sim-dns-\(UUID().uuidString).conf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try DnsmasqConfiguration.render(try Scenario.decode(Data(Self.scenario.utf8))).write(
            toFile: path, atomically: true, encoding: .utf8)
        let port = LoopbackPort.free()
        let dnsmasq = try Subprocess.start([
            "/usr/sbin/dnsmasq", "--conf-file=\(path)", "--port=\(port)", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--bind-interfaces", "--listen-address=127.0.0.1", "--user=root", "--pid-file=",
        ])
        try await eventually { LoopbackPort.isListening(port) }

        var configuration = DNSResolverConfiguration(servers: [try SocketAddress(ipAddress: "127.0.0.1", port: port)])
        configuration.attempts = 1
        let resolver = DNSResolver(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: TestSimulator.logger)
        let gmail = try await resolver.mailExchangers(for: "gmail.sim")
        #expect(Set(gmail.map(\.host)) == ["mx1.gmail.sim", "mx2.gmail.sim"])
        #expect(gmail.allSatisfy { $0.preference == 10 && !$0.isImplicit })
        #expect(Set(gmail.flatMap(\.addresses).compactMap(\.ipAddress)) == ["127.0.1.1", "127.0.1.2"])
        let plain = try await resolver.mailExchangers(for: "b.sim")
        #expect(plain.map(\.host) == ["mx1.b.sim"])
        #expect(plain.flatMap(\.addresses).compactMap(\.ipAddress) == ["127.0.1.3"])
        let hosted = try await resolver.mailExchangers(for: "y.example")
        #expect(Set(hosted.map(\.host)) == ["mx1.hub.sim", "mx2.hub.sim"])
        #expect(Set(hosted.flatMap(\.addresses).compactMap(\.ipAddress)) == ["127.0.1.4", "::1"])
        // --local: an unknown name in the zone is NXDOMAIN, not a refusal or a timeout.
        let error = await #expect(throws: DNSError.self) { try await resolver.mailExchangers(for: "nowhere.sim") }
        #expect(error?.code == .nameDoesNotExist)

        await resolver.shutdown()
        dnsmasq.signal(SIGTERM)
        _ = await dnsmasq.wait()
    }
}
