import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The Prometheus scrape endpoint: a small HTTP/1.1 server, run as a `Service`.
///
/// ```
/// C: GET /metrics HTTP/1.1
/// S: HTTP/1.1 200 OK
/// S: Content-Type: text/plain; version=0.0.4; charset=utf-8
/// C: GET /healthz HTTP/1.1
/// S: HTTP/1.1 200 OK            (body "ok")
/// C: POST /metrics HTTP/1.1
/// S: HTTP/1.1 405 Method Not Allowed
/// C: GET /other HTTP/1.1
/// S: HTTP/1.1 404 Not Found
/// ```
///
/// ``run()`` binds, logs the bound address at notice level, then serves until graceful
/// shutdown (or cancellation), when it closes the listening socket and any open
/// keep-alive connections. It throws ``MetricsServerError`` naming the address if the
/// address is malformed or cannot be bound.
public struct MetricsServer: Service {
    /// How long a connection may sit without a request before the server closes it.
    public static let defaultIdleTimeout: TimeAmount = .seconds(60)

    private let address: String
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let idleTimeout: TimeAmount
    private let onBound: (@Sendable (SocketAddress) -> Void)?

    /// - Parameters:
    ///   - address: `host:port` to listen on (`[::1]:9464` for IPv6; port `0` picks a free one).
    ///   - registry: what `/metrics` exposes (from ``HikyakuMetrics/bootstrap()``).
    ///   - idleTimeout: idle connections are closed after this long.
    ///   - onBound: called once with the bound address (useful with port `0`).
    public init(
        address: String, registry: PrometheusCollectorRegistry, logger: Logger,
        eventLoopGroup: any EventLoopGroup, idleTimeout: TimeAmount = Self.defaultIdleTimeout,
        onBound: (@Sendable (SocketAddress) -> Void)? = nil
    ) {
        self.address = address
        self.registry = registry
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.idleTimeout = idleTimeout
        self.onBound = onBound
    }

    public func run() async throws {
        guard let parsed = MetricsServerAddress(address) else {
            throw MetricsServerError.invalidAddress(address)
        }
        let endpoint = MetricsEndpoint(registry: registry)
        let connections = ConnectionTracker()
        let logger = self.logger
        let idleTimeout = self.idleTimeout
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { child in
                    guard connections.add(child) else {
                        return child.close()
                    }
                    return child.eventLoop.makeCompletedFuture {
                        let sync = child.pipeline.syncOperations
                        try sync.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                        try sync.configureHTTPServerPipeline(withErrorHandling: true)
                        try sync.addHandler(MetricsHTTPHandler(endpoint: endpoint, logger: logger))
                    }
                }
                .bind(host: parsed.host, port: parsed.port)
                .get()
        } catch {
            throw MetricsServerError.cannotBind(address, reason: "\(error)")
        }
        let bound = parsed.description(port: channel.localAddress?.port ?? parsed.port)
        logger.notice("Metrics endpoint listening on http://\(bound)/metrics", metadata: ["address": "\(bound)"])
        if let onBound, let localAddress = channel.localAddress {
            onBound(localAddress)
        }
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
        await connections.closeAll()
        logger.notice("Metrics endpoint on \(bound) stopped")
    }
}
