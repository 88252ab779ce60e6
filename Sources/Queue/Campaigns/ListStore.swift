import Foundation
import RedisClient
import RelayCore

/// Recipient lists in Redis: a hash of facts and the rows in lists of ``chunkRows`` each
/// (`list:<account>:<name>:<n>`, each row a JSON array of the column values), so any runner
/// host reads row `r` with one `LINDEX`/`LRANGE` on chunk `r / 1000`. An import is written
/// in batches (bounded memory on both sides) and marked `ready` at its end.
///
/// ```
/// list:<a>:<n>        hash  columns (JSON), email_index, rows, state importing|ready, invalid, duplicates, suppressed
/// list:<a>:<n>:<k>    list  rows k*1000 … k*1000+999
/// list:<a>:<n>:seen   set   addresses of a running import (duplicate check), deleted at its end
/// lists:<a>           set   the account's list names
/// ```
public struct ListStore: Sendable {
    public static let chunkRows = 1000
    let redis: RedisClient
    let keys: QueueKeys

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.keys = configuration.keys
    }

    public struct Info: Sendable {
        public var name: String
        public var columns: [String]
        public var emailIndex: Int
        public var rows: Int
        public var state: String
        public var invalid: Int
        public var duplicates: Int
        public var suppressed: Int
    }

    /// Starts an import: refuses if the list exists.
    public func begin(account: String, name: String, columnsJSON: String, emailIndex: Int) async throws {
        let key = keys.list(account: account, name: name)
        let reply = try await redis.send(RedisCommand("HSETNX", [.string(key), "state", "importing"]))
        guard reply.int == 1 else { throw QueueError.rejected("list '\(name)' of account \(account) exists; delete it first") }
        _ = try await redis.pipeline([
            RedisCommand(
                "HSET",
                [
                    .string(key), "columns", .string(columnsJSON), "email_index", .integer(Int64(emailIndex)), "rows", "0", "invalid", "0",
                    "duplicates", "0", "suppressed", "0",
                ]),
            RedisCommand("SADD", [.string(keys.lists(account: account)), .string(name)]),
        ])
    }

    /// Which of `addresses` (lower-cased) are new to this import and not suppressed (the
    /// account's list or the global one): `.fresh`, `.duplicate` or `.suppressed` each.
    public enum Screening: Sendable { case fresh, duplicate, suppressed }

    public func screen(account: String, name: String, addresses: [String]) async throws -> [Screening] {
        guard !addresses.isEmpty else { return [] }
        let seen = keys.listSeen(account: account, name: name)
        var commands: [RedisCommand] = []
        for address in addresses {
            commands.append(RedisCommand("HEXISTS", [.string(keys.suppression(.account(account))), .string(address)]))
            commands.append(RedisCommand("HEXISTS", [.string(keys.suppression(.global)), .string(address)]))
            commands.append(RedisCommand("SADD", [.string(seen), .string(address)]))
        }
        let replies = try await redis.pipeline(commands)
        if let error = replies.compactMap(\.errorMessage).first { throw QueueError.rejected(error) }
        return stride(from: 0, to: replies.count, by: 3).map { i in
            if replies[i + 2].int == 0 { return .duplicate }
            if replies[i].int == 1 || replies[i + 1].int == 1 { return .suppressed }
            return .fresh
        }
    }

    /// Appends rows (JSON arrays) starting at row `first`; the caller cuts batches at chunk
    /// boundaries, so a batch goes to one chunk.
    public func append(
        account: String, name: String, first: Int, rows: [String], invalid: Int, duplicates: Int, suppressed: Int
    )
        async throws
    {
        var commands: [RedisCommand] = []
        if !rows.isEmpty {
            let chunk = keys.listChunk(account: account, name: name, chunk: first / Self.chunkRows)
            commands.append(RedisCommand("RPUSH", [.string(chunk)] + rows.map { .string($0) }))
        }
        let key = keys.list(account: account, name: name)
        commands += [
            RedisCommand("HINCRBY", [.string(key), "rows", .integer(Int64(rows.count))]),
            RedisCommand("HINCRBY", [.string(key), "invalid", .integer(Int64(invalid))]),
            RedisCommand("HINCRBY", [.string(key), "duplicates", .integer(Int64(duplicates))]),
            RedisCommand("HINCRBY", [.string(key), "suppressed", .integer(Int64(suppressed))]),
        ]
        let replies = try await redis.pipeline(commands)
        if let error = replies.compactMap(\.errorMessage).first { throw QueueError.rejected(error) }
    }

    public func finish(account: String, name: String) async throws {
        _ = try await redis.pipeline([
            RedisCommand("HSET", [.string(keys.list(account: account, name: name)), "state", "ready"]),
            RedisCommand("DEL", [.string(keys.listSeen(account: account, name: name))]),
        ])
    }

    public func info(account: String, name: String) async throws -> Info? {
        let fields = CampaignStore.hash(try await redis.send(RedisCommand("HGETALL", [.string(keys.list(account: account, name: name))])))
        guard let state = fields["state"] else { return nil }
        let columns = fields["columns"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        return Info(
            name: name, columns: columns, emailIndex: Int(fields["email_index"] ?? "") ?? 0, rows: Int(fields["rows"] ?? "") ?? 0,
            state: state, invalid: Int(fields["invalid"] ?? "") ?? 0, duplicates: Int(fields["duplicates"] ?? "") ?? 0,
            suppressed: Int(fields["suppressed"] ?? "") ?? 0)
    }

    public func names(account: String) async throws -> [String] {
        let reply = try await redis.send(RedisCommand("SMEMBERS", [.string(keys.lists(account: account))]))
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Rows `from ..< from + count` (fewer at the end of the list), as stored.
    public func rows(account: String, name: String, from: Int, count: Int) async throws -> [String] {
        guard count > 0 else { return [] }
        var commands: [RedisCommand] = []
        var row = from
        let end = from + count
        while row < end {
            let chunk = row / Self.chunkRows
            let last = min(end, (chunk + 1) * Self.chunkRows) - 1
            commands.append(
                RedisCommand(
                    "LRANGE",
                    [
                        .string(keys.listChunk(account: account, name: name, chunk: chunk)), .integer(Int64(row % Self.chunkRows)),
                        .integer(Int64(last % Self.chunkRows)),
                    ]))
            row = last + 1
        }
        let replies = try await redis.pipeline(commands)
        return replies.flatMap { ($0.array ?? []).compactMap(\.string) }
    }

    /// The stored rows `rows` (any order; a row past the end is missing from the answer).
    public func rows(account: String, name: String, at rows: [Int]) async throws -> [Int: String] {
        guard !rows.isEmpty else { return [:] }
        let replies = try await redis.pipeline(
            rows.map { row in
                RedisCommand(
                    "LINDEX",
                    [
                        .string(keys.listChunk(account: account, name: name, chunk: row / Self.chunkRows)),
                        .integer(Int64(row % Self.chunkRows)),
                    ])
            })
        var out: [Int: String] = [:]
        for (row, reply) in zip(rows, replies) { if let text = reply.string { out[row] = text } }
        return out
    }

    /// Deletes the list: its chunks (in batches), the facts, the name.
    public func delete(account: String, name: String) async throws {
        let rows = try await info(account: account, name: name)?.rows ?? 0
        let chunks = (rows + Self.chunkRows - 1) / Self.chunkRows
        var chunk = 0
        while chunk <= chunks {
            let keys = (chunk..<min(chunk + 500, chunks + 1)).map {
                RESPArgument.string(self.keys.listChunk(account: account, name: name, chunk: $0))
            }
            _ = try await redis.send(RedisCommand("UNLINK", keys))
            chunk += 500
        }
        _ = try await redis.pipeline([
            RedisCommand(
                "UNLINK", [.string(keys.list(account: account, name: name)), .string(keys.listSeen(account: account, name: name))]),
            RedisCommand("SREM", [.string(keys.lists(account: account)), .string(name)]),
        ])
    }
}
