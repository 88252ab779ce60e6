import Archiver
import BounceClassification
import BounceListener
import CampaignRunner
import Console
import DNSResolver
import Delivery
import HTTPAPI
import HikyakuMetrics
import Ingest
import LogStore
import Logging
import NIOCore
import NIOPosix
import PostgresLogStore
import Prometheus
import Queue
import RedisClient
import RelayCore
import Secrets
import ServiceLifecycle
import Unsubscribe
import UnsubscribeEndpoint
import Webhooks

#if canImport(Glibc)
import Glibc
#endif

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

    /// The resolver configuration of `delivery.dns_servers`, or of `/etc/resolv.conf` when
    /// that is empty. Reads the file synchronously: call it while starting up.
    public static func dnsConfiguration(_ delivery: DeliverySettings) throws -> DNSResolverConfiguration {
        var dnsConfiguration = DNSResolverConfiguration.systemDefault()
        if !delivery.dnsServers.isEmpty {
            dnsConfiguration.servers = try delivery.dnsServers.enumerated().map { index, server in
                do { return try DNSResolverConfiguration.parse(server: server) } catch {
                    throw ConfigurationError(key: "delivery.dns_servers[\(index)]", problem: "'\(server)' is not ip or ip:port")
                }
            }
        }
        // DANE (RFC 7672) trusts the AD bit of these servers: ask for DNSSEC only then.
        dnsConfiguration.requestDNSSEC = delivery.dane.enabled
        return dnsConfiguration
    }

    /// Connects a Redis client with the queue's functions loaded on every connection.
    public static func makeRedisClient(_ settings: RedisSettings, group: EventLoopGroup, logger: Logger) throws -> RedisClient {
        let placeholder =
            !settings.sentinels.isEmpty ? "redis://sentinel-named-primary" : !settings.cluster.isEmpty ? "redis://cluster-node" : nil
        guard let url = settings.url ?? placeholder else {
            throw ConfigurationError(
                key: "redis.url",
                problem:
                    "is required (e.g. redis://127.0.0.1:6379/0, or set HIKYAKU_REDIS__URL), unless redis.sentinels or redis.cluster are given"
            )
        }
        let endpoint: RedisEndpoint
        do { endpoint = try RedisEndpoint(url: url) } catch {
            throw ConfigurationError(key: "redis.url", problem: "\(error)")
        }
        var redisConfiguration = RedisClient.Configuration(endpoint: endpoint)
        if endpoint.usesTLS {
            let files = settings.tls ?? RedisTLSSettings()
            do {
                redisConfiguration.tls = try RedisTLS(
                    caFile: files.caFile, certificateFile: files.certFile, keyFile: files.keyFile,
                    serverName: files.serverName)
            } catch {
                throw ConfigurationError(key: "redis.tls", problem: "\(error)")
            }
        }
        redisConfiguration.connectionCount = settings.connections
        redisConfiguration.commandTimeout = settings.commandTimeout.duration
        if !settings.cluster.isEmpty {
            guard endpoint.database == 0 else {
                throw ConfigurationError(
                    key: "redis.url", problem: "names database \(endpoint.database); a Redis Cluster has only database 0")
            }
            redisConfiguration.cluster = RedisClusterConfiguration(
                seeds: settings.cluster.compactMap { HostPort.parse($0) }.map { RedisAddress(host: $0.host, port: $0.port) },
                homeKey: settings.effectiveKeyPrefix)
        }
        if !settings.sentinels.isEmpty {
            redisConfiguration.sentinel = RedisSentinelConfiguration(
                sentinels: settings.sentinels.compactMap { HostPort.parse($0) }.map { .init(host: $0.host, port: $0.port) },
                masterName: settings.masterName, password: settings.sentinelPassword, username: settings.sentinelUsername)
        }
        return RedisClient(
            configuration: redisConfiguration, eventLoopGroup: group, logger: logger,
            onConnect: { connection in try await MessageQueue.prepare(connection: connection) })
    }

    /// Builds the Redis client as `serve` would — parses the URL, reads the TLS files —
    /// and closes it without having connected anywhere (`hikyaku check-config`).
    public static func checkRedisSettings(_ settings: RedisSettings, logger: Logger) async throws {
        let redis = try makeRedisClient(settings, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        await redis.shutdown()
    }

    /// Sets up the process's metrics system (once, by the executable) when `metrics.address`
    /// is set; the registry goes to ``init(configuration:role:logger:metricsRegistry:)``.
    public static func bootstrapMetrics(_ settings: MetricsSettings) -> PrometheusCollectorRegistry? {
        settings.address == nil ? nil : HikyakuMetrics.bootstrap()
    }

    /// The queue's settings from the configuration (shared by the relay and the operator commands).
    public static func queueConfiguration(_ configuration: HikyakuConfiguration) -> QueueConfiguration {
        var queueConfiguration = QueueConfiguration()
        queueConfiguration.keyPrefix = configuration.redis.effectiveKeyPrefix
        queueConfiguration.limitsKeyPrefix = configuration.redis.effectiveLimitsKeyPrefix
        queueConfiguration.commandTimeout = configuration.redis.commandTimeout.duration
        queueConfiguration.eventsMaxLength = configuration.events.maxLength
        queueConfiguration.waitReplicas = configuration.redis.waitReplicas
        queueConfiguration.waitTimeout = configuration.redis.waitTimeout.duration
        queueConfiguration.bounceGuard = BounceGuard(
            threshold: configuration.accounts.bounceRateThreshold,
            minimumVolume: configuration.accounts.bounceMinimumVolume,
            windowHours: Int(configuration.accounts.bounceWindow.milliseconds / 3_600_000))
        queueConfiguration.complaintGuard = ComplaintGuard(
            threshold: configuration.accounts.complaintRateThreshold,
            minimumDeliveries: configuration.accounts.complaintMinimumDeliveries,
            windowHours: Int(configuration.accounts.complaintWindow.milliseconds / 3_600_000))
        queueConfiguration.recipientIndexTTLSeconds = Int(configuration.bounces.window.milliseconds / 1000)
        queueConfiguration.recipientIndexBackstopSeconds =
            Int((configuration.delivery.maxAge.milliseconds + configuration.bounces.window.milliseconds) / 1000) + 86_400
        return queueConfiguration
    }

    /// For logs: the URL without its password, or the Sentinels.
    static func redisDescription(_ settings: RedisSettings) -> String {
        if !settings.sentinels.isEmpty {
            return "the primary '\(settings.masterName)' of Sentinels \(settings.sentinels.joined(separator: ", "))"
        }
        return settings.url.flatMap { try? RedisEndpoint(url: $0) }.map { "\($0)" } ?? (settings.redactedURL ?? "?")
    }

    /// The classification rules of `bounces.rules_file` (the shipped ones without it),
    /// read once: a file that does not parse stops the start, naming the line.
    public static func bounceRules(_ settings: BounceSettings) throws -> BounceRules {
        guard let path = settings.rulesFile else { return .shipped }
        do { return try BounceRules.load(path: path) } catch {
            throw ConfigurationError(key: "bounces.rules_file", problem: error.description)
        }
    }

    /// The key file of `secrets.key_file`, checked (mode 0600) and loaded — what an ingest
    /// node needs to open the sealed DKIM keys. Without one: nil and a warning, or, with
    /// `secrets.required`, a refusal to start.
    public static func keyring(_ settings: SecretsSettings, logger: Logger) throws -> KeyringFile? {
        guard let path = settings.keyFile else {
            if settings.required {
                throw ConfigurationError(
                    key: "secrets.key_file",
                    problem: "is required (secrets.required is true); create one with `hikyaku secrets generate-key PATH`")
            }
            logger.warning("secrets.key_file is not set: DKIM private keys are stored in Redis in plain text (README, \"Secrets\")")
            return nil
        }
        do { return try KeyringFile(path: path) } catch let error as SecretsError {
            throw ConfigurationError(key: "secrets.key_file", problem: error.detail)
        }
    }

    /// One-click unsubscribe (README "One-click unsubscribe"): links need
    /// `campaigns.unsubscribe_base_url` and the key file that signs them.
    static func unsubscribeLinks(_ configuration: HikyakuConfiguration, keyring: KeyringFile?, logger: Logger) -> UnsubscribeLinks? {
        guard configuration.campaigns.unsubscribeBaseURL != nil else { return nil }
        guard let links = UnsubscribeLinks(settings: configuration.campaigns, keyringFile: keyring) else {
            logger.warning(
                "campaigns.unsubscribe_base_url is set but secrets.key_file is not: /u/ links are neither made nor served")
            return nil
        }
        return links
    }

    public func run() async throws {
        // Before anything connects: a rules file that does not parse is a start-up error.
        let bounceRules =
            try role.runsWorker || role.runsBounceListener ? Self.bounceRules(configuration.bounces) : BounceRules.shipped
        let group = MultiThreadedEventLoopGroup.singleton
        let redis = try Self.makeRedisClient(configuration.redis, group: group, logger: logger)
        let queueConfiguration = Self.queueConfiguration(configuration)
        let queue = MessageQueue(redis: redis, configuration: queueConfiguration, logger: logger)

        // Report an unreachable Redis at start instead of at the first message; keep going:
        // the client reconnects, and until then clients get 451 (never a silent 250).
        do {
            _ = try await redis.send(RedisCommand("PING", []))
            logger.notice("connected to Redis at \(Self.redisDescription(configuration.redis))")
        } catch {
            logger.error(
                "Redis at \(Self.redisDescription(configuration.redis)) is not reachable (\(error)); will keep retrying — until it is, messages are refused with 451 and nothing is delivered"
            )
        }

        var services: [any Service] = []
        // The log store the archiver writes and the API and console read. PostgreSQL's pool is
        // a service of its own, first so that it stops last.
        let logs =
            role.runsArchiver(configuration.logs) || role.runsAPI || role.runsConsole
            ? try LogStores.open(configuration.logs, sqliteDefault: role.runsArchiver(configuration.logs), logger: logger) : nil
        if let pool = logs as? PostgresLogStore { services.append(pool) }
        // One certificate for the SMTP listeners, the API and the console, reloaded once.
        var serverTLS: ServerTLS? = nil
        if role.runsIngest || role.runsAPI || (role.runsConsole && configuration.console.isConfigured) {
            serverTLS = try configuration.ingest.tls.map(ServerTLS.init(settings:))
            if let tls = serverTLS {
                services.append(ServerTLS.Reloader(tls: tls, interval: tls.settings.reloadInterval.duration, logger: logger))
            }
        }
        // One directory of accounts per process, shared by every intake in it (listeners, API,
        // campaign runner): one reload loop, and no role of the process sees an account the
        // others do not know yet.
        var shared: (keyring: KeyringFile?, store: AccountStore, accounts: AccountDirectory)? = nil
        if role.runsIngest || role.runsAPI || role.runsCampaigns {
            let keyring = try Self.keyring(configuration.secrets, logger: logger)
            let accountStore = AccountStore(redis: redis, configuration: queueConfiguration)
            let accounts = AccountDirectory(store: accountStore, staticUsers: configuration.ingest.users, keyring: keyring, logger: logger)
            // Load the accounts before the listeners open, if Redis answers; else the
            // refresher keeps trying and sessions are told to come back meanwhile.
            _ = try? await accounts.refresh()
            services.append(AccountDirectory.Refresher(directory: accounts, interval: configuration.accounts.refreshInterval.duration))
            shared = (keyring, accountStore, accounts)
        }
        if role.runsIngest || role.runsAPI, let (keyring, accountStore, accounts) = shared {
            let tls = serverTLS
            let unsubscribe = Self.unsubscribeLinks(configuration, keyring: keyring, logger: logger)
            let limiter = ConnectionLimiter(
                maximumPerClient: configuration.ingest.maxConnectionsPerIP,
                exemptNetworks: configuration.ingest.relayNetworks)
            for listener in configuration.ingest.listeners where role.runsIngest {
                services.append(
                    SMTPListener(
                        listener: listener, settings: configuration.ingest, hostname: configuration.hostname,
                        queue: queue, tls: tls, accounts: accounts, accountStore: accountStore,
                        accountSettings: configuration.accounts, threadPool: NIOThreadPool.singleton,
                        group: group, connectionLimiter: limiter, unsubscribe: unsubscribe, logger: logger))
            }
            let apiConfigured = !configuration.api.listen.isEmpty || !configuration.api.plainListen.isEmpty
            if role == .api && !apiConfigured {
                throw ConfigurationError(key: "api", problem: "--role api needs api.listen (HTTPS) or api.plain_listen")
            }
            if role.runsAPI && apiConfigured {
                let intake = MessageIntake(
                    queue: queue, accounts: accounts, hostname: configuration.hostname, settings: configuration.ingest,
                    unsubscribe: unsubscribe)
                services.append(
                    APIServer(
                        settings: configuration.api, hostname: configuration.hostname, intake: intake, queue: queue, accounts: accounts,
                        store: accountStore,
                        webhooks: WebhookRegistry(
                            store: WebhookStore(redis: redis, configuration: queueConfiguration),
                            forbiddenNetworks: configuration.delivery.forbiddenNetworks),
                        suppression: configuration.suppression,
                        logs: logs, unsubscribeReady: Self.unsubscribeReady(configuration),
                        tls: tls, ready: { (try? await redis.send(RedisCommand("PING", []))) != nil },
                        unsubscribe: unsubscribe.map {
                            UnsubscribeEndpoint(
                                links: $0, store: queue.suppressions, suppression: configuration.suppression,
                                node: configuration.effectiveNodeName, logger: logger)
                        }, logger: logger))
            }
        }
        if role.runsCampaigns, let (keyring, _, accounts) = shared {
            let intake = MessageIntake(
                queue: queue, accounts: accounts, hostname: configuration.hostname, settings: configuration.ingest)
            let dns = DNSResolver(configuration: try Self.dnsConfiguration(configuration.delivery), eventLoopGroup: group, logger: logger)
            let token = configuration.effectiveNodeName + "/" + String(getpid())
            services.append(
                CampaignRunner(
                    store: CampaignStore(redis: redis, configuration: queueConfiguration),
                    lists: ListStore(redis: redis, configuration: queueConfiguration), intake: intake, accounts: accounts,
                    settings: configuration.campaigns, delivery: configuration.delivery, dns: dns, hostname: configuration.hostname,
                    token: token, unsubscribe: Self.unsubscribeHeaders(configuration, keyring: keyring, logger: logger), logger: logger))
            services.append(CampaignCounter(redis: redis, queueConfiguration: queueConfiguration, token: token, logger: logger))
        }
        if role.runsWorker {
            let dns = DNSResolver(configuration: try Self.dnsConfiguration(configuration.delivery), eventLoopGroup: group, logger: logger)
            // A worker reads the key file only to sign VERP return paths (README, "Secrets"); it
            // needs none otherwise, so one it cannot read is a warning, not a refusal: mail of
            // accounts with a return-path domain then keeps its own envelope sender.
            var returnPaths: KeyringFile? = nil
            if let path = configuration.secrets.keyFile {
                do { returnPaths = try KeyringFile(path: path) } catch let error as SecretsError {
                    logger.warning(
                        "secrets.key_file: \(error.detail); VERP return paths cannot be signed by this worker (mail keeps its own envelope sender)"
                    )
                }
            }
            services.append(
                try DeliveryWorker(
                    settings: configuration.delivery, ingest: configuration.ingest, hostname: configuration.hostname,
                    nodeName: configuration.effectiveNodeName,
                    queue: queue, dns: dns, group: group, bounceRules: bounceRules, returnPaths: returnPaths,
                    suppression: configuration.suppression,
                    logger: logger))
        }
        if role.runsWorker {
            services.append(
                SuppressionSweeper(
                    store: queue.suppressions, interval: configuration.suppression.sweepInterval.duration, logger: logger))
        }
        if role.runsBounceListener {
            if let listen = configuration.bounces.listen {
                let keyring = try Self.keyring(configuration.secrets, logger: logger)
                if keyring == nil {
                    logger.warning(
                        "secrets.key_file is not set: the bounce listener cannot verify return-path tokens and refuses them all; only postmaster, abuse and feedback-loop addresses are accepted"
                    )
                }
                services.append(
                    try BounceListener.make(
                        listen: listen, settings: configuration.bounces, suppression: configuration.suppression,
                        hostname: configuration.hostname, node: configuration.effectiveNodeName, redis: redis,
                        queueConfiguration: queueConfiguration, rules: bounceRules, keyringFile: keyring,
                        campaigns: configuration.campaigns, group: group, logger: logger))
            } else if role == .bounce {
                throw ConfigurationError(key: "bounces.listen", problem: "--role bounce needs bounces.listen (e.g. 0.0.0.0:25)")
            }
        }
        if role.runsWorker && !role.runsWebhooks {
            services.append(
                EventsTrimmer(
                    events: EventGroups(redis: redis, configuration: queueConfiguration), settings: configuration.events, logger: logger))
        }
        if role.runsWebhooks {
            services.append(
                try WebhookDispatcher(
                    settings: configuration.webhooks, eventSettings: configuration.events,
                    forbiddenNetworks: configuration.delivery.forbiddenNetworks,
                    store: WebhookStore(redis: redis, configuration: queueConfiguration),
                    events: EventGroups(redis: redis, configuration: queueConfiguration),
                    consumer: configuration.effectiveNodeName + "/" + String(getpid()), group: group, logger: logger))
        }
        if role.runsArchiver(configuration.logs), let logs {
            let name = configuration.effectiveNodeName + "/" + String(getpid())
            services.append(
                Archiver(
                    store: logs, redis: redis, queueConfiguration: queueConfiguration, settings: configuration.logs,
                    sharing: logs is PostgresLogStore ? .shared(consumer: name) : .exclusive(token: name), logger: logger))
        }
        if role.runsConsole {
            if configuration.console.isConfigured {
                let tls = serverTLS
                let users = ConsoleUserStore(redis: redis, configuration: queueConfiguration)
                let login = ConsoleLogin(
                    users: users, lockout: AccountStore(redis: redis, configuration: queueConfiguration), policy: configuration.accounts,
                    threadPool: NIOThreadPool.singleton)
                // The key file only for one-click unsubscribe (the console holds no other secret).
                let unsubscribe =
                    configuration.campaigns.unsubscribeBaseURL == nil
                    ? nil
                    : Self.unsubscribeLinks(configuration, keyring: try Self.keyring(configuration.secrets, logger: logger), logger: logger)
                services.append(
                    ConsoleServer(
                        settings: configuration.console, users: users,
                        sessions: ConsoleSessionStore(redis: redis, configuration: queueConfiguration), login: login,
                        logs: logs ?? StreamLogReader(events: queue.eventLog),
                        stores: Self.consoleStores(configuration, redis: redis, logger: logger), tls: tls,
                        unsubscribe: unsubscribe.map {
                            UnsubscribeEndpoint(
                                links: $0, store: queue.suppressions, suppression: configuration.suppression,
                                node: configuration.effectiveNodeName, logger: logger)
                        }, logger: logger))
            } else if role == .console {
                throw ConfigurationError(key: "console", problem: "--role console needs console.listen (HTTPS) or console.plain_listen")
            }
        }
        if let address = configuration.metrics.address, let registry = metricsRegistry {
            services.append(MetricsServer(address: address, registry: registry, logger: logger, eventLoopGroup: group))
        }
        // SIGHUP (systemctl reload) must never stop a process: without TLS to reload, trap it.
        if !services.contains(where: { $0 is ServerTLS.Reloader }) {
            services.append(HangupListener(logger: logger))
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

    /// What the console's operator and account pages change: the CLI's and the API's stores.
    static func consoleStores(_ configuration: HikyakuConfiguration, redis: RedisClient, logger: Logger) -> ConsoleStores {
        let queueConfiguration = queueConfiguration(configuration)
        return ConsoleStores(
            queueAdmin: QueueAdmin(redis: redis, configuration: queueConfiguration, logger: logger),
            accounts: AccountStore(redis: redis, configuration: queueConfiguration),
            suppressions: SuppressionStore(redis: redis, configuration: queueConfiguration),
            suppressionSettings: configuration.suppression,
            webhooks: WebhookRegistry(
                store: WebhookStore(redis: redis, configuration: queueConfiguration),
                forbiddenNetworks: configuration.delivery.forbiddenNetworks),
            campaigns: CampaignDesk(
                campaigns: CampaignStore(redis: redis, configuration: queueConfiguration),
                lists: ListStore(redis: redis, configuration: queueConfiguration),
                accounts: AccountStore(redis: redis, configuration: queueConfiguration),
                unsubscribeReady: unsubscribeReady(configuration)),
            egress: configuration.delivery.egress)
    }
}
