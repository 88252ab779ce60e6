import NIOCore
import Queue
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

    /// The IPs of `addresses` in `pool`, in weighted random order — `held` (the IP of a
    /// connection still open) first, so it carries on — offered for a claim with the site's
    /// limits. `shaping` nil: unlimited (no route, nothing will be sent), and then no
    /// warm-up cap either. `day`: the UTC day (days since 1970) the warm-up caps are for.
    static func candidates(
        from addresses: [EgressAddress], pool: PoolName, shaping: ShapingSettings?, preferring held: EgressID?, day: Int64,
        using rng: inout some RandomNumberGenerator
    ) -> [EgressCandidate] {
        var ordered = weightedOrder(addresses.filter { $0.pool == pool }, using: &rng)
        if let held, let index = ordered.firstIndex(where: { $0.id == held }) {
            ordered.insert(ordered.remove(at: index), at: 0)
        }
        return ordered.map { address in
            EgressCandidate(
                egress: address.id, maxConnections: shaping?.maxConnectionsPerIP ?? 0,
                rate: shaping?.ratePerIP, connectionRate: shaping?.connectionRatePerIP,
                warmupCap: shaping == nil ? nil : address.warmup?.cap(onDay: day))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
