import NIOCore
import RelayCore

/// A suspension in force (`susp:site:*`, `susp:ip:*`, `susp:ipall:*`), set by adaptive
/// backoff or an operator.
public struct SuspensionReport: Sendable, Hashable {
    public var target: SuspensionTarget
    /// Time left (ms); -1 when the key has no expiry.
    public var remainingMilliseconds: Int64
    /// Why: the operator's reason, or the remote reply that triggered a backoff rule.
    public var reason: String?
    /// The backoff rule's name (`operator` for `hikyaku suspend`).
    public var rule: String?
    /// Who set it (`operator`, or the worker's host/pid).
    public var node: String?

    public init(target: SuspensionTarget, remainingMilliseconds: Int64, reason: String?, rule: String?, node: String?) {
        self.target = target
        self.remainingMilliseconds = remainingMilliseconds
        self.reason = reason
        self.rule = rule
        self.node = node
    }

    /// From a key's stored value: the backoff event written with it, or (for keys set by
    /// other means) the raw text as the reason.
    init(target: SuspensionTarget, remainingMilliseconds: Int64, storedValue: String?) {
        self.init(target: target, remainingMilliseconds: remainingMilliseconds, reason: storedValue, rule: nil, node: nil)
        guard let storedValue, storedValue.hasPrefix("{"),
            let event = try? EventCoding.decode(.init(string: storedValue))
        else { return }
        reason = event.reply
        rule = event.rule
        node = event.node
    }

    struct Encoded: Encodable {
        var scope: String
        var site: SiteName?
        var ip: EgressID?
        var remainingMs: Int64
        var until: String?
        var reason: String?
        var rule: String?
        var node: String?

        enum CodingKeys: String, CodingKey { case scope, site, ip, remainingMs = "remaining_ms", until, reason, rule, node }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(scope, forKey: .scope)
            try c.encode(site, forKey: .site)
            try c.encode(ip, forKey: .ip)
            try c.encode(remainingMs, forKey: .remainingMs)
            try c.encode(until, forKey: .until)
            try c.encode(reason, forKey: .reason)
            try c.encode(rule, forKey: .rule)
            try c.encode(node, forKey: .node)
        }
    }

    func encodable(at now: Int64) -> Encoded {
        var site: SiteName?
        var ip: EgressID?
        switch target {
        case .site(let name): site = name
        case .ip(let address, let name):
            ip = address
            site = name
        }
        return Encoded(
            scope: target.scope, site: site, ip: ip, remainingMs: remainingMilliseconds,
            until: remainingMilliseconds >= 0 ? WallClock.iso8601(milliseconds: now + remainingMilliseconds) : nil,
            reason: reason, rule: rule, node: node)
    }
}
