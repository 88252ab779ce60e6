import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client connection (RFC 9112) for the load generator: one persistent
/// (keep-alive, RFC 9112 §9.3) connection, one request in flight at a time, no pipelining.
/// Every request is bounded by the request timeout; a timeout, an I/O error or the server
/// closing the connection fails the request and closes the connection.
///
///     C: POST /v1/messages HTTP/1.1
///     C: Host: 127.0.0.1:8025
///     C: Authorization: Bearer hk_…
///     C: Content-Type: application/json
///     C: Content-Length: 1180
///     C:
///     C: {"from":"loadtest@hikyaku-load.test","to":"user7@bulk.sim",…}
///     S: HTTP/1.1 202 Accepted
///     S: Content-Type: application/json; charset=utf-8
///     S: Content-Length: 110
///     S:
///     S: {"id":"…","message_id":"<…>","recipients":[{"email":"user7@bulk.sim","status":"queued"}]}
final class HTTPClientConnection: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: ByteBuffer
        /// False when the server said `Connection: close` (or answered HTTP/1.0 without keep-alive).
        var keepAlive: Bool
    }

    private let channel: Channel
    private let collector: NIOLoopBound<HTTPResponseCollector>
    private let requestTimeout: TimeAmount

    private init(channel: Channel, collector: NIOLoopBound<HTTPResponseCollector>, requestTimeout: TimeAmount) {
        self.channel = channel
        self.collector = collector
        self.requestTimeout = requestTimeout
    }

    static func connect(
        to address: SocketAddress, group: EventLoopGroup, connectTimeout: TimeAmount, requestTimeout: TimeAmount
    ) async throws -> HTTPClientConnection {
        let channel =
            try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPResponseCollector())
                }
            }
            .connect(to: address)
            .get()
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: HTTPResponseCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return HTTPClientConnection(channel: channel, collector: collector, requestTimeout: requestTimeout)
    }

    /// Sends one request with `body` and waits for the whole response.
    func post(path: String, headers: HTTPHeaders, body: ByteBuffer) async throws -> Response {
        let channel = self.channel
        let collector = self.collector
        let timeout = self.requestTimeout
        return try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Response> in
            let promise = channel.eventLoop.makePromise(of: Response.self)
            guard collector.value.expect(promise) else {
                promise.fail(HTTPClientError.requestInFlight)
                return promise.futureResult
            }
            let timer = channel.eventLoop.scheduleTask(in: timeout) {
                promise.fail(HTTPClientError.timeout)
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
            head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { promise.fail($0) }
            return promise.futureResult
        }.get()
    }

    func close() async {
        try? await channel.close()
    }
}

enum HTTPClientError: Error, CustomStringConvertible {
    case timeout
    case connectionClosed
    case requestInFlight

    var description: String {
        switch self {
        case .timeout: "no complete response within the request timeout"
        case .connectionClosed: "the server closed the connection before the response was complete"
        case .requestInFlight: "a request is already in flight on this connection"
        }
    }
}

/// Collects one response (head, body parts, end) into a ``HTTPClientConnection/Response``.
/// Informational `1xx` heads are skipped (RFC 9110 §15.2).
final class HTTPResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var pending: EventLoopPromise<HTTPClientConnection.Response>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    /// Takes the promise of the next response; false when one is already awaited.
    func expect(_ promise: EventLoopPromise<HTTPClientConnection.Response>) -> Bool {
        guard pending == nil else { return false }
        pending = promise
        head = nil
        body.clear()
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            if received.status.code >= 100 && received.status.code < 200 { return }
            head = received
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head, let promise = pending else { return }
            pending = nil
            promise.succeed(.init(status: Int(head.status.code), body: body, keepAlive: head.isKeepAlive))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTPClientError.connectionClosed)
        context.fireChannelInactive()
    }

    private func fail(_ error: Error) {
        let promise = pending
        pending = nil
        promise?.fail(error)
    }
}
