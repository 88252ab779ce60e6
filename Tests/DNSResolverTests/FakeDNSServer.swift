import NIOCore
import NIOPosix

@testable import DNSResolver

/// A scripted DNS server on 127.0.0.1 for the failure cases dnsmasq cannot produce:
/// silence, spoofed replies, truncation, SERVFAIL, garbage. UDP and (optionally) TCP on
/// the same port; each answers with whatever its responder returns for the decoded query
/// (nothing at all for an empty array).
final class FakeDNSServer: Sendable {
    typealias Responder = @Sendable (DNSMessage) -> [ByteBuffer]

    enum Transport: Sendable { case udp, tcp }

    let port: Int
    private let udpChannel: any Channel
    private let tcpChannel: (any Channel)?
    private let log: QueryLog

    private init(port: Int, udpChannel: any Channel, tcpChannel: (any Channel)?, log: QueryLog) {
        self.port = port
        self.udpChannel = udpChannel
        self.tcpChannel = tcpChannel
        self.log = log
    }

    var address: SocketAddress {
        try! SocketAddress(ipAddress: "127.0.0.1", port: self.port)
    }

    static func start(udp: @escaping Responder, tcp: Responder? = nil) async throws -> FakeDNSServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let log = QueryLog(eventLoop: eventLoop)
        for _ in 0..<10 {
            let udpChannel = try await DatagramBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPHandler(responder: udp, log: log))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = udpChannel.localAddress!.port!
            guard let tcp else {
                return FakeDNSServer(port: port, udpChannel: udpChannel, tcpChannel: nil, log: log)
            }
            do {
                let tcpChannel = try await ServerBootstrap(group: eventLoop)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                            try channel.pipeline.syncOperations.addHandler(TCPHandler(responder: tcp, log: log))
                        }
                    }
                    .bind(host: "127.0.0.1", port: port).get()
                return FakeDNSServer(port: port, udpChannel: udpChannel, tcpChannel: tcpChannel, log: log)
            } catch {
                try? await udpChannel.close()
            }
        }
        throw ChannelError.inappropriateOperationForState
    }

    /// The queries received so far, in order.
    func queries() async throws -> [(transport: Transport, message: DNSMessage)] {
        try await self.log.entries()
    }

    func stop() async {
        try? await self.udpChannel.close()
        try? await self.tcpChannel?.close()
    }

    /// A reply to `query` echoing its id and question.
    static func reply(
        to query: DNSMessage,
        answers: [DNSResourceRecord] = [],
        authorities: [DNSResourceRecord] = [],
        code: DNSResponseCode = .noError,
        truncated: Bool = false
    ) -> ByteBuffer {
        DNSMessage(
            header: DNSHeader(
                id: query.header.id,
                isResponse: true,
                isTruncated: truncated,
                recursionAvailable: true,
                responseCode: code
            ),
            questions: query.questions,
            answers: answers,
            authorities: authorities
        ).encoded()
    }

    /// The single question's name of `query`.
    static func name(_ query: DNSMessage) -> DNSName { query.questions[0].name }

    /// Records every query; touched only on its event loop.
    final class QueryLog: @unchecked Sendable {
        private let eventLoop: any EventLoop
        private var items: [(transport: Transport, message: DNSMessage)] = []

        init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

        func append(_ transport: Transport, _ message: DNSMessage) {
            self.eventLoop.preconditionInEventLoop()
            self.items.append((transport, message))
        }

        func entries() async throws -> [(transport: Transport, message: DNSMessage)] {
            try await self.eventLoop.submit { self.items }.get()
        }
    }

    private final class UDPHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>

        let responder: Responder
        let log: QueryLog

        init(responder: @escaping Responder, log: QueryLog) {
            self.responder = responder
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            guard let query = try? DNSMessage(decoding: envelope.data) else { return }
            self.log.append(.udp, query)
            for reply in self.responder(query) {
                context.write(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply)), promise: nil)
            }
            context.flush()
        }
    }

    private final class TCPHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let responder: Responder
        let log: QueryLog

        init(responder: @escaping Responder, log: QueryLog) {
            self.responder = responder
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let query = try? DNSMessage(decoding: Self.unwrapInboundIn(data)) else { return }
            self.log.append(.tcp, query)
            for reply in self.responder(query) {
                var frame = context.channel.allocator.buffer(capacity: reply.readableBytes + 2)
                frame.writeInteger(UInt16(reply.readableBytes))
                frame.writeImmutableBuffer(reply)
                context.write(Self.wrapOutboundOut(frame), promise: nil)
            }
            context.flush()
        }
    }
}
