import NIOCore
import NIOPosix

/// Sends one query to one server and waits for the matching response: over UDP from a
/// fresh socket on a random port (RFC 5452 §9.2), or over TCP (RFC 7766) when a UDP reply
/// came back truncated.
///
/// Each exchange has its own deadline; when it passes, or the calling task is cancelled,
/// or the resolver shuts down, the exchange fails and its socket is closed.
struct DNSTransport: Sendable {
    let group: any EventLoopGroup
    let state: DNSResolverState

    func udp(_ query: DNSMessage, to server: SocketAddress, timeout: Duration) async throws -> DNSMessage {
        try await self.exchange(query, server: server, timeout: timeout) { eventLoop, promise in
            let anyAddress = server.protocol == .inet6 ? "::" : "0.0.0.0"
            DatagramBootstrap(group: eventLoop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_535))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            DNSUDPResponseHandler(query: query, server: server, promise: promise)
                        )
                    }
                }
                .bind(host: anyAddress, port: 0)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                        let datagram = AddressedEnvelope(remoteAddress: server, data: query.encoded())
                        channel.writeAndFlush(datagram).whenFailure { error in
                            promise.fail(DNSError(.serverFailure, "cannot send to \(server): \(error)"))
                        }
                    case .failure(let error):
                        promise.fail(DNSError(.serverFailure, "cannot open a UDP socket: \(error)"))
                    }
                }
        }
    }

    func tcp(_ query: DNSMessage, to server: SocketAddress, timeout: Duration) async throws -> DNSMessage {
        try await self.exchange(query, server: server, timeout: timeout) { eventLoop, promise in
            ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            DNSTCPResponseHandler(query: query, server: server, promise: promise)
                        )
                    }
                }
                .connect(to: server)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                    case .failure(ChannelError.connectTimeout):
                        promise.fail(DNSError(.timeout, "TCP connect to \(server) timed out"))
                    case .failure(let error):
                        promise.fail(DNSError(.serverFailure, "TCP connect to \(server) failed: \(error)"))
                    }
                }
        }
    }

    private func exchange(
        _ query: DNSMessage,
        server: SocketAddress,
        timeout: Duration,
        start: (any EventLoop, EventLoopPromise<DNSMessage>) -> Void
    ) async throws -> DNSMessage {
        let eventLoop = self.group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let token: UInt64
        do {
            token = try await self.state.register(promise)
        } catch {
            promise.fail(error)
            throw error
        }
        let question = query.questions.first.map(String.init(describing:)) ?? "?"
        let deadline = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(DNSError(.timeout, "no answer from \(server) within \(timeout) for \(question)"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        start(eventLoop, promise)
        let result: Result<DNSMessage, Error>
        do {
            let message = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
            }
            result = .success(message)
        } catch {
            result = .failure(error)
        }
        await self.state.unregister(token)
        return try result.get()
    }
}
