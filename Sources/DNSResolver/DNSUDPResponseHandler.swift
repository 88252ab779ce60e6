import NIOCore

/// Waits on a query's own UDP socket for the matching response (RFC 1035 §4.2.1) and
/// completes `promise` with it. Datagrams from other addresses, or with another id or
/// question, are dropped.
final class DNSUDPResponseHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let query: DNSMessage
    private let server: SocketAddress
    private let promise: EventLoopPromise<DNSMessage>

    init(query: DNSMessage, server: SocketAddress, promise: EventLoopPromise<DNSMessage>) {
        self.query = query
        self.server = server
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        guard envelope.remoteAddress == self.server else { return }
        switch DNSResponseMatcher.match(envelope.data, to: self.query) {
        case .ignore:
            return
        case .response(let message):
            self.promise.succeed(message)
        case .malformed(let error):
            self.promise.fail(error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // An unconnected UDP socket reports no ICMP errors; anything else ends the attempt.
        self.promise.fail(DNSError(.serverFailure, "UDP to \(self.server): \(error)"))
    }
}
