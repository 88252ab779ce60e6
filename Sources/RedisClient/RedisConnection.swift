import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis. Requests are pipelined: any number may be in
/// flight at once, and replies are matched to them in order.
///
/// ```
/// let connection = try await RedisConnection.connect(to: endpoint, eventLoop: loop, logger: logger)
/// try await connection.send(RedisCommand("SET", "k", "v"))   // C: SET k v   S: +OK
/// try await connection.pipeline([RedisCommand("INCR", "n"), RedisCommand("GET", "n")])
/// await connection.close()
/// ```
///
/// Commands are encoded on the caller's thread; only the write and the reply
/// parsing (pure CPU work in hiredis) happen on the channel's event loop.
public final class RedisConnection: Sendable {
    /// The event loop this connection's channel runs on.
    public let eventLoop: EventLoop
    /// The server this connection talks to.
    public let endpoint: RedisEndpoint
    /// The timeout ``send(_:)`` and ``pipeline(_:)`` use; `nil` waits for as long as the connection lives.
    public let commandTimeout: Duration?

    private let channel: Channel
    private let handler: NIOLoopBoundBox<RedisChannelHandler>

    private init(
        channel: Channel,
        handler: NIOLoopBoundBox<RedisChannelHandler>,
        endpoint: RedisEndpoint,
        commandTimeout: Duration?
    ) {
        self.channel = channel
        self.handler = handler
        self.eventLoop = channel.eventLoop
        self.endpoint = endpoint
        self.commandTimeout = commandTimeout
    }

