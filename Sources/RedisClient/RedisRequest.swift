import NIOCore

/// Encoded commands on their way to a connection's channel handler, with the
/// promise their replies complete.
struct RedisRequest: Sendable {
    /// Who is waiting, and for how many replies.
    enum Response: Sendable {
        /// One command; the promise gets its reply (even an error reply).
        case single(EventLoopPromise<RESPValue>)
        /// `count` commands written together; the promise gets all replies, in order.
        case pipeline(EventLoopPromise<[RESPValue]>, count: Int)

        func fail(_ error: RedisError) {
            switch self {
            case .single(let promise):
                promise.fail(error)
            case .pipeline(let promise, _):
                promise.fail(error)
            }
        }
    }

    /// The RESP bytes of every command in the request.
    var bytes: ByteBuffer
    var response: Response
    /// When the caller stops waiting; `nil` waits for as long as the connection lives.
    var deadline: NIODeadline?
}
