import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPServer
import Synchronization

/// The receiving sites of one scenario, listening: each site on each of its addresses at
/// the scenario's port. ``start()`` binds, ``stop()`` closes the listeners and every
/// connection.
final class Simulator: Sendable {
    let scenario: Scenario
    let sites: [SimulatedSite]
    private let recorder: Recorder?
    private let tls: NIOSSLContext?
    private let group: any EventLoopGroup
    private let logger: Logger
    private let queueIDs = QueueIDGenerator()
    private let connections = ConnectionRegistry()
    private let listeners = Mutex<[any Channel]>([])

    init(scenario: Scenario, tls: NIOSSLContext?, recorder: Recorder?, group: any EventLoopGroup, logger: Logger) {
        self.scenario = scenario
        self.sites = scenario.sites.map { SimulatedSite(definition: $0, tlsAvailable: tls != nil) }
        self.tls = tls
        self.recorder = recorder
        self.group = group
        self.logger = logger
    }

    /// Listens on every site address; returns the port (chosen once for all addresses when
    /// the scenario's `listen_port` is 0).
    @discardableResult
    func start() async throws -> Int {
        if self.scenario.listenPort != 0 {
            try await self.bindAll(port: self.scenario.listenPort)
            return self.scenario.listenPort
        }
        var lastError: SimulatorError?
        for _ in 0..<20 {
            let first = self.sites[0]
            let channel = try await self.bind(site: first, address: first.definition.addresses[0], port: 0)
            let port = channel.localAddress?.port ?? 0
            do {
                try await self.bindAll(port: port, skippingFirst: true)
                return port
            } catch let error as SimulatorError where error.isListenFailure {
                // The port is taken on another address: try another one.
                lastError = error
                await self.closeListeners()
            }
        }
        throw lastError!
    }

    /// Stops listening, closes every connection and waits until they are closed.
    func stop() async {
        await self.closeListeners()
        await self.connections.closeAll()
    }

    /// Open client connections now.
    var connectionCount: Int {
        self.connections.count
    }

    /// `site=gmail-like accepted=… | site=plain accepted=…`.
    var statsLine: String {
        self.sites.map { "site=\($0.name) \($0.snapshot.summary)" }.joined(separator: " | ")
    }

    private func bindAll(port: Int, skippingFirst: Bool = false) async throws {
        var first = skippingFirst
        for site in self.sites {
            for address in site.definition.addresses {
                if first {
                    first = false
                    continue
                }
                try await self.bind(site: site, address: address, port: port)
            }
        }
    }

    @discardableResult
    private func bind(site: SimulatedSite, address: String, port: Int) async throws -> any Channel {
        let environment = SessionEnvironment(
            site: site, serverIP: address, recorder: self.recorder, tls: site.serverConfiguration.startTLSAvailable ? self.tls : nil,
            queueIDs: self.queueIDs, logger: self.logger)
        let connections = self.connections
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: self.group)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        connections.register(channel)
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(IdleStateHandler(readTimeout: .seconds(SimDefaults.idleTimeoutSeconds)))
                        let session = SimSession(environment: environment, clientAddress: channel.remoteAddress)
                        try sync.addHandler(SMTPServerHandler(configuration: .init(hostname: site.hostname), session: session))
                    }
                }
                .bind(host: address, port: port)
                .get()
        } catch {
            throw SimulatorError.listen(address, port: port, "\(error)")
        }
        self.listeners.withLock { $0.append(channel) }
        self.logger.debug("site \(site.name) listening on \(address):\(channel.localAddress?.port ?? port)")
        return channel
    }

    private func closeListeners() async {
        let channels = self.listeners.withLock { listeners in
            defer { listeners.removeAll() }
            return listeners
        }
        for channel in channels {
            try? await channel.close()
        }
    }
}
