import RedisClient

/// Small helpers `QueueAdmin` uses on the queue's Redis, with errors as `QueueError`.
extension RedisClient {
    /// `FCALL name numkeys key… arg…`, every key the function touches declared.
    func adminCall(_ function: String, keys: [String], _ args: [RESPArgument]) async throws(QueueError) -> RESPValue {
        try await adminSend(MessageQueue.fcall(function, keys: keys, args))
    }

    func adminSend(_ command: RedisCommand) async throws(QueueError) -> RESPValue {
        do {
            return try await send(command)
        } catch let error as RedisError {
            if let message = error.serverMessage { throw .rejected(message) }
            throw .redis(error)
        } catch {
            throw .redis(error)
        }
    }

    func adminPipeline(_ commands: [RedisCommand]) async throws(QueueError) -> [RESPValue] {
        do { return try await pipeline(commands) } catch { throw .redis(error) }
    }

    /// Redis's clock (`TIME`), ms since 1970.
    func redisTime() async throws(QueueError) -> Int64 {
        let reply = try await adminSend(RedisCommand("TIME", []))
        guard let parts = reply.array, parts.count == 2,
            let seconds = parts[0].string.flatMap(Int64.init), let micros = parts[1].string.flatMap(Int64.init)
        else { throw .malformed("TIME returned \(reply)") }
        return seconds * 1000 + micros / 1000
    }

    /// Every key matching `pattern`, found with `SCAN … MATCH … COUNT` in steps, so Redis
    /// is never blocked the way `KEYS` would. A key may be reported twice by `SCAN`; the
    /// result has each once.
    func scanKeys(matching pattern: String, count: Int = 1000) async throws(QueueError) -> [String] {
        var cursor = "0"
        var seen = Set<String>()
        var keys: [String] = []
        repeat {
            let reply = try await adminSend(
                RedisCommand("SCAN", [.string(cursor), "MATCH", .string(pattern), "COUNT", .integer(Int64(count))]))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let page = parts[1].array else {
                throw .malformed("SCAN returned \(reply)")
            }
            for key in page.compactMap(\.string) where seen.insert(key).inserted { keys.append(key) }
            cursor = next
        } while cursor != "0"
        return keys
    }

    /// Walks a sorted set with `ZSCAN`, handing each page of (member, score) to `body`.
    func scanSortedSet(
        _ key: String, count: Int = 1000,
        _ body: ([(member: String, score: Double)]) async throws(QueueError) -> Void
    ) async throws(QueueError) {
        var cursor = "0"
        repeat {
            let reply = try await adminSend(RedisCommand("ZSCAN", [.string(key), .string(cursor), "COUNT", .integer(Int64(count))]))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
                throw .malformed("ZSCAN returned \(reply)")
            }
            var page: [(member: String, score: Double)] = []
            var index = 0
            while index + 1 < flat.count {
                if let member = flat[index].string, let score = flat[index + 1].string.flatMap(Double.init) {
                    page.append((member, score))
                }
                index += 2
            }
            try await body(page)
            cursor = next
        } while cursor != "0"
    }
}

extension String {
    /// The text as a `SCAN MATCH` glob that matches only itself.
    var globEscaped: String {
        var out = ""
        for character in self {
            if "*?[]\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
