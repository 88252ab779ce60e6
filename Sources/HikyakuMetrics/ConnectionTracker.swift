import NIOCore
import Synchronization

/// The open connections of a server, so that shutdown can close keep-alive connections
/// that would otherwise outlive the listening socket.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes. Returns false, and tracks nothing, once
    /// ``closeAll()`` has run: the caller must close the channel.
    func add(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let added = state.withLock { state in
            guard !state.isClosed else { return false }
            state.channels[id] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.channels.removeValue(forKey: id) }
            }
        }
        return added
    }

    /// Stops tracking and closes every open connection, waiting until they are closed.
    func closeAll() async {
        let channels = state.withLock { state in
            state.isClosed = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.close(promise: nil)
        }
        for channel in channels {
            try? await channel.closeFuture.get()
        }
    }
}
