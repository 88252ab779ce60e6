import HikyakuMetrics
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Runs a ``MetricsServer`` on 127.0.0.1 port 0 inside a `ServiceGroup` for the duration
/// of `body`, which gets the bound port and a function that triggers graceful shutdown.
/// Shuts the group down afterwards and rethrows what the server threw.
func withMetricsServer(
    registry: PrometheusCollectorRegistry,
    idleTimeout: TimeAmount = MetricsServer.defaultIdleTimeout,
    logs: LogCapture = LogCapture(),
    _ body: (_ port: Int, _ shutdown: @escaping @Sendable () async -> Void) async throws -> Void
) async throws {
    let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
    let logger = logs.logger()
    let server = MetricsServer(
        address: "127.0.0.1:0", registry: registry, logger: logger,
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton, idleTimeout: idleTimeout,
        onBound: { address in continuation.yield(address.port ?? 0) })
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: logger))
    let shutdown: @Sendable () async -> Void = { await group.triggerGracefulShutdown() }

    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { continuation.finish() }
            try await group.run()
        }
        var ports = bound.makeAsyncIterator()
        guard let port = await ports.next() else {
            try await tasks.waitForAll()  // Surfaces the server's error.
            throw HarnessError(description: "the metrics server stopped before binding")
        }
        do {
            try await body(port, shutdown)
        } catch {
            await shutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await shutdown()
        try await tasks.waitForAll()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}
