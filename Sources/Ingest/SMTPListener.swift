import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Queue
import RelayCore
import SMTPServer
import ServiceLifecycle
import Unsubscribe

/// One SMTP listening socket (a `relay` or `submission` listener from the configuration),
/// run as a `Service`: it accepts sessions until graceful shutdown (SIGTERM), then stops
/// accepting and lets the open sessions finish (RFC 5321 §3.8): a session between
/// commands is answered `421 4.3.2` and closed at once; one receiving a message, or waiting
/// for Redis to store it, first gets the real reply to its final dot, then the `421`.
/// Sessions still open after ``drainTimeout`` are closed. Every listener of a process
/// shares one ``ConnectionLimiter``.
public struct SMTPListener: Service, CustomStringConvertible {
    /// How long a graceful shutdown waits for sessions in the middle of a message (within
    /// the 30 s the whole process gets).
    public static let drainTimeout = Duration.seconds(25)

    private let context: IngestContext
    private let group: EventLoopGroup
    private let connectionLimiter: ConnectionLimiter

    /// How ServiceLifecycle names it in logs (never the settings: they hold password hashes).
    public var description: String { "SMTPListener(\(context.listener.name) on \(context.listener.address))" }

    public init(
        listener: ListenerSettings, settings: IngestSettings, hostname: String, queue: MessageQueue,
        tls: ServerTLS?, accounts: AccountDirectory, accountStore: AccountStore, accountSettings: AccountSettings,
        threadPool: NIOThreadPool, group: EventLoopGroup, connectionLimiter: ConnectionLimiter, unsubscribe: UnsubscribeLinks? = nil,
        logger: Logger
    ) {
        self.context = IngestContext(
            listener: listener, settings: settings, hostname: hostname, queue: queue,
            tls: tls, accounts: accounts, accountStore: accountStore, accountSettings: accountSettings,
            threadPool: threadPool, unsubscribe: unsubscribe, logger: logger)
        self.group = group
        self.connectionLimiter = connectionLimiter
    }

    public func run() async throws {
        let listener = context.listener
        guard let (host, port) = listener.hostAndPort else {
            throw ConfigurationError(key: "ingest.listeners", problem: "'\(listener.address)' is not host:port")
        }
        let context = self.context
        let implicitTLS = listener.effectiveTLS(tlsConfigured: context.tls != nil) == .implicit
        let idle = context.settings.idleTimeout
        let server = SMTPServerHandler.Configuration(
            hostname: context.hostname, sessionTimeout: .milliseconds(context.settings.sessionTimeout.milliseconds),
            commandTimeout: .milliseconds(context.settings.commandTimeout.milliseconds), minimumDataRate: context.settings.minDataRate.bytes
        )
        let limiter = self.connectionLimiter
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 512)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        switch limiter.admit(channel.remoteAddress) {
                        case .refused:
                            IngestMetrics.refused(listener: listener.name, reason: .tooManyConnections)
                            // No TLS handshake for a flood: on an implicit-TLS port the
                            // connection is just closed.
                            try sync.addHandler(
                                RefuseConnectionHandler(
                                    reply: implicitTLS ? nil : .tooManyConnections(hostname: context.hostname)))
                            return
                        case .admitted(let key):
                            channel.closeFuture.whenComplete { _ in limiter.release(key) }
                        case .exempt:
                            break
                        }
                        if implicitTLS, let tls = context.tls {
                            try sync.addHandler(NIOSSLServerHandler(context: tls.context))
                        }
                        try sync.addHandler(IdleStateHandler(readTimeout: .milliseconds(idle.milliseconds)))
                        let session = SMTPIngestSession(context: context, clientAddress: channel.remoteAddress, isImplicitTLS: implicitTLS)
                        try sync.addHandler(SMTPServerHandler(configuration: server, session: session))
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            throw IngestError.cannotListen(listener: listener.name, address: listener.address, reason: "\(error)")
        }
        context.logger.notice(
            "SMTP listener '\(listener.name)' (\(listener.mode.rawValue), TLS: \(listener.effectiveTLS(tlsConfigured: context.tls != nil).rawValue)) listening on \(host):\(channel.localAddress?.port ?? port)"
        )
        let sessions = context.sessions
        // Cancelled too (another service of the process failed to start, e.g. a port in
        // use): the process must end, not wait for a channel nobody closes.
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
            sessions.shutDown()
        }
        if sessions.isShuttingDown, sessions.count > 0 {
            context.logger.notice("SMTP listener '\(listener.name)' closed; waiting for \(sessions.count) session(s) to finish")
            let closed = await sessions.drain(timeout: Self.drainTimeout)
            if closed > 0 {
                context.logger.warning(
                    "SMTP listener '\(listener.name)': closed \(closed) session(s) still open after \(Self.drainTimeout)")
            }
        }
    }
}

/// Errors of the ingest role that stop it from starting.
public struct IngestError: Error, CustomStringConvertible {
    public let description: String

    static func cannotListen(listener: String, address: String, reason: String) -> IngestError {
        IngestError(description: "listener '\(listener)' cannot listen on \(address): \(reason)")
    }

    static func tls(_ path: String, _ reason: String) -> IngestError {
        IngestError(description: "ingest.tls: cannot load '\(path)': \(reason)")
    }
}

/// Builds the server TLS context from PEM files (TLS 1.2 minimum, RFC 8996 / RFC 9325).
public enum TLSContextFactory {
    public static func serverContext(_ settings: TLSSettings) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(settings.certificate) } catch {
            throw IngestError.tls(settings.certificate, "\(error)")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: settings.privateKey, format: .pem) } catch {
            throw IngestError.tls(settings.privateKey, "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
