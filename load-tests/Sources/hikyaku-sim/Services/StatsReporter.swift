import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints a line of counters per site to standard error on SIGUSR1, every `interval` (if
/// any), and at shutdown:
///
/// ```
/// hikyaku-sim stats: site=gmail-like accepted=120 recipients=120 refused=7 (rate_limit=5 unknown_user=2) | site=plain accepted=…
/// ```
struct StatsReporter: Service {
    let simulator: Simulator
    let interval: Duration?

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigusr1)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in signals {
                        self.report()
                    }
                }
                if let interval = self.interval {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: interval)
                            if !Task.isCancelled { self.report() }
                        }
                    }
                }
            }
        }
        self.report()
    }

    private func report() {
        let line = Array("hikyaku-sim stats: \(self.simulator.statsLine)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
