import NIOCore
import RelayCore
import Testing

@testable import Ingest

struct ConnectionLimiterTests {
    static func address(_ ip: String) throws -> SocketAddress {
        try SocketAddress(ipAddress: ip, port: 40000)
    }

    @Test func refusesTheConnectionAfterTheLimitAndAdmitsAgainAfterARelease() throws {
        let limiter = ConnectionLimiter(maximumPerClient: 2, exemptNetworks: [])
        let first = limiter.admit(try Self.address("192.0.2.7"))
        let second = limiter.admit(try Self.address("192.0.2.7"))
        #expect(first != .refused && second != .refused)
        #expect(limiter.admit(try Self.address("192.0.2.7")) == .refused)
        // Another address is not affected.
        #expect(limiter.admit(try Self.address("192.0.2.8")) != .refused)
        guard case .admitted(let key) = first else {
            Issue.record("expected a counted admission, got \(first)")
            return
        }
        limiter.release(key)
        #expect(limiter.count(for: "192.0.2.7") == 1)
        #expect(limiter.admit(try Self.address("192.0.2.7")) != .refused)
    }

    @Test func exemptNetworksAreNotCounted() throws {
        let limiter = ConnectionLimiter(maximumPerClient: 1, exemptNetworks: [IPNetwork(parsing: "127.0.0.0/8")!])
        for _ in 0..<5 {
            #expect(limiter.admit(try Self.address("127.0.0.1")) == .exempt)
        }
        #expect(limiter.count(for: "127.0.0.1") == 0)
    }

    @Test func anIPv4MappedAddressCountsAsItsIPv4Address() throws {
        let limiter = ConnectionLimiter(maximumPerClient: 1, exemptNetworks: [])
        #expect(limiter.admit(try Self.address("192.0.2.9")) != .refused)
        #expect(limiter.admit(try Self.address("::ffff:192.0.2.9")) == .refused)
    }

    @Test func anIPv6ClientIsCountedPer64() throws {
        let limiter = ConnectionLimiter(maximumPerClient: 2, exemptNetworks: [])
        #expect(limiter.admit(try Self.address("2001:db8:1:2::1")) != .refused)
        #expect(limiter.admit(try Self.address("2001:db8:1:2:ffff::9")) != .refused)
        #expect(limiter.admit(try Self.address("2001:db8:1:2:abcd::1")) == .refused)
        #expect(limiter.admit(try Self.address("2001:db8:1:3::1")) != .refused)
    }

    @Test func releasedClientsAreForgotten() {
        var counts = ConnectionCounts(maximumPerClient: 3)
        let key = ClientKey(addressBytes: [192, 0, 2, 1])
        let first = counts.acquire(key)
        let second = counts.acquire(key)
        #expect(first && second)
        counts.release(key)
        counts.release(key)
        counts.release(key)  // one too many: harmless
        #expect(counts.clientCount == 0)
        #expect(counts.count(for: key) == 0)
    }
}
