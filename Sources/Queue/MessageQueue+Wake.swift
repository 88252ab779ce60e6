import RedisClient
import RelayCore

/// How an idle worker learns that a destination became due without polling: the steps that
/// make one due sooner than anything was (enqueue, a retry made due, a claim's re-score)
/// leave a token in the pool's `wake:<pool>` list (one at most), and the worker blocks on
/// those lists with `BLPOP`, which hands a token to exactly one blocked client.
///
///     C: BLPOP hk:wake:default hk:wake:bulk 2
///     S: *2 $15 hk:wake:default $1 1        (or a nil array after 2 s)
///
/// `BLPOP` holds its connection, so the listener has one of its own, kept open across waits.
public struct WakeListener: Sendable {
    let connection: RedisConnection
    let keys: QueueKeys

    /// Waits up to `timeout` (whole seconds: Redis checks blocking timeouts ten times a
    /// second, so finer ones are not kept anyway) for a token of one of `pools`; returns its
    /// pool, or nil at the timeout.
    public func wait(pools: [PoolName], timeout: Duration) async throws(QueueError) -> PoolName? {
        let seconds = max(1, timeout.components.seconds)
        let reply: RESPValue
        do {
            reply = try await connection.send(RedisCommand("BLPOP", pools.map { .string(keys.wake(pool: $0)) } + [.integer(seconds)]))
        } catch {
            throw MessageQueue.queueError(error)
        }
        guard let parts = reply.array, parts.count == 2, let key = parts[0].string else { return nil }
        return pools.first { keys.wake(pool: $0) == key }
    }

    /// Leaves the token back for another worker (this one had no idle loop to use it).
    public func passOn(pool: PoolName) async throws(QueueError) {
        do {
            _ = try await connection.send(MessageQueue.fcall("hk_wake", keys: [keys.wake(pool: pool)], []))
        } catch {
            throw MessageQueue.queueError(error)
        }
    }

    /// Closes the connection; a wait in progress ends with an error.
    public func close() async {
        await connection.close()
    }
}

extension MessageQueue {
    /// Runs `body` with a ``WakeListener`` on a connection of its own, closed afterwards.
    public func withWakeListener<T>(_ body: (WakeListener) async throws -> T) async throws -> T {
        let keys = self.keys
        return try await redis.withDedicatedConnection { connection in
            try await body(WakeListener(connection: connection, keys: keys))
        }
    }
}
