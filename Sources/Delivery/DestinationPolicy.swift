import NIOCore
import RelayCore

/// Which addresses a worker may connect to, decided before any connection is made.
///
/// A domain whose MX points at the relay itself would make a worker hand the message to
/// its own ingest, which takes it again as an allow-listed client — a loop that once
/// accepted one message 80 times in 8 seconds. So:
/// - this host's own SMTP listeners (from `ingest.listeners` — every process of a host
///   reads the same configuration; a wildcard listener such as `0.0.0.0:25` stands for
///   every local address) are never connected to, whatever any setting says; an MX that is
///   one of them is dropped with every MX of equal or lower preference (RFC 5321 §5.1: a
///   client that finds itself among the MX hosts only tries the more preferred ones);
/// - loopback, unspecified, link-local, multicast and broadcast addresses, and
///   `delivery.forbidden_networks`, are not connected to either — unless
///   `delivery.allowed_mx_networks` names them (tests, simulators on `127.0.0.x`);
///   `forbidden_networks` wins over it. Static routes skip this second check.
///
/// Private ranges (RFC 1918, ULA) are allowed: internal relays are common.
struct DestinationPolicy: Sendable {
    /// One of this host's SMTP listeners.
    struct Listener: Sendable, Hashable {
        var name: String
        /// 4 or 16 octets; all zero for a wildcard listener (`0.0.0.0`, `::`).
        var ip: [UInt8]
        var port: Int
        var isWildcard: Bool { ip.allSatisfy { $0 == 0 } }
    }

    enum Verdict: Sendable, Equatable {
        case allowed
        /// One of this host's SMTP listeners (its name): delivering there is a mail loop.
        case ownListener(String)
        /// A range no worker connects to; says which (`a loopback address`).
        case forbidden(String)
    }

    var listeners: [Listener]
    var forbiddenNetworks: [IPNetwork]
    var allowedNetworks: [IPNetwork]

    /// Ranges never connected to by default (RFC 6890): nothing real receives mail there,
    /// and a connection there reaches this host or its link.
    static let builtInForbidden = IPNetwork.localRanges

    init(listeners: [Listener], forbiddenNetworks: [IPNetwork] = [], allowedNetworks: [IPNetwork] = []) {
        self.listeners = listeners
        self.forbiddenNetworks = forbiddenNetworks
        self.allowedNetworks = allowedNetworks
    }

    /// From the configuration: the listeners of `ingest.listeners`, each host name resolved
    /// as the listener resolves it to bind (one that does not resolve here is not ours).
    init(delivery: DeliverySettings, listeners: [ListenerSettings]) {
        let own: [Listener] = listeners.compactMap { listener in
            guard let (host, port) = listener.hostAndPort else { return nil }
            let ip =
                IPNetwork.parseAddress(host)
                ?? (try? SocketAddress.makeAddressResolvingHost(host, port: port))
                .flatMap { $0.ipAddress }.flatMap(IPNetwork.parseAddress)
            return ip.map { Listener(name: listener.name, ip: Self.canonical($0), port: port) }
        }
        self.init(listeners: own, forbiddenNetworks: delivery.forbiddenNetworks, allowedNetworks: delivery.allowedMXNetworks)
    }

    /// Whether a worker may connect to `ip` (4 or 16 octets) on `port`. `localAddresses`:
    /// this host's interface addresses; `isRoute`: a static route (only the loop check).
    func verdict(ip address: [UInt8], port: Int, localAddresses: Set<[UInt8]>, isRoute: Bool) -> Verdict {
        let ip = Self.canonical(address)
        let isUnspecified = ip.allSatisfy { $0 == 0 }
        // Connecting to 0.0.0.0 or :: reaches this host; any 127/8 address reaches a wildcard listener.
        let isLocal = isUnspecified || localAddresses.contains(ip) || Self.isLoopback(ip)
        for listener in listeners where listener.port == port {
            if listener.isWildcard ? isLocal : (listener.ip == ip || isUnspecified) {
                return .ownListener(listener.name)
            }
        }
        if isRoute { return .allowed }
        if let network = forbiddenNetworks.first(where: { $0.contains(addressBytes: ip) }) {
            return .forbidden("in delivery.forbidden_networks (\(network))")
        }
        if let range = Self.builtInForbidden.first(where: { $0.network.contains(addressBytes: ip) }),
            !allowedNetworks.contains(where: { $0.contains(addressBytes: ip) })
        {
            return .forbidden(range.kind)
        }
        return .allowed
    }

    /// `targets` without the addresses a worker may not connect to (and, when one is this
    /// host's listener, without that MX and every less preferred one). Throws a permanent
    /// routing error naming the first refused address when nothing is left to try because
    /// of that: `5.4.6` (routing loop) for an own listener, `5.4.4` (unable to route) else.
    func screen(
        _ targets: [DestinationRouter.Target], domain: DomainName, localAddresses: Set<[UInt8]>
    ) throws(DestinationRouter.RoutingError) -> [DestinationRouter.Target] {
        var refusals: [(host: String, address: SocketAddress, verdict: Verdict)] = []
        var screened = targets
        var loopPreference: UInt16? = nil
        for (index, target) in targets.enumerated() {
            screened[index].addresses = target.addresses.filter { address in
                guard let text = address.ipAddress, let ip = IPNetwork.parseAddress(text), let port = address.port else { return false }
                let verdict = verdict(ip: ip, port: port, localAddresses: localAddresses, isRoute: target.isRoute)
                guard verdict != .allowed else { return true }
                refusals.append((target.host, address, verdict))
                if case .ownListener = verdict { loopPreference = min(loopPreference ?? .max, target.preference) }
                return false
            }
        }
        if let loopPreference { screened.removeAll { $0.preference >= loopPreference } }
        guard !refusals.isEmpty, screened.allSatisfy({ $0.addresses.isEmpty }) else { return screened }
        let first = refusals.first { if case .ownListener = $0.verdict { true } else { false } } ?? refusals[0]
        let host = RemoteText.capped(first.host, maxBytes: 255)
        let ip = first.address.ipAddress ?? "?"
        let more = refusals.count > 1 ? " (and \(refusals.count - 1) more refused address(es))" : ""
        switch first.verdict {
        case .ownListener(let name):
            throw .init(
                isPermanent: true,
                reply:
                    "554 5.4.6 Mail for \(domain) would loop back to this relay: \(host) [\(ip)]:\(first.address.port ?? 0) is its own listener '\(name)' (RFC 5321 §5.1)\(more)"
            )
        case .forbidden(let kind):
            throw .init(
                isPermanent: true,
                reply:
                    "554 5.4.4 No usable mail exchanger for \(domain): \(host) [\(ip)] is \(kind), which workers do not connect to (delivery.allowed_mx_networks)\(more)"
            )
        case .allowed:
            return screened
        }
    }

    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it maps.
    static func canonical(_ ip: [UInt8]) -> [UInt8] { IPNetwork.canonical(ip) }

    static func isLoopback(_ ip: [UInt8]) -> Bool {
        ip.count == 4 ? ip[0] == 127 : ip == [UInt8](repeating: 0, count: 15) + [1]
    }
}
