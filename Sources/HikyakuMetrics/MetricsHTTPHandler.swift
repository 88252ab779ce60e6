import Logging
import NIOCore
import NIOHTTP1

/// Answers the HTTP/1.1 requests of one connection with ``MetricsEndpoint``.
///
/// Sits behind `configureHTTPServerPipeline`, whose pipelining handler hands it one request
/// at a time. Keep-alive follows the request (RFC 9112 §9.3): the connection stays open
/// unless the client sent `Connection: close` (or spoke HTTP/1.0 without keep-alive).
/// A connection idle for the configured time is closed.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoint: MetricsEndpoint
    private let logger: Logger
    private var request: HTTPRequestHead?

    init(endpoint: MetricsEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // No endpoint takes a body; the bytes are discarded.
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            logger.trace("Closing idle metrics connection")
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let response = endpoint.respond(method: head.method, uri: head.uri)
        logger.trace(
            "Metrics request",
            metadata: [
                "method": "\(head.method.rawValue)", "uri": "\(head.uri)", "status": "\(response.status.code)",
            ])
        let keepAlive = head.isKeepAlive
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if head.version == .http1_0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD, !response.body.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
