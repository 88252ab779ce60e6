import NIOCore
import RelayCore
import Testing

@testable import Delivery

struct DestinationPolicyTests {
    static func ip(_ text: String) -> [UInt8] { IPNetwork.parseAddress(text)! }
    static let local: Set<[UInt8]> = [ip("127.0.0.1"), ip("::1"), ip("192.0.2.2"), ip("fd00::2")]

    let policy = DestinationPolicy(listeners: [
        .init(name: "relay", ip: ip("127.0.0.1"), port: 2525),
        .init(name: "mx", ip: ip("0.0.0.0"), port: 25),
        .init(name: "submission", ip: ip("::"), port: 587),
    ])

    func verdict(_ address: String, _ port: Int, route: Bool = false, policy: DestinationPolicy? = nil) -> DestinationPolicy.Verdict {
        (policy ?? self.policy).verdict(ip: Self.ip(address), port: port, localAddresses: Self.local, isRoute: route)
    }

    @Test func ownListenersAreRefusedEvenOnRoutesAndWhenAllowed() {
        let allowing = DestinationPolicy(
            listeners: policy.listeners, allowedNetworks: [IPNetwork(parsing: "0.0.0.0/0")!, IPNetwork(parsing: "::/0")!])
        for p in [policy, allowing] {
            #expect(verdict("127.0.0.1", 2525, policy: p) == .ownListener("relay"))
            #expect(verdict("127.0.0.1", 2525, route: true, policy: p) == .ownListener("relay"))
            #expect(verdict("::ffff:127.0.0.1", 2525, policy: p) == .ownListener("relay"))
            // A wildcard listener: every local address, any loopback, the unspecified address.
            #expect(verdict("192.0.2.2", 25, policy: p) == .ownListener("mx"))
            #expect(verdict("127.9.9.9", 25, policy: p) == .ownListener("mx"))
            #expect(verdict("0.0.0.0", 25, policy: p) == .ownListener("mx"))
            #expect(verdict("fd00::2", 587, policy: p) == .ownListener("submission"))
            #expect(verdict("192.0.2.2", 587, policy: p) == .ownListener("submission"))
        }
        // Another port, another host, another loopback address than a specific listener's.
        #expect(verdict("192.0.2.2", 2526) == .allowed)
        #expect(verdict("192.0.2.3", 25) == .allowed)
        #expect(verdict("127.0.0.2", 2525, route: true) == .allowed)
    }

