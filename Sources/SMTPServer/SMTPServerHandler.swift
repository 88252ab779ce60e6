import NIOCore
import NIOSSL
import SMTPProtocol

/// The server side of an SMTP connection on a NIO channel (the glue, as nio-imap's
/// server handler): bytes into an ``SMTPFramer``, frames to an ``SMTPServerSession``,
/// replies back out. It owns what every SMTP server needs the same way:
///
/// - **Pipelining** (RFC 2920): frames stay in the framer while the session holds input
///   (``hold(until:then:)``, ``hold(for:then:)``), so replies keep the order of commands;
///   replies written in one pass go out in one flush.
/// - **STARTTLS** (RFC 3207) with the injection guard (CVE-2011-0411): anything the client
///   sent after the `STARTTLS` line is refused, never read as if it came over TLS.
/// - **Timers**: a session time limit, the idle timeout (an `IdleStateHandler` before this
///   one), and the ``SlowClientGuard`` (a line, or DATA, must make progress).
/// - **Read back-pressure**: reading stops once held input passes ``heldInputLimit``, while
///   the session asks for it (``throttlesReads``), and while the client does not read its
///   replies (the channel is not writable); the kernel's buffers and TCP's window then hold
///   the client back.
/// - **Graceful shutdown**: on ``ShutdownEvent`` the session is answered `421 4.3.2` and
///   closed as soon as no message is in progress (RFC 5321 §3.8).
///
/// All on the channel's event loop; the clock is the loop's, so tests on an
/// `EmbeddedChannel` advance it.
public final class SMTPServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public struct Configuration: Sendable {
        /// Named in the timeout replies.
        public var hostname: String
        /// The whole session's limit (nil: none).
        public var sessionTimeout: TimeAmount?
        /// A command line must be complete this long after its first octet, and DATA gets
        /// this long plus one second per ``minimumDataRate`` octets (nil: no slow-client guard).
        public var commandTimeout: TimeAmount?
        public var minimumDataRate: Int

