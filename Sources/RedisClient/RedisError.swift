/// Everything that can go wrong talking to Redis.
///
/// A struct wrapping a private code enum, so new kinds can be added without breaking
/// callers. Compare a whole error with `==` (`error == .timeout`), or just its
/// ``kind`` when the error carries a message (`error.kind == .connectionFailed`).
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case connectionFailed(String)
        case connectionClosed
        case timeout
        case server(String)
        case protocolError(String)
        case unavailable(retryAfter: Duration, failedAttempts: Int, lastFailure: String)
        case invalidEndpoint(String)
        case clientShutdown
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// What kind of error this is, without its message.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connectionFailed, connectionClosed, timeout, server, protocolError, unavailable
            case invalidEndpoint, clientShutdown
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A connection could not be established (TCP, AUTH/SELECT, or the `onConnect` hook failed).
        public static let connectionFailed = Kind(.connectionFailed)
        /// The connection closed while the request was in flight, or before it was sent.
        public static let connectionClosed = Kind(.connectionClosed)
        /// The request got no reply within its timeout; its connection was closed.
        public static let timeout = Kind(.timeout)
        /// The server answered with an error reply (`-ERR …`).
        public static let server = Kind(.server)
        /// The server sent bytes that are not RESP2, or a reply nobody asked for.
        public static let protocolError = Kind(.protocolError)
        /// Reconnect attempts keep failing; the request was refused without trying.
        public static let unavailable = Kind(.unavailable)
        /// A `redis://` URL could not be parsed.
        public static let invalidEndpoint = Kind(.invalidEndpoint)
        /// The client was shut down.
        public static let clientShutdown = Kind(.clientShutdown)

        public var description: String {
            switch base {
            case .connectionFailed: "connectionFailed"
            case .connectionClosed: "connectionClosed"
            case .timeout: "timeout"
            case .server: "server"
            case .protocolError: "protocolError"
            case .unavailable: "unavailable"
            case .invalidEndpoint: "invalidEndpoint"
            case .clientShutdown: "clientShutdown"
            }
        }
    }

    public var kind: Kind {
        switch code {
        case .connectionFailed: .connectionFailed
        case .connectionClosed: .connectionClosed
        case .timeout: .timeout
        case .server: .server
        case .protocolError: .protocolError
        case .unavailable: .unavailable
        case .invalidEndpoint: .invalidEndpoint
        case .clientShutdown: .clientShutdown
        }
    }

    // MARK: Constructors

    /// A connection could not be established; `reason` describes the underlying failure.
    public static func connectionFailed(_ reason: String) -> RedisError {
        RedisError(.connectionFailed(reason))
    }

    /// The connection closed before the reply arrived.
    public static let connectionClosed = RedisError(.connectionClosed)

    /// The request timed out (and its connection was closed).
    public static let timeout = RedisError(.timeout)

    /// An error reply from the server; `message` is the reply without the leading `-`.
    public static func server(_ message: String) -> RedisError {
        RedisError(.server(message))
    }

    /// The reply stream could not be parsed.
    public static func protocolError(_ reason: String) -> RedisError {
        RedisError(.protocolError(reason))
    }

    /// Connecting keeps failing; the next attempt will be made in `retryAfter`.
    public static func unavailable(retryAfter: Duration, failedAttempts: Int, lastFailure: String) -> RedisError {
        RedisError(.unavailable(retryAfter: retryAfter, failedAttempts: failedAttempts, lastFailure: lastFailure))
    }

    /// A `redis://` URL is malformed; `reason` names what is wrong.
    public static func invalidEndpoint(_ reason: String) -> RedisError {
        RedisError(.invalidEndpoint(reason))
    }

    /// The client was shut down.
    public static let clientShutdown = RedisError(.clientShutdown)

    // MARK: Accessors

    /// Whether this is an error reply from the server.
    public var isServerError: Bool {
        if case .server = code { return true }
        return false
    }

    /// The server's error reply (`ERR unknown command …`), for ``Kind/server`` errors.
    public var serverMessage: String? {
        if case .server(let message) = code { return message }
        return nil
    }

    /// The first word of the server's error reply (`ERR`, `NOSCRIPT`, `WRONGTYPE`, `BUSYGROUP`).
    public var serverErrorPrefix: Substring? {
        guard let message = serverMessage else { return nil }
        return message.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first
    }

    /// For ``Kind/unavailable``: how long until the next connection attempt.
    public var retryAfter: Duration? {
        if case .unavailable(let retryAfter, _, _) = code { return retryAfter }
        return nil
    }

    /// The reason of a ``Kind/connectionFailed`` error without the "Redis connection failed" prefix.
    var connectionFailureReason: String? {
        if case .connectionFailed(let reason) = code { return reason }
        return nil
    }

    public var description: String {
        switch code {
        case .connectionFailed(let reason):
            return "Redis connection failed: \(reason)"
        case .connectionClosed:
            return "Redis connection closed before the reply arrived"
        case .timeout:
            return "Redis command timed out (connection closed)"
        case .server(let message):
            return "Redis error reply: \(message)"
        case .protocolError(let reason):
            return "Redis protocol error: \(reason)"
        case .unavailable(let retryAfter, let failedAttempts, let lastFailure):
            return "Redis unavailable after \(failedAttempts) failed connection attempt(s)"
                + " (last: \(lastFailure)); next attempt in \(retryAfter.roundedMilliseconds) ms"
        case .invalidEndpoint(let reason):
            return "Invalid Redis URL: \(reason)"
        case .clientShutdown:
            return "Redis client is shut down"
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up, for messages.
    var roundedMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let millis = attoseconds / attosecondsPerMillisecond
        let remainder = attoseconds % attosecondsPerMillisecond
        return seconds * 1000 + millis + (remainder > 0 ? 1 : 0)
    }
}
