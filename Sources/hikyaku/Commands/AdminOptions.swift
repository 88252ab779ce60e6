import ArgumentParser
import Foundation
import HikyakuApp
import Logging
import NIOPosix
import Queue
import RedisClient
import RelayCore
import Secrets

/// Options of the operator commands (`queue`, `suspend`, `resume`, `retry-now`, `bounce`,
/// `purge`): the configuration file, and the Redis URL to override its `redis.url`.
struct AdminOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(help: ArgumentHelp("Redis URL (default: redis.url from the configuration).", valueName: "url"))
    var redisURL: String?

    /// The key file to seal new DKIM keys with: nil (plaintext, with a warning on stderr)
    /// when `secrets.key_file` is not set, an error when `secrets.required` says it must be.
    func keyringForStoring() throws -> SecretKeyring? {
        let settings = try config.load().secrets
        guard let path = settings.keyFile else {
            if settings.required {
                throw StartupError(description: "secrets.key_file is required (secrets.required is true); create one with `hikyaku secrets generate-key PATH`")
            }
            FileHandle.standardError.write(Data("warning: secrets.key_file is not set; the DKIM private keys are stored in Redis in plain text\n".utf8))
            return nil
        }
        do { return try SecretKeyFile.load(path: path) } catch let error as SecretsError {
            throw StartupError(description: "secrets.key_file: \(error.detail)")
        }
    }

    /// Runs `body` with the configured Redis's `AccountStore`.
    func withAccounts<T>(_ body: (AccountStore) async throws -> T) async throws -> T {
        try await withRedis { redis, configuration in
            try await body(AccountStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration)))
        }
    }

    /// Runs `body` with a `QueueAdmin` on the configured Redis, closing the connection after.
    func withAdmin<T>(_ body: (QueueAdmin) async throws -> T) async throws -> T {
        try await withRedis { redis, configuration in
            let logger = Logger(label: "hikyaku")
            return try await body(QueueAdmin(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration), logger: logger))
        }
    }

    func withRedis<T>(_ body: (RedisClient, HikyakuConfiguration) async throws -> T) async throws -> T {
        var configuration = try config.load()
        if let redisURL { configuration.redis.url = redisURL }
        bootstrapLogging(level: "error")
        let logger = Logger(label: "hikyaku")
        let redis: RedisClient
        do {
            redis = try HikyakuApplication.makeRedisClient(configuration.redis, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } catch let error as ConfigurationError {
            throw StartupError(description: error.description)
        }
        do {
            let result = try await body(redis, configuration)
            await redis.shutdown()
            return result
        } catch let error as QueueError {
            await redis.shutdown()
            throw StartupError(description: error.description)
        } catch {
            await redis.shutdown()
            throw error
        }
    }
}
