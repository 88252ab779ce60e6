import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

/// An SMTP client connection to one MX address (RFC 5321 §3), with an async API: write
/// commands (pipelined when the server allows, RFC 2920) and await their replies in order.
/// Every wait is bounded by the command timeout; a timeout or I/O error closes the
/// connection and fails whatever was waiting.
public final class SMTPClientConnection: Sendable {
    public let channel: Channel
    private let handler: NIOLoopBound<SMTPReplyHandler>
    private let commandTimeout: TimeAmount
    public let remoteAddress: SocketAddress

    private init(channel: Channel, handler: NIOLoopBound<SMTPReplyHandler>, commandTimeout: TimeAmount, remoteAddress: SocketAddress) {
        self.channel = channel
        self.handler = handler
        self.commandTimeout = commandTimeout
        self.remoteAddress = remoteAddress
    }

    /// Connects, optionally binding the local side to `sourceAddress` (egress IP).
    public static func connect(to address: SocketAddress, from localAddress: SocketAddress?, group: EventLoopGroup,
                        connectTimeout: TimeAmount, commandTimeout: TimeAmount) async throws -> SMTPClientConnection {
        var bootstrap = ClientBootstrap(group: group)
        if let localAddress {
            bootstrap = bootstrap.bind(to: localAddress)
        }
        // The reply handler is in the pipeline before the socket connects, so a greeting that
        // arrives at once is never missed.
        let channel = try await bootstrap
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler())
                }
            }
            .connect(to: address)
            .get()
        let handler = try await channel.eventLoop.submit { () -> NIOLoopBound<SMTPReplyHandler> in
            let handler = try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self)
            return NIOLoopBound(handler, eventLoop: channel.eventLoop)
        }.get()
        return SMTPClientConnection(channel: channel, handler: handler, commandTimeout: commandTimeout, remoteAddress: address)
    }

    /// Waits for `count` replies without sending anything (the greeting).
    public func readReplies(_ count: Int = 1) async throws -> [SMTPReply] {
        try await roundTrip(nil, expecting: count)
    }

    /// Sends the commands in one write and returns their replies, in order.
    public func send(_ commands: [SMTPCommand]) async throws -> [SMTPReply] {
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { command.encode(into: &buffer) }
        return try await roundTrip(buffer, expecting: commands.count)
    }

    public func send(_ command: SMTPCommand) async throws -> SMTPReply {
        try await send([command])[0]
    }

    /// Sends message content (dot-stuffed, RFC 5321 §4.5.2) and the end-of-data mark, and
    /// returns the reply to the end of data.
    public func sendData(_ body: ByteBuffer) async throws -> SMTPReply {
        var stuffer = DotStuffer()
        var out = channel.allocator.buffer(capacity: body.readableBytes + body.readableBytes / 64 + 8)
        stuffer.stuff(body, into: &out)
        stuffer.finish(into: &out)
        return try await roundTrip(out, expecting: 1)[0]
    }

    /// Upgrades to TLS after a `220` to STARTTLS (RFC 3207). Opportunistic (RFC 7435): the
    /// certificate is not verified, as MX certificates rarely match and a failed check
    /// would only push the mail to plaintext.
    public func startTLS(serverHostname: String?, context: NIOSSLContext) async throws {
        try await channel.eventLoop.submit {
            let tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
            try self.channel.pipeline.syncOperations.addHandler(tls, position: .first)
        }.get()
    }

    public func close() async {
        try? await channel.close()
    }

    private func roundTrip(_ bytes: ByteBuffer?, expecting count: Int) async throws -> [SMTPReply] {
        let channel = self.channel
        let handler = self.handler
        let timeout = commandTimeout
        let futures = try await channel.eventLoop.submit { () -> EventLoopFuture<[SMTPReply]> in
            let futures = (0..<count).map { _ in handler.value.expectReply(on: channel.eventLoop) }
            if let bytes {
                channel.writeAndFlush(bytes, promise: nil)
            }
            let all = EventLoopFuture.whenAllSucceed(futures, on: channel.eventLoop)
            let timer = channel.eventLoop.scheduleTask(in: timeout) {
                handler.value.failAll(SMTPClientError.timeout)
                channel.close(promise: nil)
            }
            all.whenComplete { _ in timer.cancel() }
            return all
        }.get()
        return try await futures.get()
    }
}

/// Why talking to a remote server failed (as opposed to the server refusing something).
public struct SMTPClientError: Error, CustomStringConvertible {
    public let description: String
    static let timeout = SMTPClientError(description: "timed out waiting for the server's reply")
    static let closed = SMTPClientError(description: "connection closed by the server")
    static func protocolViolation(_ text: String) -> SMTPClientError { .init(description: "protocol error: \(text)") }
}

/// Parses replies from the server and hands each to the oldest waiting promise. A reply
/// nobody waits for yet (the greeting, or a `421` announcing a shutdown, RFC 5321 §3.8) is
/// kept for the next waiter.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Replies kept while nobody waits; more than this many means the peer is not speaking SMTP.
    static let maxUnclaimedReplies = 16

    private var parser = SMTPReplyParser()
    private var waiting = CircularBuffer<EventLoopPromise<SMTPReply>>()
    private var unclaimed = CircularBuffer<SMTPReply>()
    private var failure: Error?

    func expectReply(on eventLoop: EventLoop) -> EventLoopFuture<SMTPReply> {
        if let reply = unclaimed.popFirst() { return eventLoop.makeSucceededFuture(reply) }
        if let failure { return eventLoop.makeFailedFuture(failure) }
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        waiting.append(promise)
        return promise.futureResult
    }

    func failAll(_ error: Error) {
        if failure == nil { failure = error }
        while let promise = waiting.popFirst() { promise.fail(error) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        parser.append(bytes)
        do {
            while let reply = try parser.next() {
                if let promise = waiting.popFirst() {
                    promise.succeed(reply)
                } else if unclaimed.count < Self.maxUnclaimedReplies {
                    unclaimed.append(reply)
                } else {
                    throw SMTPClientError.protocolViolation("too many unsolicited replies")
                }
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(SMTPClientError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }
}
