/// What the pool's state machine needs to know about a connection.
protocol PooledConnection: AnyObject, Sendable {
    var isActive: Bool { get }
}

extension RedisConnection: PooledConnection {}
