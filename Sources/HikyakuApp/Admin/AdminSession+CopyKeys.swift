import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore

/// `hikyaku redis copy-keys`: moves a relay's whole state — queued mail, events, accounts,
/// limits, suppression lists — from one Redis to the configured one under the configured
/// prefix, e.g. from a single primary (`hk:`) to a Redis Cluster (`hk:{hk}:`), where every
/// key must carry the prefix's hash tag (README, "Moving to a Redis Cluster").
///
/// Each key is copied as it is with `DUMP` on the source and `RESTORE` (with its remaining
/// time to live) on the target, so streams keep their consumer groups and pending entries
/// and a retry keeps its pin. The source is only read: until the relays start on the
/// target, going back is starting them on the source again.
public struct KeyCopy: Sendable {
    /// What a copy did.
    public struct Outcome: Sendable, Equatable {
        /// Keys written on the target.
        public var copied = 0
        /// Keys that expired or were deleted between `SCAN` and `DUMP`.
        public var vanished = 0
    }

    /// Keys asked of the source per round trip.
    static let batchSize = 500

    let source: RedisClient
    let sourcePrefix: String
    let target: RedisClient
    let targetPrefix: String
    /// The target's `redis.limits_key_prefix`: limit keys (``QueueKeys/limitStems``) go there.
    var targetLimitsPrefix: String? = nil
    /// Overwrite keys the target already has (`RESTORE … REPLACE`); without it such a key
    /// stops the copy.
    let replace: Bool
    /// Which keys: all of them, or everything but the queued mail and the workers' leases.
    var selection: Selection = .all

    /// `--keys`: what a copy takes.
    public enum Selection: String, Sendable, CaseIterable {
        /// Every key: stop every relay first, start them on the target after.
        case all
        /// Everything but the queued mail (``QueueKeys/queueStems``, moved by `move-queue`
        /// while the new relays run) and the workers' identities and connection leases.
        case state
    }

