import NIOCore
import NIOPosix
import NIOSSL
import OutboundTLS
import Queue
import RelayCore

/// POSTs one signed JSON body to an endpoint: screens the URL's addresses again at connect
/// time (DNS may answer differently than when the endpoint was added), verifies HTTPS
/// certificates against the system's CAs and the host name, and reads at most 64 KiB of
/// the answer.
///
/// ```
/// C: POST /hooks HTTP/1.1
/// C: Content-Type: application/json
/// C: User-Agent: Hikyaku-Webhooks/1
/// C: X-Hikyaku-Timestamp: 1733500000
/// C: X-Hikyaku-Signature: v1=5257a869…,v1=9f1c…
/// C: [{"event_id":"1733500000000-0","event":"delivered",…}]
/// S: HTTP/1.1 204 No Content
/// ```
public struct WebhookPoster: Sendable {
    /// What a POST came to: the status (and the start of the body), or why there was none.
    public enum Result: Sendable {
        case status(Int, String)
        case failed(String)

        public var verdict: WebhookVerdict {
            switch self {
            case .status(let code, _): WebhookVerdict.of(status: code)
            case .failed: .retry
            }
        }
    }

    public static let maximumResponseBody = 64 * 1024

    let group: EventLoopGroup
    let tls: NIOSSLContext
    let screen: WebhookURLScreen
    let timeout: Duration

    public init(group: EventLoopGroup, screen: WebhookURLScreen, timeout: Duration) throws {
        self.group = group
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        self.tls = try NIOSSLContext(configuration: configuration)
        self.screen = screen
        self.timeout = timeout
    }

    /// Signs `body` with every secret of `endpoint` at `timestamp` (Unix seconds) and POSTs it.
    public func post(_ endpoint: WebhookEndpoint, body: [UInt8], timestamp: Int64) async -> Result {
        let url: WebhookURL
        do { url = try WebhookURL(parsing: endpoint.url) } catch { return .failed(error.description) }
        let screen = self.screen
        let addresses: [SocketAddress]
        do {
            addresses = try await NIOThreadPool.singleton.runIfActive { try screen.screen(url, allowPrivate: endpoint.allowPrivate) }
        } catch {
            return .failed("\(error)")
        }
        let exchange = HTTPExchange(
            method: .POST, host: url.host, path: url.path,
            headers: [
                ("Content-Type", "application/json"), ("User-Agent", "Hikyaku-Webhooks/1"),
                (WebhookSignature.timestampHeader, String(timestamp)),
                (WebhookSignature.signatureHeader, WebhookSignature.header(secrets: endpoint.secrets, timestamp: timestamp, body: body)),
            ],
            body: ByteBuffer(bytes: body), tls: url.isHTTPS ? tls : nil, timeout: .milliseconds(timeout.milliseconds),
            maximumBodySize: Self.maximumResponseBody, truncatesBody: true)
        var lastError = "no address"
        for address in addresses {
            do {
                let response = try await exchange.run(to: address, group: group)
                return .status(response.status, String(decoding: response.body.readableBytesView.prefix(200), as: UTF8.self))
            } catch {
                lastError = "\(address.ipAddress ?? "?"): \(error)"
            }
        }
        return .failed(lastError)
    }
}