        public init(hostname: String, sessionTimeout: TimeAmount? = nil, commandTimeout: TimeAmount? = nil, minimumDataRate: Int = 1) {
            self.hostname = hostname
            self.sessionTimeout = sessionTimeout
            self.commandTimeout = commandTimeout
            self.minimumDataRate = minimumDataRate
        }
    }

    /// Sent down the pipeline on graceful shutdown: a session between commands is answered
    /// `421 4.3.2` at once; one receiving a message (or waiting for it to be stored) first
    /// gets the real reply to its final dot — so its client knows whether it was taken.
    public struct ShutdownEvent: Sendable {
        public init() {}
    }

    private let configuration: Configuration
    private let session: any SMTPServerSession
    private var framer = SMTPFramer()
    private var context: ChannelHandlerContext?

    /// Set while the session waits for something; frames stay in the framer meanwhile.
    public private(set) var isHeld = false
    /// Set once a close was decided; nothing more is read or answered.
    public private(set) var isClosing = false
    private var needsFlush = false
    private var readPaused = false
    private var shuttingDown = false
    private var sessionTimer: Scheduled<Void>?
    private var slowClientGuard: SlowClientGuard?
    private var progressTimer: Scheduled<Void>?
    private var progressTimerDeadline: NIODeadline?

    public init(configuration: Configuration, session: any SMTPServerSession) {
        self.configuration = configuration
        self.session = session
        self.slowClientGuard = configuration.commandTimeout.map {
            SlowClientGuard(commandTimeout: $0, minimumDataRate: configuration.minimumDataRate)
        }
    }

    // MARK: What the session may do

    /// The channel's event loop (where every call to the session happens).
    public var eventLoop: any EventLoop { self.context!.eventLoop }

    /// Whether the channel is still open.
    public var isActive: Bool { self.context?.channel.isActive ?? false }

    /// The client's address.
    public var remoteAddress: SocketAddress? { self.context?.channel.remoteAddress }

    /// The channel (to register it for a graceful shutdown).
    public var channel: (any Channel)? { self.context?.channel }

    /// What the framer expects next; set it after every state machine action.
    public var framerMode: SMTPFramer.Mode {
        get { self.framer.mode }
        set {
            if newValue == .data, self.framer.mode != .data, let context {
                self.slowClientGuard?.dataStarted(at: context.eventLoop.now)
            }
            self.framer.mode = newValue
        }
    }

    /// Whether the session wants reading paused although input is not held (e.g. storage
    /// lags behind a streamed body).
    public var throttlesReads = false {
        didSet { if let context { self.updateReadPause(context: context) } }
    }

    /// Writes a reply (flushed when the current pass over the input ends).
    public func write(_ reply: SMTPReply) {
        guard let context, !self.isClosing else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        reply.encode(into: &buffer)
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        self.needsFlush = true
    }

    /// Writes `reply` (if any), then closes the connection; nothing after it is read.
    public func close(with reply: SMTPReply?) {
        guard let context, !self.isClosing else { return }
        self.isClosing = true
        self.progressTimer?.cancel()
        guard let reply else {
            if self.needsFlush { context.flush() }
            context.close(promise: nil)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        reply.encode(into: &buffer)
        self.needsFlush = false
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// STARTTLS (RFC 3207 §4): writes `reply` (`220 2.0.0 Ready to start TLS`) and puts a
    /// TLS handler first in the pipeline. Refuses with `501 5.5.4` and closes if the client
    /// pipelined anything after the STARTTLS line — those bytes came in plaintext and must
    /// not be taken as sent over TLS (CVE-2011-0411) — or if `tls` is nil. Returns whether
    /// TLS was started (then tell the state machine: `tlsEstablished()`).
    public func startTLS(_ reply: SMTPReply, context tls: NIOSSLContext?) -> Bool {
        guard let context else { return false }
        guard self.framer.bufferedByteCount == 0, let tls else {
            self.session.closing(because: .startTLSRefused, on: self)
            self.close(with: .dataAfterStartTLS)
            return false
        }
        self.write(reply)
        self.flushIfNeeded(context: context)
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
        } catch {
            self.session.closing(because: .startTLSFailed(error), on: self)
            self.close(with: nil)
            return false
        }
        return true
    }

    /// Holds input until `future` completes, then runs `body` on the event loop and goes
    /// on with the frames that waited (RFC 2920: replies stay in order).
    public func hold<T: Sendable>(until future: EventLoopFuture<T>, then body: @escaping (SMTPServerHandler, Result<T, any Error>) -> Void)
    {
        self.holdInput()
        let bound = NIOLoopBound((self, body), eventLoop: self.eventLoop)
        future.hop(to: self.eventLoop).whenComplete { result in
            let (handler, body) = bound.value
            body(handler, result)
            handler.releaseInput()
        }
    }

    /// Holds input for `delay`, then runs `body` (not if the session closed meanwhile).
    public func hold(for delay: TimeAmount, then body: @escaping (SMTPServerHandler) -> Void) {
        guard delay > .zero else {
            body(self)
            return
        }
        self.holdInput()
        let bound = NIOLoopBound((self, body), eventLoop: self.eventLoop)
        self.eventLoop.scheduleTask(in: delay) {
            let (handler, body) = bound.value
            guard handler.isActive, !handler.isClosing else { return }
            body(handler)
            handler.releaseInput()
        }
    }

    /// Stops taking frames (and reading) until ``releaseInput()``.
    public func holdInput() {
        self.isHeld = true
        if let context {
            self.flushIfNeeded(context: context)
            self.updateReadPause(context: context)
        }
    }

    /// Takes frames again, starting with those that waited.
    public func releaseInput() {
        self.isHeld = false
        if let context { self.processFrames(context: context) }
    }

    // MARK: Channel events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        if let timeout = self.configuration.sessionTimeout {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.sessionTimer = context.eventLoop.scheduleTask(in: timeout) {
                let handler = bound.value
                guard !handler.isClosing else { return }
                handler.session.closing(because: .sessionTimeLimit, on: handler)
                handler.close(with: .sessionTimeLimit(hostname: handler.configuration.hostname))
            }
        }
        self.session.sessionStarted(on: self)
        self.flushIfNeeded(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        self.sessionTimer?.cancel()
        self.progressTimer?.cancel()
        self.session.sessionEnded(on: self)
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.framer.append(self.unwrapInboundIn(data))
        self.processFrames(context: context)
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.updateReadPause(context: context)
        context.fireChannelWritabilityChanged()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ShutdownEvent {
            self.shuttingDown = true
            self.processFrames(context: context)
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            guard !self.isClosing else { return }
            self.session.closing(because: .idle, on: self)
            self.close(with: .idleTimeout(hostname: self.configuration.hostname))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.session.closing(because: .error(error), on: self)
        self.isClosing = true
        context.close(promise: nil)
    }

    // MARK: Frames

    private func processFrames(context: ChannelHandlerContext) {
        while !self.isHeld && !self.isClosing {
            // Shutting down: no new command is taken once no message is in progress.
            if self.shuttingDown && self.framer.mode != .data {
                self.session.closing(because: .shutdown, on: self)
                self.close(with: .shuttingDown(hostname: self.configuration.hostname))
                return
            }
            guard let frame = self.framer.next() else { break }
            switch frame {
            case .line, .lineTooLong: self.slowClientGuard?.lineCompleted()
            case .dataChunk(let chunk): self.slowClientGuard?.dataReceived(octets: chunk.readableBytes)
            case .dataEnd: self.slowClientGuard?.dataEnded()
            }
            self.session.receive(frame, on: self)
        }
        self.flushIfNeeded(context: context)
        self.updateReadPause(context: context)
        self.updateSlowClientGuard(context: context)
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
    }

    /// Input a held session may have waiting before reading pauses. A client that waits for
    /// each reply sends nothing during a hold, so pausing at once would only cost two
    /// `autoRead` changes per Redis round trip; a pipelining or hostile one is stopped here.
    public static let heldInputLimit = 16 * 1024

    private func updateReadPause(context: ChannelHandlerContext) {
        let heldInputFull = self.isHeld && self.framer.bufferedByteCount >= Self.heldInputLimit
        let pause = !self.isClosing && (heldInputFull || self.throttlesReads || !context.channel.isWritable)
        guard pause != self.readPaused else { return }
        self.readPaused = pause
        if let options = context.channel.syncOptions {
            try? options.setOption(ChannelOptions.autoRead, value: !pause)
        } else {
            context.channel.setOption(ChannelOptions.autoRead, value: !pause).whenComplete { _ in }
        }
    }

    // MARK: Slow clients

    /// Tells the guard what the session is doing now, and keeps one timer at its deadline.
    private func updateSlowClientGuard(context: ChannelHandlerContext) {
        guard self.slowClientGuard != nil, !self.isClosing else { return }
        let now = context.eventLoop.now
        if self.isHeld || self.readPaused {
            self.slowClientGuard!.pause(at: now)
        } else {
            self.slowClientGuard!.resume(at: now)
            if self.framer.hasPartialLine {
                self.slowClientGuard!.lineInProgress(at: now)
            } else {
                self.slowClientGuard!.lineCompleted()
            }
        }
        self.scheduleProgressCheck(context: context)
    }

    private func scheduleProgressCheck(context: ChannelHandlerContext) {
        guard let deadline = self.slowClientGuard?.deadline else { return }
        // A timer due earlier re-checks and moves on to the later deadline itself.
        if let scheduled = self.progressTimerDeadline, scheduled <= deadline { return }
        self.progressTimer?.cancel()
        self.progressTimerDeadline = deadline
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.progressTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let handler = bound.value
            handler.progressTimer = nil
            handler.progressTimerDeadline = nil
            handler.checkProgress()
        }
    }

    private func checkProgress() {
        guard let context, !self.isClosing, let slowClientGuard else { return }
        guard slowClientGuard.isExpired(at: context.eventLoop.now) else {
            self.scheduleProgressCheck(context: context)
            return
        }
        let inData = if case .data = slowClientGuard.phase { true } else { false }
        self.session.closing(because: .tooSlow(inData: inData), on: self)
        self.close(with: .tooSlow(hostname: self.configuration.hostname))
    }
}
