import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

/// An SMTP client connection to one MX address (RFC 5321 §3), with an async API: write
/// commands (pipelined when the server allows, RFC 2920) and await their replies in order.
/// Every wait is bounded by the command timeout; a timeout or I/O error closes the
/// connection and fails whatever was waiting.
public final class SMTPClientConnection: Sendable {
    public let channel: Channel
    private let handler: NIOLoopBound<SMTPReplyHandler>
    private let commandTimeout: TimeAmount
    public let remoteAddress: SocketAddress

    private init(channel: Channel, handler: NIOLoopBound<SMTPReplyHandler>, commandTimeout: TimeAmount, remoteAddress: SocketAddress) {
        self.channel = channel
        self.handler = handler
        self.commandTimeout = commandTimeout
        self.remoteAddress = remoteAddress
    }

    /// Connects, optionally binding the local side to `sourceAddress` (egress IP).
    public static func connect(
        to address: SocketAddress, from localAddress: SocketAddress?, group: EventLoopGroup,
        connectTimeout: TimeAmount, commandTimeout: TimeAmount
    ) async throws -> SMTPClientConnection {
        // On one of the group's event loops already (a delivery loop runs on one), the
        // connection stays on it: its replies resume the caller without a thread hop.
        var bootstrap = ClientBootstrap(group: group.any())
        if let localAddress {
            bootstrap = bootstrap.bind(to: localAddress)
        }
        // The reply handler is in the pipeline before the socket connects, so a greeting that
        // arrives at once is never missed.
        let channel =
            try await bootstrap
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler())
                }
            }
            .connect(to: address)
            .get()
        let handler = try await channel.eventLoop.submit { () -> NIOLoopBound<SMTPReplyHandler> in
            let handler = try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self)
            return NIOLoopBound(handler, eventLoop: channel.eventLoop)
        }.get()
        return SMTPClientConnection(channel: channel, handler: handler, commandTimeout: commandTimeout, remoteAddress: address)
    }

    /// A connection over a channel that is already connected (tests run it on
    /// `NIOAsyncTestingChannel`); the reply handler is added last in its pipeline.
    static func wrapping(_ channel: Channel, remoteAddress: SocketAddress, commandTimeout: TimeAmount) async throws -> SMTPClientConnection
    {
        let handler = try await channel.eventLoop.submit { () -> NIOLoopBound<SMTPReplyHandler> in
            let handler = SMTPReplyHandler()
            try channel.pipeline.syncOperations.addHandler(handler)
            return NIOLoopBound(handler, eventLoop: channel.eventLoop)
        }.get()
        return SMTPClientConnection(channel: channel, handler: handler, commandTimeout: commandTimeout, remoteAddress: remoteAddress)
    }

    /// Waits for `count` replies without sending anything (the greeting).
    public func readReplies(_ count: Int = 1) async throws -> [SMTPReply] {
        try await roundTrip(nil, expecting: count)
    }

    /// Sends the commands in one write and returns their replies, in order.
    public func send(_ commands: [SMTPCommand]) async throws -> [SMTPReply] {
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { command.encode(into: &buffer) }
        return try await roundTrip(buffer, expecting: commands.count)
    }

    public func send(_ command: SMTPCommand) async throws -> SMTPReply {
        try await send([command])[0]
    }

    /// Sends message content (dot-stuffed, RFC 5321 §4.5.2) and the end-of-data mark, and
    /// returns the reply to the end of data.
    public func sendData(_ body: ByteBuffer) async throws -> SMTPReply {
        try await sendData(MessageContent(body))
    }

    /// Sends `content` dot-stuffed (RFC 5321 §4.5.2) and the end-of-data mark, and returns
    /// the reply to the end of data. Content in memory goes in one write; a stored
    /// remainder is read and written a piece at a time, each write awaited (the peer's
    /// pace bounds what is held), the dot-stuffing carried across the pieces.
    ///
    /// If a piece cannot be read the connection is closed before the end-of-data mark, so
    /// the server never takes a truncated message for a whole one, and the error is thrown.
    ///
    /// `chained` (the next transaction's commands, RFC 2920 §3.1) follow the end-of-data
    /// mark in the same write; their replies are kept for the next ``readReplies(_:)``.
    public func sendData(_ content: MessageContent, then chained: [SMTPCommand] = []) async throws -> SMTPReply {
        var stuffer = DotStuffer()
        let held = content.size - (content.stored?.length ?? 0)
        var out = channel.allocator.buffer(capacity: held + held / 64 + 8)
        for piece in content.inMemory { stuffer.stuff(piece, into: &out) }
        if let stored = content.stored {
            do {
                var offset = stored.offset
                let end = stored.offset + stored.length
                while offset < end {
                    if out.readableBytes > 0 {
                        try await write(out)
                        out = channel.allocator.buffer(capacity: 0)
                    }
                    let count = min(stored.pieceSize, end - offset)
                    let piece = try await stored.read(offset, count)
                    guard piece.readableBytes == count else {
                        throw SMTPClientError(
                            description: "message content changed while it was sent (\(piece.readableBytes) octets read of \(count))")
                    }
                    out.reserveCapacity(count + count / 64 + 8)
                    stuffer.stuff(piece, into: &out)
                    offset += count
                }
            } catch {
                try? await channel.close()
                throw error
            }
        }
        stuffer.finish(into: &out)
        for command in chained { command.encode(into: &out) }
        return try await roundTrip(out, expecting: 1, announcing: chained.count)[0]
    }

    /// Writes `bytes` and waits until they are written; a peer that takes nothing for the
    /// command timeout gets the connection closed.
    private func write(_ bytes: ByteBuffer) async throws {
        let channel = self.channel
        let timeout = commandTimeout
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            channel.writeAndFlush(bytes, promise: promise)
        }
        try await promise.futureResult.get()
    }

    /// Upgrades to TLS after a `220` to STARTTLS (RFC 3207). Whether and how the certificate
    /// is checked is the context's (and `verify`'s) business: opportunistic TLS (RFC 7435)
    /// checks nothing, MTA-STS and `tls_required` check the chain and name, DANE the TLSA match.
    ///
    /// Anything the server sent after its `220` and before the handshake is refused, not
    /// kept: a reply injected there in clear text would otherwise answer the first command
    /// sent over TLS and shift every later reply by one (RFC 3207 §4.2; the client-side
    /// analogue of CVE-2011-0411). The connection is closed and the attempt fails.
    ///
    /// ```
    /// C: STARTTLS
    /// S: 220 go ahead\r\n550 5.1.1 no\r\n      (one write: the 550 is an injection)
    /// C: (closes; nothing is delivered on this connection)
    /// ```
    public func startTLS(
        serverHostname: String?, context: NIOSSLContext,
        verify: NIOSSLCustomVerificationCallback? = nil
    ) async throws {
        let handler = self.handler
        try await channel.eventLoop.submit {
            do {
                try handler.value.requireNothingBuffered()
            } catch {
                self.channel.close(promise: nil)
                throw error
            }
            let tls: NIOSSLClientHandler
            if let verify {
                tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname, customVerificationCallback: verify)
            } else {
                tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
            }
            try self.channel.pipeline.syncOperations.addHandler(tls, position: .first)
        }.get()
    }

    public func close() async {
        try? await channel.close()
    }

    /// Hands `bytes` to the event loop and waits for `count` replies: one hop there, one
    /// continuation back — no futures per reply, no timer per command (the handler keeps
    /// one timer for the oldest outstanding request).
    /// `announcing`: replies that will follow these (for commands sent after the ones
    /// awaited), which the handler may keep until they are read.
    private func roundTrip(_ bytes: ByteBuffer?, expecting count: Int, announcing later: Int = 0) async throws -> [SMTPReply] {
        let channel = self.channel
        let handler = self.handler
        let timeout = commandTimeout
        return try await withCheckedThrowingContinuation { continuation in
            channel.eventLoop.execute {
                handler.value.expect(count, announcing: later, deadline: channel.eventLoop.now + timeout, continuation: continuation)
                if let bytes { channel.writeAndFlush(bytes, promise: nil) }
            }
        }
    }
}

