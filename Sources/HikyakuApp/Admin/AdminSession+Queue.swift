import DKIM
import NIOCore
import Queue
import RelayCore

// The queue's report and request types, as the operator commands name them.
public typealias QueueReport = Queue.QueueReport
public typealias SuspensionTarget = Queue.SuspensionTarget
public typealias ResumeResult = Queue.ResumeResult
public typealias OperatorRemoval = Queue.OperatorRemoval
public typealias RetryNowResult = Queue.RetryNowResult
public typealias RemovalResult = Queue.RemovalResult

/// Queue administration (`hikyaku queue|suspend|resume|retry-now|bounce|purge`) and the
/// events stream (`hikyaku events tail`).
extension AdminSession {
    public func queueReport(pool: PoolName?, domain: DomainName?) async throws -> QueueReport {
        try await queueAdmin.report(pool: pool, domain: domain)
    }

    public func suspend(_ target: SuspensionTarget, for duration: Duration, reason: String?) async throws -> DeliveryEvent {
        let event = try await queueAdmin.suspend(target, for: duration, reason: reason)
        await audit("queue.suspend", [("target", "\(target)"), ("seconds", "\(duration.components.seconds)"), ("reason", reason ?? "")])
        return event
    }

    public func resume(_ target: SuspensionTarget) async throws -> ResumeResult {
        let result = try await queueAdmin.resume(target)
        await audit("queue.resume", [("target", "\(target)")])
        return result
    }

    public func retryNow(pool: PoolName?, domain: DomainName?) async throws -> RetryNowResult {
        let result = try await queueAdmin.retryNow(pool: pool, domain: domain)
        await audit("queue.retry_now", [("pool", pool?.rawValue ?? ""), ("domain", domain?.rawValue ?? "")])
        return result
    }

    public func remove(_ removal: OperatorRemoval, domain: DomainName, pool: PoolName?) async throws -> RemovalResult {
        let result = try await queueAdmin.remove(removal, domain: domain, pool: pool)
        await audit("queue.purge", [("removal", "\(removal)"), ("domain", domain.rawValue), ("pool", pool?.rawValue ?? "")])
        return result
    }

    /// Up to `count` events after stream id `after` (`"0"`: from the start), waiting up to
    /// `block` for one when there is none yet.
    public func events(after: String, count: Int, block: Duration? = nil) async throws -> [(id: String, event: DeliveryEvent)] {
        try await EventLog(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration))
            .read(after: after, count: count, block: block)
    }

    /// An event as one JSON line, as the stream stores it.
    public static func jsonLine(_ event: DeliveryEvent) -> String {
        String(decoding: EventCoding.encode(event).readableBytesView, as: UTF8.self)
    }
}

/// `hikyaku redis acl`: the ACL users of the roles (README, "Redis TLS and ACL users").
public enum RedisACLFile {
    /// The role names: ingest, worker, admin.
    public static var roleNames: [String] { RedisACL.roles.map(\.name) }

    /// `#` and the SHA-256 of `password`, as an aclfile line holds it.
    public static func hashedPassword(_ password: String) throws -> String {
        "#" + (try Digest.sha256Hex(password))
    }

    /// One aclfile line per role, with `password(roleName)` as its password field, for
    /// keys under `prefix` (`redis.key_prefix`) and the limit keys under `limitsPrefix`
    /// (`redis.limits_key_prefix`, nil: `prefix`).
    public static func render(prefix: String = "hk:", limitsPrefix: String? = nil, password: (String) -> String) -> String {
        RedisACL(prefix: prefix, limitsPrefix: limitsPrefix).file { role in password(role.name) }
    }
}
