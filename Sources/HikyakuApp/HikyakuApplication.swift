import DNSResolver
import Delivery
import Ingest
import Logging
import NIOCore
import NIOPosix
import Prometheus
import HikyakuMetrics
import Queue
import RedisClient
import RelayCore
import ServiceLifecycle

/// Builds the `ServiceGroup` for a configuration and role: the SMTP listeners and/or the
/// delivery worker, around one Redis client. SIGTERM and SIGINT shut it down gracefully
/// (listeners stop accepting, workers finish and record their batches).
public struct HikyakuApplication {
    public let configuration: HikyakuConfiguration
    public let role: Role
    private let logger: Logger
    /// Where metrics are collected when `metrics.address` is set (the executable bootstraps it).
    private let metricsRegistry: PrometheusCollectorRegistry?

    public init(configuration: HikyakuConfiguration, role: Role, logger: Logger, metricsRegistry: PrometheusCollectorRegistry? = nil) {
        self.configuration = configuration
        self.role = role
        self.logger = logger
        self.metricsRegistry = metricsRegistry
    }

    /// Connects a Redis client with the queue's functions loaded on every connection.
    public static func makeRedisClient(_ settings: RedisSettings, group: EventLoopGroup, logger: Logger) throws -> RedisClient {
        guard let url = settings.url else {
            throw ConfigurationError(key: "redis.url", problem: "is required (e.g. redis://127.0.0.1:6379/0, or set HIKYAKU_REDIS__URL)")
        }
        let endpoint: RedisEndpoint
        do { endpoint = try RedisEndpoint(url: url) } catch {
            throw ConfigurationError(key: "redis.url", problem: "\(error)")
        }
        var redisConfiguration = RedisClient.Configuration(endpoint: endpoint)
        redisConfiguration.connectionCount = settings.connections
        redisConfiguration.commandTimeout = settings.commandTimeout.duration
        return RedisClient(configuration: redisConfiguration, eventLoopGroup: group, logger: logger,
                           onConnect: { connection in try await MessageQueue.prepare(connection: connection) })
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let redis = try Self.makeRedisClient(configuration.redis, group: group, logger: logger)
        var queueConfiguration = QueueConfiguration()
        queueConfiguration.commandTimeout = configuration.redis.commandTimeout.duration
        let queue = MessageQueue(redis: redis, configuration: queueConfiguration, logger: logger)

        // Report an unreachable Redis at start instead of at the first message; keep going:
        // the client reconnects, and until then clients get 451 (never a silent 250).
        do {
            _ = try await redis.send(RedisCommand("PING", []))
            logger.notice("connected to Redis at \(configuration.redis.url ?? "?")")
        } catch {
            logger.error("Redis at \(configuration.redis.url ?? "?") is not reachable (\(error)); will keep retrying — until it is, messages are refused with 451 and nothing is delivered")
        }

        var services: [any Service] = []
        if role.runsIngest {
            let tls = try configuration.ingest.tls.map(TLSContextFactory.serverContext)
            let limiter = ConnectionLimiter(maximumPerClient: configuration.ingest.maxConnectionsPerIP,
                                            exemptNetworks: configuration.ingest.relayNetworks)
            for listener in configuration.ingest.listeners {
                services.append(SMTPListener(listener: listener, settings: configuration.ingest, hostname: configuration.hostname,
                                             queue: queue, tls: tls, threadPool: NIOThreadPool.singleton, group: group,
                                             connectionLimiter: limiter, logger: logger))
            }
        }
        if role.runsWorker {
            var dnsConfiguration = DNSResolverConfiguration.systemDefault()
            if !configuration.delivery.dnsServers.isEmpty {
                dnsConfiguration.servers = try configuration.delivery.dnsServers.enumerated().map { index, server in
                    do { return try DNSResolverConfiguration.parse(server: server) } catch {
                        throw ConfigurationError(key: "delivery.dns_servers[\(index)]", problem: "'\(server)' is not ip or ip:port")
                    }
                }
            }
            let dns = DNSResolver(configuration: dnsConfiguration, eventLoopGroup: group, logger: logger)
            services.append(try DeliveryWorker(settings: configuration.delivery, hostname: configuration.hostname,
                                               queue: queue, dns: dns, group: group, logger: logger))
        }
        if let address = configuration.metrics.address, let registry = metricsRegistry {
            services.append(MetricsServer(address: address, registry: registry, logger: logger, eventLoopGroup: group))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // A batch stuck on a silent server must not hold a shutdown forever; its claims
        // lapse and another worker takes them over.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        try await serviceGroup.run()
        await redis.shutdown()
    }
}
