import NIOCore
import Synchronization

/// The open client connections, so that a shutdown can close them all before the last
/// flush of the record file (a message answered `250` after it would be missing).
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes; closes it at once after ``closeAll()``.
    func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = self.state.withLock { state in
            guard !state.isClosed else { return false }
            state.channels[id] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            _ = self.state.withLock { $0.channels.removeValue(forKey: id) }
        }
    }

    /// Open connections now.
    var count: Int {
        self.state.withLock { $0.channels.count }
    }

    /// Closes every connection (and any registered later) and waits until they are closed.
    func closeAll() async {
        let channels = self.state.withLock { state in
            state.isClosed = true
            return Array(state.channels.values)
        }
        for channel in channels {
            try? await channel.close()
        }
        for channel in channels {
            try? await channel.closeFuture.get()
        }
    }
}