/// Why talking to a remote server failed (as opposed to the server refusing something).
public struct SMTPClientError: Error, CustomStringConvertible {
    public let description: String
    static let timeout = SMTPClientError(description: "timed out waiting for the server's reply")
    static let closed = SMTPClientError(description: "connection closed by the server")
    static func protocolViolation(_ text: String) -> SMTPClientError { .init(description: "protocol error: \(text)") }
}

/// Parses replies from the server and hands them, in order, to the requests waiting for
/// them. A reply nobody waits for yet (the greeting, or a `421` announcing a shutdown,
/// RFC 5321 §3.8) is kept for the next request. All methods run on the channel's event loop.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Replies kept while nobody waits, beyond those announced (the replies to commands
    /// chained after a message's content); more means the peer is not speaking SMTP.
    static let maxUnclaimedReplies = 16

    private struct Request {
        var remaining: Int
        var replies: [SMTPReply]
        /// Replies to commands sent after the awaited ones, expected once this is answered.
        let announcing: Int
        let deadline: NIODeadline
        let continuation: CheckedContinuation<[SMTPReply], Error>
    }

    private var parser = SMTPReplyParser()
    private var requests = CircularBuffer<Request>()
    private var unclaimed = CircularBuffer<SMTPReply>()
    /// Announced replies not yet handed to a request: they may wait in `unclaimed` on top
    /// of ``maxUnclaimedReplies``.
    private var announced = 0
    private var failure: Error?
    private var context: ChannelHandlerContext?
    /// Fires at the oldest request's deadline (re-armed when it is answered).
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(SMTPClientError.closed)
        self.context = nil
    }

    /// Throws if any byte from the server is held, parsed or not: called on the event loop
    /// just before the TLS handler goes in, so every plaintext byte that arrived before the
    /// handshake is seen here (later ones reach the TLS handler and fail the handshake).
    func requireNothingBuffered() throws {
        guard unclaimed.isEmpty, parser.isEmpty else {
            let error = SMTPClientError.protocolViolation(
                "the server sent data after its 220 to STARTTLS, before the TLS handshake (RFC 3207 §4.2)")
            failAll(error)
            throw error
        }
    }

    /// Waits for the next `count` replies (0: resumes at once with none).
    func expect(
        _ count: Int, announcing later: Int = 0, deadline: NIODeadline, continuation: CheckedContinuation<[SMTPReply], Error>
    ) {
        var request = Request(remaining: count, replies: [], announcing: later, deadline: deadline, continuation: continuation)
        request.replies.reserveCapacity(count)
        while request.remaining > 0, let reply = unclaimed.popFirst() {
            request.replies.append(reply)
            request.remaining -= 1
            if announced > 0 { announced -= 1 }
        }
        if request.remaining == 0 { announced += later }
        if request.remaining == 0 { return continuation.resume(returning: request.replies) }
        if let failure { return continuation.resume(throwing: failure) }
        requests.append(request)
        armTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parser.append(unwrapInboundIn(data))
        do {
            while let reply = try parser.next() {
                if requests.isEmpty {
                    guard unclaimed.count < Self.maxUnclaimedReplies + announced else {
                        throw SMTPClientError.protocolViolation("too many unsolicited replies")
                    }
                    unclaimed.append(reply)
                    continue
                }
                if announced > 0 { announced -= 1 }
                requests[requests.startIndex].replies.append(reply)
                requests[requests.startIndex].remaining -= 1
                if requests[requests.startIndex].remaining == 0 {
                    let done = requests.removeFirst()
                    announced += done.announcing
                    done.continuation.resume(returning: done.replies)
                    armTimer()
                }
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // RFC 5321 §3.8: a server that answers 421 closes the connection; the pipelined
        // commands after the 421 were never processed, so they share its meaning — the
        // caller sees the 421 (for backoff) rather than a lost connection.
        if let partial = requests.first, let last = partial.replies.last, last.code == 421 {
            requests.removeFirst()
            partial.continuation.resume(returning: partial.replies + Array(repeating: last, count: partial.remaining))
        }
        failAll(SMTPClientError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        while let request = requests.popFirst() { request.continuation.resume(throwing: error) }
    }

    /// Keeps one timer at the oldest waiting request's deadline.
    private func armTimer() {
        // With nothing waiting, a set timer is left to fire harmlessly (cheaper than
        // cancelling and re-arming around every command).
        guard let oldest = requests.first else { return }
        // Requests are answered in order and deadlines grow, so a timer already set for an
        // earlier deadline fires first and re-arms itself (rather than one timer per command).
        if timer != nil, let set = timerDeadline, set <= oldest.deadline { return }
        timer?.cancel()
        guard let context else { return }
        timerDeadline = oldest.deadline
        timer = context.eventLoop.scheduleTask(deadline: oldest.deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let oldest = requests.first else { return }
        if let context, oldest.deadline <= context.eventLoop.now {
            failAll(SMTPClientError.timeout)
            context.close(promise: nil)
        } else {
            armTimer()
        }
    }
}