    /// Copies every key under `sourcePrefix`; `progress` gets the running count after each batch.
    ///
    /// - Throws: ``OperatorError`` naming the key the target refused (e.g. `BUSYKEY`: it
    ///   exists there already, or `NOPERM`: the user may not `RESTORE`).
    func run(progress: (Outcome) -> Void) async throws -> Outcome {
        var outcome = Outcome()
        var cursor = "0"
        let pattern = Self.globEscaped(sourcePrefix) + "*"
        repeat {
            let reply = try await source.send(RedisCommand("SCAN", [.string(cursor), "MATCH", .string(pattern), "COUNT", 1000]))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                throw OperatorError("the source answered SCAN with \(reply)")
            }
            cursor = next
            // Copying within one Redis to a longer prefix (hk: to hk:{hk}:), SCAN also
            // returns keys this copy wrote.
            let names = keys.compactMap(\.buffer).filter { key in
                if targetPrefix.hasPrefix(sourcePrefix) && key.readableBytesView.starts(with: targetPrefix.utf8) { return false }
                if let limits = targetLimitsPrefix, limits.hasPrefix(sourcePrefix), key.readableBytesView.starts(with: limits.utf8) {
                    return false
                }
                guard selection == .state else { return true }
                let name = String(decoding: key.readableBytesView.dropFirst(sourcePrefix.utf8.count), as: UTF8.self)
                return !QueueKeys.name(name, startsWithOneOf: QueueKeys.queueStems + QueueKeys.workerStems)
            }
            var start = 0
            while start < names.count {
                let batch = Array(names[start..<min(start + Self.batchSize, names.count)])
                try await copy(batch, into: &outcome)
                start += batch.count
            }
            progress(outcome)
        } while cursor != "0"
        return outcome
    }

    private func copy(_ keys: [ByteBuffer], into outcome: inout Outcome) async throws {
        var reads: [RedisCommand] = []
        reads.reserveCapacity(keys.count * 2)
        for key in keys {
            reads.append(RedisCommand("DUMP", [.bytes(key)]))
            reads.append(RedisCommand("PTTL", [.bytes(key)]))
        }
        let replies = try await source.pipeline(reads)
        var writes: [RedisCommand] = []
        var written: [String] = []
        for (index, key) in keys.enumerated() {
            guard let payload = replies[2 * index].buffer, let ttl = replies[2 * index + 1].int, ttl != -2 else {
                outcome.vanished += 1
                continue
            }
            let rest = key.getSlice(at: key.readerIndex + sourcePrefix.utf8.count, length: key.readableBytes - sourcePrefix.utf8.count)!
            let isLimit = QueueKeys.name(String(buffer: rest), startsWithOneOf: QueueKeys.limitStems)
            var name = ByteBuffer(string: isLimit ? (targetLimitsPrefix ?? targetPrefix) : targetPrefix)
            name.writeImmutableBuffer(rest)
            var arguments: [RESPArgument] = [.bytes(name), .integer(max(ttl, 0)), .bytes(payload)]
            if replace { arguments.append("REPLACE") }
            writes.append(RedisCommand("RESTORE", arguments))
            written.append(String(buffer: name))
        }
        guard !writes.isEmpty else { return }
        for (index, reply) in try await target.pipeline(writes).enumerated() {
            if case .error(let message) = reply {
                throw OperatorError(
                    "the target refused \(written[index]): \(message)"
                        + (message.hasPrefix("BUSYKEY") ? " (it is there already; --replace overwrites)" : ""))
            }
            outcome.copied += 1
        }
    }

    /// `prefix` with the glob characters of `SCAN MATCH` escaped.
    static func globEscaped(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

extension AdminSession {
    /// Copies every key under `sourcePrefix` of the Redis at `sourceURL` to this session's
    /// Redis under its `redis.key_prefix`.
    public func copyKeys(
        from sourceURL: String, sourcePrefix: String, replace: Bool, selection: KeyCopy.Selection = .all,
        progress: (_ copied: Int, _ vanished: Int) -> Void
    ) async throws -> (copied: Int, vanished: Int) {
        let source = try sourceClient(sourceURL)
        let targetPrefix = configuration.redis.effectiveKeyPrefix
        do {
            var copy = KeyCopy(source: source, sourcePrefix: sourcePrefix, target: redis, targetPrefix: targetPrefix, replace: replace)
            copy.targetLimitsPrefix = configuration.redis.effectiveLimitsKeyPrefix
            copy.selection = selection
            let outcome = try await copy.run { progress($0.copied, $0.vanished) }
            await source.shutdown()
            return (outcome.copied, outcome.vanished)
        } catch {
            await source.shutdown()
            throw error
        }
    }

    /// Moves the mail queued in the Redis at `sourceURL` (keys under `sourcePrefix`) into
    /// this session's queue (``QueueMove``).
    public func moveQueue(
        from sourceURL: String, sourcePrefix: String, progress: (QueueMove.Outcome) -> Void
    ) async throws -> QueueMove.Outcome {
        let source = try sourceClient(sourceURL)
        do {
            let move = QueueMove(
                source: source, sourceKeys: QueueKeys(prefix: sourcePrefix), target: redis,
                targetKeys: HikyakuApplication.queueConfiguration(configuration).keys)
            let outcome = try await move.run(progress: progress)
            await source.shutdown()
            return outcome
        } catch {
            await source.shutdown()
            throw error
        }
    }

    /// A client of the Redis a copy or move reads from (TLS files from `redis.tls`).
    private func sourceClient(_ url: String) throws -> RedisClient {
        let endpoint: RedisEndpoint
        do { endpoint = try RedisEndpoint(url: url) } catch { throw OperatorError("--from: \(error)") }
        var sourceConfiguration = RedisClient.Configuration(endpoint: endpoint, connectionCount: 1)
        if endpoint.usesTLS {
            let files = configuration.redis.tls ?? RedisTLSSettings()
            sourceConfiguration.tls = try RedisTLS(
                caFile: files.caFile, certificateFile: files.certFile, keyFile: files.keyFile, serverName: files.serverName)
        }
        return RedisClient(configuration: sourceConfiguration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }
}
