import RelayCore

/// One egress pool in a `QueueReport`.
public struct PoolReport: Sendable, Hashable, Encodable {
    public var pool: PoolName
    /// Recipients accepted into the pool and not yet final (`depth:<pool>`).
    public var depth: Int
    /// Destinations with queued or deferred work, most work first.
    public var destinations: [DestinationReport]

    public init(pool: PoolName, depth: Int, destinations: [DestinationReport]) {
        self.pool = pool
        self.depth = depth
        self.destinations = destinations
    }
}
