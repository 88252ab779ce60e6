import Logging
import ServiceLifecycle

/// Runs a ``Simulator`` until graceful shutdown, then closes its listeners and connections
/// (so nothing is accepted after the record file's last flush).
struct SimulatorService: Service {
    let simulator: Simulator
    let logger: Logger

    func run() async throws {
        let port = try await self.simulator.start()
        let addresses = self.simulator.sites.map { "\($0.name)=\($0.definition.addresses.joined(separator: ","))" }
        self.logger.notice("listening on port \(port): \(addresses.joined(separator: " "))")
        try? await gracefulShutdown()
        await self.simulator.stop()
        self.logger.info("stopped listening")
    }
}
