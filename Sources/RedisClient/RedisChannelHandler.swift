import Logging
import NIOCore

/// The NIO side of one Redis connection: writes encoded requests, feeds the bytes
/// that come back to a ``RESPReader`` and completes the waiting promises in FIFO
/// order (RESP replies arrive in the order the commands were sent).
///
/// ```
/// C: *1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n    (one write, two requests)
/// S: +PONG\r\n$-1\r\n                                  (first reply → first promise)
/// ```
///
/// Timeouts: one scheduled task at a time, armed for the earliest deadline among
/// the requests in flight. When a request's deadline passes, its caller gets
/// ``RedisError/timeout`` and the connection is closed, because its reply stream can
/// no longer be matched to requests; every other request in flight gets
/// ``RedisError/connectionClosed``.
///
/// Lives on its channel's event loop; ``RedisConnection`` reaches it through a
/// `NIOLoopBoundBox`.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Added to a channel that is not active yet.
        case idle
        case active(ChannelHandlerContext)
        /// Closed, or closing: new requests fail at once.
        case closed
    }

    private struct Pending {
        var response: RedisRequest.Response
        var deadline: NIODeadline?
    }

    private var state = State.idle
    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    /// Replies collected so far for the pipeline at the head of `pending`.
    private var pipelineReplies: [RESPValue] = []
    private var reader: RESPReader?
    private var timeoutTask: Scheduled<Void>?
    private var timeoutDeadline: NIODeadline?
    private var flushScheduled = false
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    // MARK: Requests (called on the event loop)

    func submit(_ request: RedisRequest) {
        guard case .active(let context) = state else {
            request.response.fail(.connectionClosed)
            return
        }
        pending.append(Pending(response: request.response, deadline: request.deadline))
        if let deadline = request.deadline {
            armTimeout(for: deadline, context: context)
        }
        context.write(wrapOutboundOut(request.bytes), promise: nil)
        scheduleFlush(context: context)
    }

    /// Flushes once after the requests already queued on the event loop have been
    /// written, so concurrent senders share one `writev` instead of one syscall each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            if case .active(let context) = self.state {
                context.flush()
            }
        }
    }

    /// Closes the channel on the caller's request; requests in flight get ``RedisError/connectionClosed``.
    func close() {
        if case .active(let context) = state {
            closeAndFailAll(context: context, with: .connectionClosed)
        }
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        reader = RESPReader(allocator: context.channel.allocator)
        if context.channel.isActive {
            state = .active(context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeAndFailAll(context: nil, with: .connectionClosed)
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .idle = state {
            state = .active(context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .active = state {
            logger.warning(
                "Redis connection closed by the server",
                metadata: ["redis.in_flight": "\(pending.count)"]
            )
        }
        closeAndFailAll(context: nil, with: .connectionClosed)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .active = state, let reader else { return }
        let bytes = unwrapInboundIn(data)
        do {
            try reader.feed(bytes)
            while let reply = try reader.next() {
                guard deliver(reply) else {
                    fail(context: context, error: .protocolError("received a reply nobody asked for"))
                    return
                }
            }
        } catch {
            fail(context: context, error: error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case .active = state {
            logger.warning("Redis connection error; closing the connection", metadata: ["error": "\(error)"])
        }
        closeAndFailAll(context: context, with: .connectionClosed)
    }

    // MARK: Replies

    /// Hands `reply` to the request at the head of the queue; `false` if there is none.
    private func deliver(_ reply: RESPValue) -> Bool {
        guard let head = pending.first else { return false }
        switch head.response {
        case .single(let promise):
            pending.removeFirst()
            promise.succeed(reply)
        case .pipeline(let promise, let count):
            if pipelineReplies.isEmpty {
                pipelineReplies.reserveCapacity(count)
            }
            pipelineReplies.append(reply)
            if pipelineReplies.count == count {
                pending.removeFirst()
                let replies = pipelineReplies
                pipelineReplies = []
                promise.succeed(replies)
            }
        }
        return true
    }

    private func fail(context: ChannelHandlerContext, error: RedisError) {
        logger.error("Redis protocol error; closing connection", metadata: ["error": "\(error)"])
        closeAndFailAll(context: context, with: error)
    }

    /// Marks the handler closed, closes the channel (when `context` is given) and then
    /// fails every request in flight with `error`; requests whose deadline is before
    /// `now` get ``RedisError/timeout`` instead. Closing first means a caller that
    /// resumes on the failure already sees the connection inactive.
    private func closeAndFailAll(
        context: ChannelHandlerContext?,
        with error: RedisError,
        timedOutBefore now: NIODeadline? = nil
    ) {
        state = .closed
        timeoutTask?.cancel()
        timeoutTask = nil
        timeoutDeadline = nil
        pipelineReplies = []
        let failed = pending
        pending.removeAll()
        context?.close(promise: nil)
        for request in failed {
            if let now, let deadline = request.deadline, deadline <= now {
                request.response.fail(.timeout)
            } else {
                request.response.fail(error)
            }
        }
    }

    // MARK: Timeouts

    private func armTimeout(for deadline: NIODeadline, context: ChannelHandlerContext) {
        if let current = timeoutDeadline, current <= deadline {
            return
        }
        timeoutTask?.cancel()
        timeoutDeadline = deadline
        timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timeoutFired()
        }
    }

    private func timeoutFired() {
        timeoutTask = nil
        timeoutDeadline = nil
        guard case .active(let context) = state else { return }
        let now = NIODeadline.now()
        var earliest: NIODeadline?
        for request in pending {
            guard let deadline = request.deadline else { continue }
            if deadline <= now {
                logger.warning(
                    "Redis command timed out; closing the connection",
                    metadata: ["redis.in_flight": "\(pending.count)"]
                )
                closeAndFailAll(context: context, with: .connectionClosed, timedOutBefore: now)
                return
            }
            earliest = min(earliest ?? deadline, deadline)
        }
        if let earliest {
            armTimeout(for: earliest, context: context)
        }
    }
}
