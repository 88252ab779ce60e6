import Logging
import NIOPosix
import ServiceLifecycle

/// Writes the recorder's queued records every ``SimDefaults/flushIntervalMilliseconds`` on
/// a thread-pool thread, and once more at shutdown. Put it before ``SimulatorService`` in
/// the service group: services stop in reverse order, so the last flush comes after the
/// listeners and connections are closed.
struct RecordFlusher: Service {
    let recorder: Recorder
    let threadPool: NIOThreadPool
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: .milliseconds(SimDefaults.flushIntervalMilliseconds))) != nil {
                await self.flush()
            }
        }
        await self.flush()
        self.recorder.close()
    }

    private func flush() async {
        let recorder = self.recorder
        do {
            _ = try await self.threadPool.runIfActive { try recorder.flush() }
        } catch {
            self.logger.error("cannot write records: \(error)")
        }
    }
}
