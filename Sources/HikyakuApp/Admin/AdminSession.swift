import Logging
import NIOPosix
import Queue
import RedisClient
import RelayCore

/// A problem that stops an operator command, printed as `Error: …` without the usage text.
public struct OperatorError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The Redis side of one operator command (`hikyaku account|domain|queue|suspend|…`): a
/// client on the configured Redis, the account store and queue administration over it.
/// The executable renders what these return; it never talks to Redis itself.
public struct AdminSession: Sendable {
    public let configuration: HikyakuConfiguration
    let redis: RedisClient
    let logger: Logger

    var accountStore: AccountStore {
        AccountStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration))
    }

    var queueAdmin: QueueAdmin {
        QueueAdmin(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration), logger: logger)
    }

    /// Runs `body` with a session on `configuration`'s Redis and closes the connection after.
    /// Configuration and queue errors come out as ``OperatorError``.
    public static func run<T>(
        _ configuration: HikyakuConfiguration, logger: Logger,
        _ body: (AdminSession) async throws -> T
    ) async throws -> T {
        let redis: RedisClient
        do {
            redis = try HikyakuApplication.makeRedisClient(
                configuration.redis, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } catch let error as ConfigurationError {
            throw OperatorError(error.description)
        }
        let session = AdminSession(configuration: configuration, redis: redis, logger: logger)
        do {
            let result = try await body(session)
            await redis.shutdown()
            return result
        } catch let error as QueueError {
            await redis.shutdown()
            throw OperatorError(error.description)
        } catch {
            await redis.shutdown()
            throw error
        }
    }

    /// Loads this version's Redis functions (admin user only); returns the libraries that
    /// were replaced (empty: all up to date) and the names of all of them.
    public func loadFunctions() async throws -> (replaced: [String], all: [String]) {
        // On a Redis Cluster on every primary: the limit keys may have a slot on another
        // primary than the queue's, and a relay user may not load functions itself.
        let replaced = try await redis.withConnectionToEveryPrimary { try await FunctionLibraries.ensureLoaded(on: $0) }
        var seen = Set<String>()
        return (replaced.flatMap { $0 }.filter { seen.insert($0).inserted }, FunctionLibraries.all.map(\.name))
    }
}
