import Logging
import Queue
import ServiceLifecycle

/// Removes expired suppression entries every `suppression.sweep_interval` (worker hosts,
/// beside the events trimmer). Lookups already ignore an expired entry; this frees the
/// memory. Redis 7.0 has no per-field TTL (`HEXPIRE` is 7.4), hence a sorted set of
/// expiries and this sweep (`hks_sweep`, a thousand entries per call).
struct SuppressionSweeper: Service, CustomStringConvertible {
    let store: SuppressionStore
    let interval: Duration
    let logger: Logger

    var description: String { "SuppressionSweeper" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await store.sweep()
                    if removed > 0 { logger.info("suppression lists: removed \(removed) expired entr\(removed == 1 ? "y" : "ies")") }
                } catch {
                    logger.debug("suppression lists: sweeping failed (\(error))")
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
