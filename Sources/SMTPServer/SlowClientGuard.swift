import NIOCore

/// Cuts off clients that hold a session open without making progress ("slowloris"): a
/// byte now and then resets the idle timeout, so it alone cannot stop them.
///
/// - A command line (or AUTH response line) must be complete within ``commandTimeout``
///   of its first octet, however the octets trickle in. The wait *before* a line is the
///   idle timeout's business (RFC 5321 §4.5.3.2.7 asks for at least 5 minutes there);
///   this bounds the line itself, which a real client sends in one write.
/// - DATA content must arrive at ``minimumDataRate`` octets per second on average: the data
///   phase may last ``commandTimeout`` plus one second per ``minimumDataRate`` octets
///   received so far, so a large message on a slow link is fine and a trickle is not.
/// - While the server is the one working (checking credentials, storing the message, or
///   not reading because Redis is slower than the client), no clock runs against the client.
///
/// A value that decides; ``SMTPServerHandler`` owns the timer and asks ``isExpired(at:)``
/// when it fires (the clock is a parameter, so the rules are tested without sleeping).
public struct SlowClientGuard: Sendable {
    public enum Phase: Equatable, Sendable {
        /// Between lines: only the idle timeout applies.
        case idle
        /// A line has started and is not complete yet.
        case line(since: NIODeadline)
        /// Receiving DATA content.
        case data(since: NIODeadline, octets: Int)
    }

    public let commandTimeout: TimeAmount
    /// Octets per second, at least 1.
    public let minimumDataRate: Int
    public private(set) var phase: Phase = .idle
    private var pausedSince: NIODeadline?

    public init(commandTimeout: TimeAmount, minimumDataRate: Int) {
        self.commandTimeout = commandTimeout
        self.minimumDataRate = max(1, minimumDataRate)
    }

    /// When the client is too slow if nothing changes; `nil` while no rule runs.
    public var deadline: NIODeadline? {
        guard self.pausedSince == nil else { return nil }
        switch self.phase {
        case .idle:
            return nil
        case .line(let since):
            return since + self.commandTimeout
        case .data(let since, let octets):
            // Capped at a day: the session timeout ends a session long before.
            let earnedSeconds = Int64(min(octets / self.minimumDataRate, 86_400))
            return since + self.commandTimeout + .seconds(earnedSeconds)
        }
    }

    public func isExpired(at now: NIODeadline) -> Bool {
        guard let deadline = self.deadline else { return false }
        return now >= deadline
    }

    /// Part of a line has arrived (the framer holds an incomplete line). Keeps the start of
    /// a line already in progress.
    public mutating func lineInProgress(at now: NIODeadline) {
        if case .idle = self.phase {
            self.phase = .line(since: now)
        }
    }

    /// A line was completed (or discarded as too long), or none is in progress.
    public mutating func lineCompleted() {
        if case .line = self.phase {
            self.phase = .idle
        }
    }

    /// The server answered 354.
    public mutating func dataStarted(at now: NIODeadline) {
        self.phase = .data(since: now, octets: 0)
    }

    /// Content arrived.
    public mutating func dataReceived(octets count: Int) {
        if case .data(let since, let octets) = self.phase {
            self.phase = .data(since: since, octets: octets + count)
        }
    }

    /// The end of data was read.
    public mutating func dataEnded() {
        self.phase = .idle
    }

    /// The server is busy or has stopped reading: the client cannot make progress.
    public mutating func pause(at now: NIODeadline) {
        if self.pausedSince == nil {
            self.pausedSince = now
        }
    }

    /// The client can make progress again; the time paused is not counted against it.
    public mutating func resume(at now: NIODeadline) {
        guard let pausedSince = self.pausedSince else { return }
        self.pausedSince = nil
        let paused = now - pausedSince
        switch self.phase {
        case .idle:
            break
        case .line(let since):
            self.phase = .line(since: since + paused)
        case .data(let since, let octets):
            self.phase = .data(since: since + paused, octets: octets)
        }
    }
}
