import NIOCore
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
        let exchange = HTTPExchange(
            method: .GET, host: host, path: path, headers: [("User-Agent", "Hikyaku MTA-STS")], tls: tls, timeout: timeout,
            maximumBodySize: maximumBodySize)
        let response = try await exchange.run(to: target, group: group)
        // RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed", and only 200 is a policy.
        guard response.status == 200 else { throw HTTPSFetchError("HTTP status \(response.status), expected 200") }
        return response.body
    }
}

public struct HTTPSFetchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
