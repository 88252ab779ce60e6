import ArgumentParser
import Foundation
import HikyakuApp
import Logging
import RelayCore

/// Options of the operator commands (`queue`, `suspend`, `resume`, `retry-now`, `bounce`,
/// `purge`, `account`, `domain`, …): the configuration file, and the Redis URL to override
/// its `redis.url`.
struct AdminOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(help: ArgumentHelp("Redis URL (default: redis.url from the configuration).", valueName: "url"))
    var redisURL: String?

    /// How to store new DKIM keys; warns on stderr when they will be stored unsealed.
    func sealingForStoring() throws -> DKIMSealing {
        let sealing = try DKIMSealing.forStoring(try config.load().secrets)
        if sealing.isPlaintext {
            FileHandle.standardError.write(
                Data("warning: secrets.key_file is not set; the DKIM private keys are stored in Redis in plain text\n".utf8))
        }
        return sealing
    }

    /// Runs `body` with an ``AdminSession`` on the configured Redis, closing it after.
    func withSession<T>(_ body: (AdminSession) async throws -> T) async throws -> T {
        var configuration = try config.load()
        if let redisURL { configuration.redis.url = redisURL }
        bootstrapLogging(level: "error")
        return try await AdminSession.run(configuration, logger: Logger(label: "hikyaku"), body)
    }
}
