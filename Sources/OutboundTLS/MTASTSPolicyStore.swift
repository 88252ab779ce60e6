import DNSResolver
import Logging
import NIOCore

/// Finds and caches recipient domains' MTA-STS policies (RFC 8461 §3, §5.1).
///
/// For each domain: the `_mta-sts.<domain>` TXT record; when its `id` is that of the
/// cached policy, the cached one is used; else the policy is fetched from
/// `https://mta-sts.<domain>/.well-known/mta-sts.txt` and cached for its `max_age`.
/// A failed lookup or fetch falls back to a cached, unexpired policy (§5.1: a policy
/// must survive an attacker blocking the refresh); without one the domain has no policy
/// and that answer is remembered briefly, so a domain without MTA-STS costs one TXT
/// query per few minutes, not one per batch. Concurrent lookups of a domain share one.
public actor MTASTSPolicyStore {
    public static let wellKnownPath = "/.well-known/mta-sts.txt"
    /// How long "no policy" is remembered (no record, or nothing fetchable).
    public static let negativeLifetime = TimeAmount.minutes(5)

    private struct Entry {
        var id: String
        var policy: MTASTSPolicy
        var expires: NIODeadline
    }

    private let dns: DNSResolver
    private let fetcher: HTTPSFetcher
    private let capacity: Int
    private let logger: Logger
    private var entries: [String: Entry] = [:]
    private var absent: [String: NIODeadline] = [:]
    private var inFlight: [String: Task<MTASTSPolicy?, Never>] = [:]

    public init(dns: DNSResolver, fetcher: HTTPSFetcher, capacity: Int, logger: Logger) {
        self.dns = dns
        self.fetcher = fetcher
        self.capacity = max(1, capacity)
        self.logger = logger
    }

    /// The domain's current policy, nil when it has none (or its mode is `none`).
    public func policy(for domain: String) async -> MTASTSPolicy? {
        let domain = MTASTSPolicy.normalized(domain)
        if let until = absent[domain], until > .now() { return nil }
        if let running = inFlight[domain] { return await running.value }
        let task = Task { await self.refresh(domain) }
        inFlight[domain] = task
        let policy = await task.value
        inFlight[domain] = nil
        return policy?.mode == MTASTSPolicy.Mode.none ? nil : policy
    }

    private func refresh(_ domain: String) async -> MTASTSPolicy? {
        let now = NIODeadline.now()
        let cached = entries[domain].flatMap { $0.expires > now ? $0 : nil }
        let record: MTASTSRecord?
        do {
            record = MTASTSRecord.find(in: try await dns.txt("_mta-sts.\(domain)"))
        } catch {
            // NXDOMAIN is the common "no MTA-STS"; a temporary failure keeps a cached policy.
            if cached == nil { logger.trace("no MTA-STS record", metadata: ["domain": "\(domain)", "reason": "\(error)"]) }
            return cached?.policy ?? remember(absent: domain)
        }
        guard let record else { return cached?.policy ?? remember(absent: domain) }
        if let cached, cached.id == record.id { return cached.policy }
        do {
            let policy = try await fetch(domain)
            store(domain, Entry(id: record.id, policy: policy, expires: .now() + .seconds(Int64(policy.maxAge))))
            logger.info(
                "MTA-STS policy fetched",
                metadata: [
                    "domain": "\(domain)", "id": "\(record.id)", "mode": "\(policy.mode.rawValue)",
                    "mx": "\(policy.mx.joined(separator: " "))", "max_age": "\(policy.maxAge)",
                ])
            return policy
        } catch {
            logger.warning(
                "cannot fetch the MTA-STS policy; \(cached == nil ? "delivering without one" : "keeping the cached one")",
                metadata: ["domain": "\(domain)", "reason": "\(error)"])
            return cached?.policy ?? remember(absent: domain)
        }
    }

    private func fetch(_ domain: String) async throws -> MTASTSPolicy {
        let host = "mta-sts.\(domain)"
        let addresses = try await dns.addresses(host)
        var lastError: Error = HTTPSFetchError("\(host) has no address")
        for address in addresses {
            do {
                let body = try await fetcher.get(host: host, path: Self.wellKnownPath, address: address)
                return try MTASTSPolicy(parsing: String(decoding: body.readableBytesView, as: UTF8.self))
            } catch let error as MTASTSPolicyError {
                throw error
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private func remember(absent domain: String) -> MTASTSPolicy? {
        if absent.count >= capacity { absent = absent.filter { $0.value > .now() } }
        if absent.count < capacity { absent[domain] = .now() + Self.negativeLifetime }
        return nil
    }

    private func store(_ domain: String, _ entry: Entry) {
        absent[domain] = nil
        if entries[domain] == nil, entries.count >= capacity {
            let now = NIODeadline.now()
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity, let soonest = entries.min(by: { $0.value.expires < $1.value.expires })?.key {
                entries[soonest] = nil
            }
        }
        entries[domain] = entry
    }
}
