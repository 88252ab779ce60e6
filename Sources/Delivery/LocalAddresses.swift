import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This host's interface addresses (getifaddrs(3)) — what a wildcard listener such as
/// `0.0.0.0:25` accepts connections on. Re-read at most every ``maxAge`` so an address
/// added to an interface is seen without a restart.
final class LocalAddresses: Sendable {
    static let maxAge = Duration.seconds(5)
    private let cache = Mutex<(readAt: ContinuousClock.Instant, addresses: Set<[UInt8]>)?>(nil)

    /// The addresses, 4 or 16 octets each.
    func current() -> Set<[UInt8]> {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), now - cached.readAt < Self.maxAge { return cached.addresses }
        let addresses = Self.read()
        cache.withLock { $0 = (now, addresses) }
        return addresses
    }

    static func read() -> Set<[UInt8]> {
        var first: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var addresses = Set<[UInt8]>()
        var current = first
        while let entry = current {
            defer { current = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    var ip = v4.pointee.sin_addr
                    addresses.insert(withUnsafeBytes(of: &ip) { Array($0) })
                }
            case AF_INET6:
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    var ip = v6.pointee.sin6_addr
                    addresses.insert(withUnsafeBytes(of: &ip) { Array($0) })
                }
            default:
                break
            }
        }
        return addresses
    }
}
