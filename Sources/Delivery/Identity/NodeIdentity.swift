import Logging
import Queue
import RelayCore

/// A worker process's stable name in the queue: `<node_name>/<slot>`, its Redis consumer
/// name. Stable across restarts, so a process restarted after a crash finds, under its own
/// name, the work its earlier run had claimed, and takes it back at once instead of
/// waiting for the claim timeout (see `MessageQueue.recoverClaims`).
///
/// Two live processes never share a name: each holds a lease on it in Redis (`node:<name>`,
/// renewed every third of `delivery.node_lease`). A process takes the lowest slot whose
/// lease is free or whose holder is dead; a slot held by a live process is skipped, so a
/// second process started with the same `node_name` runs as `<node_name>/1`. A holder is
/// known dead at once when it ran on this machine and its PID is gone (`ProcessToken`);
/// otherwise the lease is watched until it is renewed (alive) or lapses (dead).
public struct NodeIdentity: Sendable, CustomStringConvertible {
    /// `<node_name>/<slot>`.
    public let name: String
    /// This process's token, the value of the lease.
    let token: String
    /// The earlier holder was a process that died without giving the name back: its claims
    /// are to be recovered.
    public let succeededCrashedHolder: Bool

    public var description: String { name }

    /// How many slots one `node_name` may have.
    public static let maximumSlots = 64

    /// Takes the first free slot of `nodeName`, retrying while Redis is out of reach.
    public static func acquire(nodeName: String, queue: MessageQueue, lease: Duration, logger: Logger) async throws -> NodeIdentity {
        let token = ProcessToken.current().text
        while true {
            do {
                return try await acquireOnce(nodeName: nodeName, token: token, queue: queue, lease: lease, logger: logger)
            } catch let error as QueueError {
                logger.warning("cannot take a worker identity in Redis: \(error); retrying in 1s")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    static func acquireOnce(
        nodeName: String, token: String, queue: MessageQueue, lease: Duration,
        system: ProcessTable = .live, logger: Logger
    ) async throws -> NodeIdentity {
        for slot in 0..<maximumSlots {
            let name = "\(nodeName)/\(slot)"
            var deadHolder: String? = nil
            var lastSeen: (holder: String, remaining: Int64)? = nil
            while true {
                switch try await queue.acquireIdentity(name, token: token, lease: lease, deadHolder: deadHolder) {
                case .acquired:
                    let crashed = deadHolder != nil || lastSeen != nil
                    if crashed { logger.notice("took over worker identity \(name) from a process that is no longer running") }
                    return NodeIdentity(name: name, token: token, succeededCrashedHolder: crashed)
                case .held(let holder, let remaining):
                    if let seen = lastSeen, seen.holder != holder || remaining > seen.remaining {
                        // Renewed (or taken by another process meanwhile): a live holder.
                        logger.notice("worker identity \(name) is held by a live process; trying the next slot")
                        break
                    }
                    switch ProcessToken.liveness(of: holder, system: system) {
                    case .alive:
                        logger.notice("worker identity \(name) is held by a live process on this machine; trying the next slot")
                    case .dead:
                        deadHolder = holder
                        continue
                    case .unknown:
                        // Held from another machine or PID namespace: a live holder renews
                        // within a third of its lease; a dead one's lease lapses.
                        if lastSeen == nil {
                            logger.notice(
                                "worker identity \(name) is held by a process elsewhere; waiting up to \(remaining) ms to see whether it is alive"
                            )
                        }
                        lastSeen = (holder, remaining)
                        try await Task.sleep(for: .milliseconds(min(max(remaining, 50), 500)))
                        continue
                    }
                }
                break
            }
        }
        throw NodeIdentityError(message: "all \(maximumSlots) slots of node_name '\(nodeName)' are held by live processes")
    }
}

public struct NodeIdentityError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension NodeIdentity {
    /// Renews the identity's lease every third of `lease` until cancelled. If another
    /// process has taken the identity (this one was cut off from Redis for longer than the
    /// lease), it throws: two processes must never deliver under one name.
    /// It keeps `egress` (the worker's IPs) live for as long, for retries pinned to them.
    struct Keeper: Sendable {
        let identity: NodeIdentity
        let queue: MessageQueue
        let lease: Duration
        var egress: [EgressID] = []
        let logger: Logger

        func run() async throws {
            try? await queue.markEgressLive(egress, for: lease)
            while true {
                do { try await Task.sleep(for: lease / 3) } catch { return }
                do {
                    try await queue.markEgressLive(egress, for: lease)
                    switch try await queue.renewIdentity(identity.name, token: identity.token, lease: lease) {
                    case .renewed:
                        break
                    case .retaken:
                        logger.warning("the lease on worker identity \(identity.name) had lapsed (Redis out of reach?) and was taken again")
                    case .lost:
                        logger.critical(
                            "worker identity \(identity.name) is now held by another process; stopping so two processes never deliver under one name"
                        )
                        throw NodeIdentityError(message: "worker identity \(identity.name) was taken by another process")
                    }
                } catch let error as QueueError {
                    logger.warning("cannot renew the lease on worker identity \(identity.name): \(error)")
                }
            }
        }
    }

    /// Gives the identity back (graceful stop), so a restart takes it at once.
    static func release(_ identity: NodeIdentity, queue: MessageQueue, logger: Logger) async {
        do { try await queue.releaseIdentity(identity.name, token: identity.token) } catch {
            logger.info("cannot give worker identity \(identity.name) back (it lapses on its own): \(error)")
        }
    }
}
