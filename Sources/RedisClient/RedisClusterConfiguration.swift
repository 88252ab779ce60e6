/// How to reach a Redis Cluster (https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/):
/// a few of its nodes to learn the slot map from, and the key whose slot answers commands
/// that name no key.
public struct RedisClusterConfiguration: Sendable, Hashable {
    /// Nodes to ask for the slot map (`CLUSTER SLOTS`) when the client starts and whenever
    /// the nodes it knows stop answering; any primary or replica will do. Later maps are
    /// asked of the primaries the client has learnt first, then of these.
    public var seeds: [RedisAddress]
    /// Commands without a key (`PING`, `TIME`, `SCAN`, `WAIT` on its own) go to the primary of
    /// this key's slot. Hikyaku passes its key prefix, whose hash tag (`hk:{q1}:`) is the
    /// slot of every key it uses, so `SCAN` sees its keys and `WAIT` follows its writes.
    public var homeKey: String

    public init(seeds: [RedisAddress], homeKey: String = "") {
        self.seeds = seeds
        self.homeKey = homeKey
    }

    /// The slot of ``homeKey``.
    var homeSlot: HashSlot { HashSlot(key: homeKey) }
}
