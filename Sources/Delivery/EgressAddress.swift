import NIOCore
import RelayCore

/// One source address of this worker host, as the worker uses it.
struct EgressAddress: Sendable {
    /// The name limits and leases are kept under: the IP, or `host:<hostname>` when no
    /// egress addresses are configured (the system then picks the source address).
    var id: EgressID
    var bindAddress: SocketAddress?
    var heloName: String
    var pool: PoolName
    var weight: Int
    var warmup: WarmupSettings?

    static func all(settings: DeliverySettings, hostname: String) throws -> [EgressAddress] {
        let defaultHelo = settings.heloName ?? hostname
        guard !settings.egress.isEmpty else {
            return [EgressAddress(id: .host(hostname), bindAddress: nil, heloName: defaultHelo, pool: .default, weight: 1)]
        }
        return try settings.egress.map { ip in
            EgressAddress(
                id: EgressID(rawValue: ip.address), bindAddress: try SocketAddress(ipAddress: ip.address, port: 0),
                heloName: ip.helo ?? defaultHelo, pool: ip.pool, weight: ip.weight, warmup: ip.warmup)
        }
    }

    /// The addresses of `pool` in a weighted random order (Efraimidis–Spirakis: sort by
    /// u^(1/w)), so each gets its share of first choices and the others are fallbacks.
    static func weightedOrder(_ addresses: [EgressAddress], using rng: inout some RandomNumberGenerator) -> [EgressAddress] {
        addresses
            .map { ($0, pow(Double.random(in: Double.ulpOfOne..<1, using: &rng), 1 / Double($0.weight))) }
            .sorted { $0.1 > $1.1 }
            .map(\.0)
    }
}

#if canImport(Glibc)
import Glibc
#endif
