import NIOCore
import SMTPProtocol

/// Answers a connection that is not served with one reply in place of the greeting
/// (RFC 5321 §3.1: `421` closes the channel), then closes it without reading anything.
///
/// ```
/// S: 421 4.7.0 relay.example.com Too many connections from your address
/// ```
final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: SMTPReply?

    /// - Parameter reply: the reply, or `nil` to close without one (implicit-TLS ports).
    init(reply: SMTPReply?) {
        self.reply = reply
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let reply else {
            context.close(promise: nil)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 96)
        reply.encode(into: &buffer)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the client sends is not read.
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

extension SMTPReply {
    /// `421 4.7.0 <hostname> Too many connections from your address`.
    static func tooManyConnections(hostname: String) -> SMTPReply {
        SMTPReply(code: 421, enhancedStatus: EnhancedStatusCode(4, 7, 0), lines: ["\(hostname) Too many connections from your address"])
    }
}
