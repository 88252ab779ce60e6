import NIOCore
import NIOTLS

/// Completes `done` when the TLS handshake has finished, or fails it with the reason it
/// did not (certificate not trusted, wrong name, server not speaking TLS), so a
/// connection attempt reports the TLS problem instead of a closed connection.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let done: EventLoopPromise<Void>
    private var completed = false

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !completed {
            completed = true
            done.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !completed {
            completed = true
            done.fail(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !completed {
            completed = true
            done.fail(Failure(description: "the server closed the connection during the TLS handshake"))
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !completed {
            completed = true
            done.fail(Failure(description: "the connection closed during the TLS handshake"))
        }
    }
}
