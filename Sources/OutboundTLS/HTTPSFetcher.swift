import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTPS GET over NIO, for MTA-STS policies (RFC 8461 §3.3): the certificate must chain
/// to the trusted CAs and name the host; only a `200` is accepted (redirects are not
/// followed); the body is bounded; connect, handshake and response share one deadline.
///
/// ```
/// C: GET /.well-known/mta-sts.txt HTTP/1.1
/// C: Host: mta-sts.example.com
/// C: Connection: close
/// S: HTTP/1.1 200 OK
/// S: Content-Type: text/plain
/// S: (the policy)
/// ```
public struct HTTPSFetcher: Sendable {
    public let group: EventLoopGroup
    /// A verifying client context (full verification: chain and host name).
    public let tls: NIOSSLContext
    public let port: Int
    public let timeout: TimeAmount
    public let maximumBodySize: Int

    public init(
        group: EventLoopGroup, tls: NIOSSLContext, port: Int, timeout: TimeAmount,
        maximumBodySize: Int = MTASTSPolicy.maximumBodySize
    ) {
        self.group = group
        self.tls = tls
        self.port = port
        self.timeout = timeout
        self.maximumBodySize = maximumBodySize
    }

    /// GETs `path` from `host` at `address` (already resolved; its port is replaced).
    public func get(host: String, path: String, address: SocketAddress) async throws -> ByteBuffer {
        guard let ip = address.ipAddress else { throw HTTPSFetchError("no IP address for \(host)") }
        let target = try SocketAddress(ipAddress: ip, port: port)
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: ByteBuffer.self)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTPSFetchError("no complete response within \(timeout.nanoseconds / 1_000_000)ms"))
        }
        defer { deadline.cancel() }
        let tls = self.tls
        let limit = maximumBodySize
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: host))
                        try sync.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
                        try sync.addHandler(HTTPSFetchHandler(host: host, path: path, limit: limit, promise: promise))
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

public struct HTTPSFetchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Sends the request once the channel is active and gathers a bounded `200` body.
final class HTTPSFetchHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let path: String
    private let limit: Int
    private let promise: EventLoopPromise<ByteBuffer>
    private var body = ByteBuffer()
    private var status: HTTPResponseStatus?

    init(host: String, path: String, limit: Int, promise: EventLoopPromise<ByteBuffer>) {
        self.host = host
        self.path = path
        self.limit = limit
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "User-Agent", value: "Hikyaku MTA-STS")
        head.headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
            // RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed", and only 200 is a policy.
            guard head.status == .ok else {
                return fail(context, HTTPSFetchError("HTTP status \(head.status.code), expected 200"))
            }
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= limit else {
                return fail(context, HTTPSFetchError("policy larger than \(limit) bytes"))
            }
            body.writeBuffer(&part)
        case .end:
            promise.succeed(body)
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