    @Test(arguments: [
        ("127.0.0.5", "loopback"), ("::1", "loopback"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
        ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"), ("255.255.255.255", "broadcast"), ("::ffff:127.0.0.1", "loopback"),
    ])
    func specialAddressesAreRefusedByDefault(address: String, kind: String) {
        guard case .forbidden(let reason) = verdict(address, 2600) else {
            Issue.record("\(address) was not refused")
            return
        }
        #expect(reason.contains(kind))
        #expect(verdict(address, 2600, route: true) == .allowed)
    }

    @Test func privateRangesAreAllowed() {
        for address in ["10.1.2.3", "172.16.0.1", "192.168.1.1", "fd12::1", "192.0.2.9", "2001:db8::1"] {
            #expect(verdict(address, 25) == .allowed)
        }
    }

    @Test func allowedNetworksLiftTheBuiltInRangesAndForbiddenNetworksWin() {
        let p = DestinationPolicy(
            listeners: [], forbiddenNetworks: [IPNetwork(parsing: "127.0.0.9/32")!, IPNetwork(parsing: "10.0.0.0/8")!],
            allowedNetworks: [IPNetwork(parsing: "127.0.0.0/8")!])
        #expect(verdict("127.0.0.1", 2600, policy: p) == .allowed)
        #expect(verdict("::1", 2600, policy: p) != .allowed)
        #expect(verdict("127.0.0.9", 2600, policy: p) == .forbidden("in delivery.forbidden_networks (127.0.0.9/32)"))
        #expect(verdict("10.2.3.4", 25, policy: p) == .forbidden("in delivery.forbidden_networks (10.0.0.0/8)"))
    }

    static func target(_ host: String, _ preference: UInt16, _ addresses: [(String, Int)]) -> DestinationRouter.Target {
        .init(host: host, addresses: addresses.map { try! SocketAddress(ipAddress: $0.0, port: $0.1) }, preference: preference)
    }

    /// RFC 5321 §5.1: when this host is an MX of the domain, only more preferred MXs are tried.
    @Test func anOwnMXDropsItselfAndEveryLessPreferredOne() throws {
        let targets = [
            Self.target("a.example", 5, [("198.51.100.1", 25)]), Self.target("self.example", 10, [("192.0.2.2", 25)]),
            Self.target("peer.example", 10, [("198.51.100.2", 25)]), Self.target("c.example", 20, [("198.51.100.3", 25)]),
        ]
        let screened = try policy.screen(targets, domain: "example", localAddresses: Self.local)
        #expect(screened.map(\.host) == ["a.example"])
    }

    @Test func refusedAddressesAreDroppedAndOthersKept() throws {
        let targets = [Self.target("mx1.example", 10, [("127.0.0.1", 2600), ("198.51.100.1", 2600)])]
        let screened = try policy.screen(targets, domain: "example", localAddresses: Self.local)
        #expect(screened.count == 1 && screened[0].addresses.map(\.ipAddress) == ["198.51.100.1"])
    }

    @Test func nothingLeftBouncesNamingTheAddress() {
        let own = [Self.target("mx.loop.test", 10, [("127.0.0.1", 2525)]), Self.target("backup.loop.test", 20, [("198.51.100.1", 25)])]
        #expect {
            try policy.screen(own, domain: "loop.test", localAddresses: Self.local)
        } throws: { error in
            let error = error as! DestinationRouter.RoutingError
            return error.isPermanent && error.reply.hasPrefix("554 5.4.6 ") && error.reply.contains("mx.loop.test [127.0.0.1]:2525")
                && error.reply.contains("'relay'")
        }
        let loopback = [Self.target("mx.x.test", 10, [("127.0.0.1", 2600), ("::1", 2600)])]
        #expect {
            try policy.screen(loopback, domain: "x.test", localAddresses: Self.local)
        } throws: { error in
            let error = error as! DestinationRouter.RoutingError
            return error.isPermanent && error.reply.hasPrefix("554 5.4.4 ") && error.reply.contains("[127.0.0.1] is a loopback address")
                && error.reply.contains("1 more")
        }
    }

    @Test func targetsWithoutAddressesAreLeftToTheSession() throws {
        let targets = [Self.target("mx.example", 10, [])]
        #expect(try policy.screen(targets, domain: "example", localAddresses: Self.local).count == 1)
    }

    @Test func listenersComeFromTheConfiguration() {
        let p = DestinationPolicy(
            delivery: DeliverySettings(),
            listeners: [
                ListenerSettings(name: "relay", address: "0.0.0.0:25", mode: .relay, tls: nil),
                ListenerSettings(name: "v6", address: "[::1]:587", mode: .submission, tls: nil),
                ListenerSettings(name: "named", address: "localhost:2525", mode: .relay, tls: nil),
            ])
        #expect(p.listeners.map(\.name) == ["relay", "v6", "named"])
        #expect(p.listeners[0].isWildcard && p.listeners[0].port == 25)
        #expect(p.listeners[1].ip == Self.ip("::1"))
    }

    @Test func localAddressesIncludeLoopback() {
        #expect(LocalAddresses.read().contains(Self.ip("127.0.0.1")))
    }
}

struct HopLimitTests {
    static func stored(_ hops: Int) -> [UInt8] {
        // The relay's own Received: first, as ingest stores it.
        let own = "Received: from client ([127.0.0.1])\r\n\tby relay.test (Hikyaku) with ESMTP id Q; date\r\n"
        let trace = (0..<hops).map { "Received: from h\($0) by h\($0 + 1); date\r\n" }.joined()
        return Array((own + trace + "Subject: x\r\n\r\nReceived: in the body\r\n").utf8)
    }

    @Test func theRelaysOwnFieldIsNotCounted() {
        #expect(HopLimit.refusal(storedMessage: Self.stored(30), limit: 30) == nil)
        let refusal = HopLimit.refusal(storedMessage: Self.stored(31), limit: 30)
        #expect(refusal?.hasPrefix("554 5.4.6 ") == true)
        #expect(refusal?.contains("31 Received:") == true)
        #expect(HopLimit.refusal(storedMessage: Self.stored(0), limit: 1) == nil)
    }
}
