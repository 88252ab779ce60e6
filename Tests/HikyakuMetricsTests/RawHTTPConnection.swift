import NIOCore
import NIOPosix

/// One parsed HTTP/1.1 response, as read off the wire by ``RawHTTPConnection``.
struct RawHTTPResponse {
    var statusLine: String
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A TCP client that writes raw request bytes and parses raw responses, so tests see
/// exactly what the server puts on the wire (framing, keep-alive, close).
final class RawHTTPConnection {
    struct ProtocolError: Error, CustomStringConvertible {
        var description: String
    }

    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending = ByteBuffer()

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Connects to 127.0.0.1:`port`, runs `body`, then closes the connection.
    static func withConnection<T>(port: Int, _ body: (RawHTTPConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(RawHTTPConnection(inbound: inbound, outbound: outbound))
        }
    }

    /// Sends `text` as is (lines must end in CRLF).
    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Sends `GET`-style request without a body.
    func request(_ method: String, _ path: String, headers: [String] = []) async throws -> RawHTTPResponse {
        let lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1"] + headers
        try await send(lines.joined(separator: "\r\n") + "\r\n\r\n")
        return try await readResponse(bodyExpected: method != "HEAD")
    }

    /// Reads one response framed by `Content-Length` (the server always sends one).
    func readResponse(bodyExpected: Bool = true) async throws -> RawHTTPResponse {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd = pending.readableBytesView.firstRange(of: separator)
        while headerEnd == nil {
            guard try await readMore() else { throw ProtocolError(description: "closed before headers: \(pending.readableBytes) bytes") }
            headerEnd = pending.readableBytesView.firstRange(of: separator)
        }
        let headerLength = headerEnd!.upperBound - pending.readableBytesView.startIndex
        let headerText = pending.readString(length: headerLength)!
        var lines = headerText.split(separator: "\r\n").map(String.init)
        let statusLine = lines.removeFirst()
        let statusParts = statusLine.split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ProtocolError(description: "bad status line '\(statusLine)'")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmed)
        }
        var response = RawHTTPResponse(statusLine: statusLine, status: status, headers: headers, body: "")
        guard bodyExpected else { return response }
        guard let length = response.header("Content-Length").flatMap(Int.init) else {
            throw ProtocolError(description: "no Content-Length in '\(headerText)'")
        }
        while pending.readableBytes < length {
            guard try await readMore() else { throw ProtocolError(description: "closed inside the body") }
        }
        response.body = pending.readString(length: length)!
        return response
    }

    /// Reads until the server closes the connection; returns any bytes that came first.
    func readUntilClosed() async throws -> String {
        while try await readMore() {}
        return pending.readString(length: pending.readableBytes) ?? ""
    }

    private func readMore() async throws -> Bool {
        guard var chunk = try await inbound.next() else { return false }
        pending.writeBuffer(&chunk)
        return true
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces or tabs (no Foundation needed).
    fileprivate var trimmed: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
