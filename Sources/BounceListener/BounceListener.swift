import BounceClassification
import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import SMTPServer
import Secrets
import ServiceLifecycle
import Synchronization
import Unsubscribe

/// The bounce listener (`serve --role bounce`): the inbound MX of the return-path domains.
/// It accepts mail only for valid VERP return paths, `postmaster@`, `abuse@` and the
/// configured feedback-loop addresses, reads what each message reports (an RFC 3464 DSN,
/// a non-standard bounce, an RFC 5965 ARF complaint; auto-replies are ignored) and records
/// it: asynchronous `bounced` and `complaint` events, suppressions, the complaint rate.
/// Stateless around Redis like every role: run one behind each MX name.
public struct BounceListener: Service, CustomStringConvertible {
    public struct Configuration: Sendable {
        /// Where to listen, e.g. `0.0.0.0` and 25.
        public var host: String
        public var port: Int
        /// Our name, in the greeting.
        public var hostname: String
        /// `bounces.fbl_addresses`, lower-cased.
        public var feedbackLoopAddresses: Set<String>
        /// Largest message accepted (`552 5.3.4` above; default 10 MiB, as the original
        /// message is often enclosed whole).
        public var maxMessageSize: Int
        /// How much of a message is held and parsed (default 1 MiB): the report parts
        /// come before the enclosed original, which is not needed past its headers.
        public var keptBytes: Int
        /// Sessions at once; connections beyond it are closed at once.
        public var maxConnections: Int
        /// Idle and whole-session timeouts.
        public var idleTimeout: TimeAmount
        public var sessionTimeout: TimeAmount

        public init(
            host: String, port: Int, hostname: String, feedbackLoopAddresses: Set<String> = [],
            maxMessageSize: Int = 10 << 20, keptBytes: Int = 1 << 20, maxConnections: Int = 200,
            idleTimeout: TimeAmount = .minutes(5), sessionTimeout: TimeAmount = .minutes(10)
        ) {
            self.host = host
            self.port = port
            self.hostname = hostname
            self.feedbackLoopAddresses = Set(feedbackLoopAddresses.map { $0.lowercased() })
            self.maxMessageSize = maxMessageSize
            self.keptBytes = keptBytes
            self.maxConnections = maxConnections
            self.idleTimeout = idleTimeout
            self.sessionTimeout = sessionTimeout
        }
    }

    /// What every session shares.
    final class Environment: Sendable {
        let configuration: Configuration
        let handler: InboundReportHandler
        let keyringFile: KeyringFile?
        /// Set when `campaigns.unsubscribe_mailto_domain` is: `u-<token>@` addresses are accepted.
        let unsubscribe: UnsubscribeLinks?
        let logger: Logger
        let open = Atomic<Int>(0)

        init(
            configuration: Configuration, handler: InboundReportHandler, keyringFile: KeyringFile?, unsubscribe: UnsubscribeLinks?,
            logger: Logger
        ) {
            self.configuration = configuration
            self.handler = handler
            self.keyringFile = keyringFile
            self.unsubscribe = unsubscribe
            self.logger = logger
        }

        /// The current keys (the key file is re-read on SIGHUP).
        func keyring() -> SecretKeyring? { keyringFile?.current }
    }

    private let environment: Environment
    private let group: EventLoopGroup

    public var description: String { "BounceListener(\(environment.configuration.host):\(environment.configuration.port))" }

    init(
        configuration: Configuration, handler: InboundReportHandler, keyringFile: KeyringFile?, unsubscribe: UnsubscribeLinks? = nil,
        group: EventLoopGroup, logger: Logger
    ) {
        self.environment = Environment(
            configuration: configuration, handler: handler, keyringFile: keyringFile, unsubscribe: unsubscribe, logger: logger)
        self.group = group
    }

    public func run() async throws {
        let environment = self.environment
        let configuration = environment.configuration
        let server = SMTPServerHandler.Configuration(
            hostname: configuration.hostname, sessionTimeout: configuration.sessionTimeout, commandTimeout: .minutes(5))
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if environment.open.wrappingAdd(1, ordering: .relaxed).newValue > configuration.maxConnections {
                        environment.open.wrappingSubtract(1, ordering: .relaxed)
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in environment.open.wrappingSubtract(1, ordering: .relaxed) }
                    try sync.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
                    let session = BounceSession(environment: environment, clientAddress: channel.remoteAddress)
                    try sync.addHandler(SMTPServerHandler(configuration: server, session: session))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        environment.logger.notice(
            "bounce listener on \(configuration.host):\(channel.localAddress?.port ?? configuration.port) (return paths, postmaster, abuse\(configuration.feedbackLoopAddresses.isEmpty ? "" : ", \(configuration.feedbackLoopAddresses.count) feedback-loop address(es)"))"
        )
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

extension BounceListener {
    /// The listener of `bounces.listen` with everything it records through.
    public static func make(
        listen: String, settings: BounceSettings, suppression: SuppressionSettings, hostname: String, node: String,
        redis: RedisClient, queueConfiguration: QueueConfiguration, rules: BounceRules, keyringFile: KeyringFile?,
        campaigns: CampaignSettings = .init(), group: EventLoopGroup, logger: Logger
    ) throws -> BounceListener {
        guard let (host, port) = HostPort.parse(listen) else {
            throw ConfigurationError(key: "bounces.listen", problem: "'\(listen)' is not host:port")
        }
        let handler = InboundReportHandler(
            store: InboundReportStore(redis: redis, configuration: queueConfiguration),
            suppressions: SuppressionStore(redis: redis, configuration: queueConfiguration), suppressionSettings: suppression,
            classifier: BounceClassifier(rules: rules), seenFor: .milliseconds(settings.window.milliseconds), node: node,
            logger: logger)
        let configuration = Configuration(
            host: host, port: port, hostname: hostname, feedbackLoopAddresses: Set(settings.feedbackLoopAddresses),
            maxMessageSize: settings.maxMessageSize.bytes)
        // The mailto form of List-Unsubscribe needs its domain (whose MX is this listener).
        let unsubscribe = campaigns.unsubscribeMailtoDomain == nil ? nil : UnsubscribeLinks(settings: campaigns, keyringFile: keyringFile)
        return BounceListener(
            configuration: configuration, handler: handler, keyringFile: keyringFile, unsubscribe: unsubscribe, group: group, logger: logger
        )
    }
}
