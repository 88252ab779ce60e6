import NIOCore

/// Sends one length-prefixed query on a TCP connection (RFC 7766 §6.2.1) and completes
/// `promise` with the matching response.
///
/// ```
/// C: 00 1d <query of 29 octets>
/// S: 00 5a <response of 90 octets>
/// ```
final class DNSTCPResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let query: DNSMessage
    private let server: SocketAddress
    private let promise: EventLoopPromise<DNSMessage>

    init(query: DNSMessage, server: SocketAddress, promise: EventLoopPromise<DNSMessage>) {
        self.query = query
        self.server = server
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        let message = self.query.encoded()
        var frame = context.channel.allocator.buffer(capacity: message.readableBytes + 2)
        frame.writeInteger(UInt16(truncatingIfNeeded: message.readableBytes))
        frame.writeImmutableBuffer(message)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch DNSResponseMatcher.match(Self.unwrapInboundIn(data), to: self.query) {
        case .ignore:
            return
        case .response(let message):
            self.promise.succeed(message)
        case .malformed(let error):
            self.promise.fail(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(DNSError(.serverFailure, "\(self.server) closed the TCP connection without an answer"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? DNSError {
            self.promise.fail(error)
        } else {
            self.promise.fail(DNSError(.serverFailure, "TCP to \(self.server): \(error)"))
        }
        context.close(promise: nil)
    }
}