    /// Opens a connection and, when the endpoint says so, logs in and selects the database:
    ///
    /// ```
    /// C: AUTH [user] password        S: +OK
    /// C: SELECT 2                    S: +OK      (both in one write)
    /// ```
    ///
    /// With a `rediss://` endpoint the TLS handshake (``RedisTLS``) comes first, and must
    /// succeed before anything — the password included — is sent.
    ///
    /// - Parameters:
    ///   - tls: the TLS settings for a `rediss://` endpoint (required then; ignored otherwise).
    ///   - connectTimeout: how long the TCP connect (and the TLS handshake) may take.
    ///   - commandTimeout: the default timeout of every request on this connection
    ///     (AUTH/SELECT included); `nil` for none.
    /// - Throws: ``RedisError/Kind/connectionFailed`` (TCP failure, TLS handshake failure,
    ///   rejected AUTH or SELECT).
    public static func connect(
        to endpoint: RedisEndpoint,
        tls: RedisTLS? = nil,
        eventLoop: EventLoop,
        logger: Logger,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration? = .seconds(5)
    ) async throws -> RedisConnection {
        var logger = logger
        logger[metadataKey: "redis.endpoint"] = "\(endpoint.host):\(endpoint.port)"
        if endpoint.usesTLS && tls == nil {
            throw RedisError.connectionFailed("\(endpoint.host):\(endpoint.port): rediss:// needs TLS settings")
        }
        let tls = endpoint.usesTLS ? tls : nil
        let handler = NIOLoopBoundBox.makeBoxSendingValue(RedisChannelHandler(logger: logger), eventLoop: eventLoop)
        let handshake = tls.map { _ in eventLoop.makePromise(of: Void.self) }
        let host = endpoint.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let handshake {
                        try channel.pipeline.syncOperations.addHandler(tls.makeHandler(host: host))
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeWaiter(done: handshake))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler.value)
                }
            }

        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            handshake?.fail(error)
            throw RedisError.connectionFailed("\(endpoint.host):\(endpoint.port): \(error)")
        }
        if let handshake {
            // Bounded by the connect timeout too: a server that accepts and never answers
            // the ClientHello must not hold the attempt forever.
            let timer = eventLoop.scheduleTask(in: TimeAmount(connectTimeout)) {
                handshake.fail(TLSHandshakeWaiter.Failure(description: "no TLS handshake within \(connectTimeout)"))
            }
            do {
                try await handshake.futureResult.get()
                timer.cancel()
            } catch {
                timer.cancel()
                try? await channel.close()
                throw RedisError.connectionFailed(
                    "TLS handshake with \(endpoint.host):\(endpoint.port) failed: \(error)"
                        + " (is the server's certificate signed by the configured CA, and does it name"
                        + " \(tls?.serverName ?? endpoint.host)?)")
            }
        }
        let connection = RedisConnection(
            channel: channel,
            handler: handler,
            endpoint: endpoint,
            commandTimeout: commandTimeout
        )
        do {
            try await connection.handshake()
        } catch {
            await connection.close()
            throw error
        }
        logger.debug("Connected to Redis")
        return connection
    }

    /// Sends `AUTH` and `SELECT` as the endpoint requires, in one write.
    private func handshake() async throws {
        var commands: [RedisCommand] = []
        if let password = endpoint.password {
            if let username = endpoint.username {
                commands.append(RedisCommand("AUTH", .string(username), .string(password)))
            } else {
                commands.append(RedisCommand("AUTH", .string(password)))
            }
        }
        if endpoint.database != 0 {
            commands.append(RedisCommand("SELECT", .int(endpoint.database)))
        }
        guard !commands.isEmpty else { return }
        let replies: [RESPValue]
        do {
            replies = try await pipeline(commands)
        } catch {
            throw RedisError.connectionFailed("handshake with \(endpoint) failed: \(error)")
        }
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply {
                throw RedisError.connectionFailed("\(command.name) rejected by \(endpoint): \(message)")
            }
        }
    }

    /// Whether the connection is open. Once it is not, every request fails with ``RedisError/connectionClosed``.
    public var isActive: Bool {
        channel.isActive
    }

    /// Sends one command and waits for its reply, for at most ``commandTimeout`` (plus
    /// the blocking time of a blocking command, see ``send(_:timeout:)``).
    ///
    /// - Throws: ``RedisError/Kind/server`` for an error reply (`-ERR …`),
    ///   ``RedisError/timeout`` (the connection is then closed), ``RedisError/connectionClosed``.
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await send(command, timeout: commandTimeout)
    }

    /// Sends one command with its own timeout (`nil`: none).
    ///
    /// The timeout counts from the moment of sending and is extended by any blocking
    /// time the command asks for: `BLPOP q 10` may take `timeout` + 10 s, `XREAD BLOCK 2000`
    /// `timeout` + 2 s, and `BLPOP q 0` or `XREAD BLOCK 0` wait without a timeout.
    public func send(_ command: RedisCommand, timeout: Duration?) async throws -> RESPValue {
        var bytes = channel.allocator.buffer(capacity: 64)
        RESPCommandEncoder.encode(command, into: &bytes)
        let promise = eventLoop.makePromise(of: RESPValue.self)
        let deadline = Self.deadline(after: timeout.extended(by: command.serverBlock))
        submit(RedisRequest(bytes: bytes, response: .single(promise), deadline: deadline))
        let reply = try await promise.futureResult.get()
        if case .error(let message) = reply {
            throw RedisError.server(message)
        }
        return reply
    }

    /// Sends every command in one write and one flush, and returns their replies in order.
    ///
    /// Error replies come back as ``RESPValue/error(_:)`` values in their place and do
    /// not affect the other replies. The timeout covers the whole pipeline.
    ///
    /// - Throws: ``RedisError/timeout``, ``RedisError/connectionClosed``.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        try await pipeline(commands, timeout: commandTimeout)
    }

    /// ``pipeline(_:)`` with its own timeout (`nil`: none), extended by the blocking
    /// time of any blocking commands in it (see ``send(_:timeout:)``).
    public func pipeline(_ commands: [RedisCommand], timeout: Duration?) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var bytes = channel.allocator.buffer(capacity: commands.count * 64)
        RESPCommandEncoder.encode(commands, into: &bytes)
        var timeout = timeout
        for command in commands {
            timeout = timeout.extended(by: command.serverBlock)
        }
        let promise = eventLoop.makePromise(of: [RESPValue].self)
        submit(
            RedisRequest(
                bytes: bytes,
                response: .pipeline(promise, count: commands.count),
                deadline: Self.deadline(after: timeout)
            )
        )
        return try await promise.futureResult.get()
    }

    /// Closes the connection; requests in flight fail with ``RedisError/connectionClosed``.
    public func close() async {
        let handler = self.handler
        eventLoop.execute {
            handler.value.close()
        }
        try? await channel.closeFuture.get()
    }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> {
        channel.closeFuture
    }

    private func submit(_ request: RedisRequest) {
        let handler = self.handler
        if eventLoop.inEventLoop {
            handler.value.submit(request)
        } else {
            eventLoop.execute {
                handler.value.submit(request)
            }
        }
    }

    private static func deadline(after timeout: Duration?) -> NIODeadline? {
        timeout.map { NIODeadline.now() + TimeAmount($0) }
    }
}
