import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 request and its response over NIO, on a fresh connection to an address the
/// caller has already resolved and screened (`Connection: close`, no redirects followed, no
/// pooling). TLS when a context is given (the caller's: full verification for MTA-STS and
/// webhooks). Connect, handshake, request and response share one deadline; the response
/// body is read up to `maximumBodySize` — past it the exchange fails, or with
/// `truncatesBody` ends there with what was read (a webhook receiver's chatter is not
/// worth more).
///
/// ```
/// C: POST /hooks HTTP/1.1
/// C: Host: app.example.com
/// C: Content-Type: application/json
/// C: Content-Length: 182
/// C: Connection: close
/// C: (body)
/// S: HTTP/1.1 204 No Content
/// ```
public struct HTTPExchange: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: ByteBuffer
    }

    public var method: HTTPMethod
    /// The `Host` header (and the TLS server name).
    public var host: String
    public var path: String
    public var headers: [(String, String)]
    public var body: ByteBuffer?
    public var tls: NIOSSLContext?
    public var timeout: TimeAmount
    public var maximumBodySize: Int
    public var truncatesBody: Bool

    public init(
        method: HTTPMethod, host: String, path: String, headers: [(String, String)] = [], body: ByteBuffer? = nil,
        tls: NIOSSLContext?, timeout: TimeAmount, maximumBodySize: Int, truncatesBody: Bool = false
    ) {
        self.method = method
        self.host = host
        self.path = path
        self.headers = headers
        self.body = body
        self.tls = tls
        self.timeout = timeout
        self.maximumBodySize = maximumBodySize
        self.truncatesBody = truncatesBody
    }

    /// Runs the exchange with `target` (IP and port).
    public func run(to target: SocketAddress, group: EventLoopGroup) async throws -> Response {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Response.self)
        let timeout = self.timeout
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTPSFetchError("no complete response within \(timeout.nanoseconds / 1_000_000)ms"))
        }
        defer { deadline.cancel() }
        let exchange = self
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if let tls = exchange.tls {
                            try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: exchange.host))
                        }
                        try sync.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
                        try sync.addHandler(HTTPExchangeHandler(exchange: exchange, promise: promise))
                    }
                }
                .connect(to: target).get()
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        } catch {
            promise.fail(error)
        }
        return try await promise.futureResult.get()
    }
}

/// Sends the request once the channel is active and gathers the status and a bounded body.
final class HTTPExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let exchange: HTTPExchange
    private let promise: EventLoopPromise<HTTPExchange.Response>
    private var body = ByteBuffer()
    private var status: Int?

    init(exchange: HTTPExchange, promise: EventLoopPromise<HTTPExchange.Response>) {
        self.exchange = exchange
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: exchange.method, uri: exchange.path)
        head.headers.add(name: "Host", value: exchange.host)
        for (name, value) in exchange.headers { head.headers.add(name: name, value: value) }
        if let body = exchange.body { head.headers.add(name: "Content-Length", value: String(body.readableBytes)) }
        head.headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= exchange.maximumBodySize else {
                guard exchange.truncatesBody, let status else {
                    return fail(context, HTTPSFetchError("response body larger than \(exchange.maximumBodySize) bytes"))
                }
                if let rest = part.readSlice(length: exchange.maximumBodySize - body.readableBytes) {
                    body.writeImmutableBuffer(rest)
                }
                promise.succeed(.init(status: status, body: body))
                return context.close(promise: nil)
            }
            body.writeBuffer(&part)
        case .end:
            guard let status else { return fail(context, HTTPSFetchError("response without a status line")) }
            promise.succeed(.init(status: status, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(HTTPSFetchError("connection closed before the response was complete"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context, error)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
