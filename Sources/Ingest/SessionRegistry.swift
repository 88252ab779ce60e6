import NIOCore
import SMTPServer
import Synchronization

/// The open sessions of one listener, so that a graceful shutdown can tell each one to
/// finish (``SMTPServerHandler/ShutdownEvent``) and wait until they have.
final class SessionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    private let state = Mutex(State())

    /// True once the listener shuts down: a session that opens now gets `421` at once.
    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    var count: Int { state.withLock { $0.channels.count } }

    func add(_ channel: any Channel) {
        state.withLock { $0.channels[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks the listener as shutting down and tells every open session.
    func shutDown() {
        let channels = state.withLock { state -> [any Channel] in
            state.shuttingDown = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownEvent())
        }
    }

    /// Waits until every session has closed, at most `timeout` (not at all once the task is
    /// cancelled); then closes the rest. Returns how many had to be closed.
    func drain(timeout: Duration) async -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while count > 0, clock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = state.withLock { Array($0.channels.values) }
        for channel in left { channel.close(promise: nil) }
        return left.count
    }
}
