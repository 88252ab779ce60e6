import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An SMTP server on a loopback port that answers from a script: `greeting`, then for each
/// command line the reply `respond` gives (content after a `354` is collected up to the
/// end-of-data mark and answered with `respond("<content>")`). Records every line it got.
/// A reply of ``hangUp`` closes the connection without answering (a connection lost).
/// `arrivals` groups the lines by the read that completed them (what came in one write).
final class FakeMX: Sendable {
    static let hangUp = "<hang up>"
    let channel: Channel
    let log = NIOLockedValueBox<[String]>([])
    let reads = NIOLockedValueBox<[[String]]>([])

    var address: SocketAddress { channel.localAddress! }
    var received: [String] { log.withLockedValue { $0 } }
    var arrivals: [[String]] { reads.withLockedValue { $0 } }

    init(group: EventLoopGroup, greeting: String, respond: @escaping @Sendable (String) -> String?) async throws {
        let log = self.log
        let reads = self.reads
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ScriptHandler(greeting: greeting, respond: respond, log: log, reads: reads))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let greeting: String
    let respond: @Sendable (String) -> String?
    let log: NIOLockedValueBox<[String]>
    let reads: NIOLockedValueBox<[[String]]>
    var pending = ""
    var inData = false

    init(
        greeting: String, respond: @escaping @Sendable (String) -> String?, log: NIOLockedValueBox<[String]>,
        reads: NIOLockedValueBox<[[String]]>
    ) {
        self.greeting = greeting
        self.respond = respond
        self.log = log
        self.reads = reads
    }

    func channelActive(context: ChannelHandlerContext) {
        send(greeting, context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += String(buffer: unwrapInboundIn(data))
        var completed: [String] = []
        defer { if !completed.isEmpty { reads.withLockedValue { $0.append(completed) } } }
        while true {
            if inData {
                guard let end = pending.range(of: "\r\n.\r\n") ?? (pending.hasPrefix(".\r\n") ? pending.range(of: ".\r\n") : nil) else {
                    return
                }
                let content = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                inData = false
                log.withLockedValue { $0.append("<content>\(content)") }
                completed.append("<content>")
                answer(respond("<content>"), context)
                continue
            }
            guard let end = pending.range(of: "\r\n") else { return }
            let line = String(pending[..<end.lowerBound])
            pending = String(pending[end.upperBound...])
            log.withLockedValue { $0.append(line) }
            completed.append(line)
            answer(respond(line), context)
        }
    }

    private func answer(_ reply: String?, _ context: ChannelHandlerContext) {
        guard let reply else { return }
        if reply == FakeMX.hangUp {
            context.close(promise: nil)
            return
        }
        if reply.hasPrefix("354") { inData = true }
        send(reply, context)
        if reply.hasPrefix("421") || reply.hasPrefix("221") { context.close(promise: nil) }
    }

    private func send(_ text: String, _ context: ChannelHandlerContext) {
        let lines = text.split(separator: "|").map { "\($0)\r\n" }.joined()
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: lines)), promise: nil)
    }
}
