import RedisClient

/// The three Redis Functions libraries and how a connection makes sure they are loaded.
///
/// Functions run with the rights of the user who calls them, but whoever may
/// `FUNCTION LOAD` may put code into a function the admin user calls later. So only the
/// admin user (README, "Redis TLS and ACL users") may load them; the ingest and worker
/// users may only `FUNCTION LIST`. Every new connection compares the loaded code with
/// this build's (one `FUNCTION LIST WITHCODE`) and loads what differs — which succeeds
/// for the admin user or a user with every right (the default user without ACL), and
/// otherwise fails with ``QueueError`` telling the operator to run
/// `hikyaku redis load-functions` once with the admin user's URL.
///
/// ```
/// C: FUNCTION LIST WITHCODE
/// S: *3 (library_name hikyaku … library_code "#!lua name=hikyaku …") …
/// C: FUNCTION LOAD REPLACE "#!lua name=hikyaku_admin …"      (only if it differs)
/// S: +hikyaku_admin        or   -NOPERM … (ingest/worker users)
/// ```
public enum FunctionLibraries {
    /// Library name and code: the `.lua` files of `Sources/Queue/Lua`, embedded at build
    /// time (`scripts/generate-lua.py`).
    public static let all: [(name: String, source: String)] = LuaLibraries.all

    /// Loads every library whose code in Redis is missing or differs; returns their names.
    ///
    /// - Throws: ``QueueError`` when a library is missing or stale and this user may not load it.
    @discardableResult
    public static func ensureLoaded(on connection: RedisConnection) async throws -> [String] {
        let loaded = Self.loadedCode(try await connection.send(RedisCommand("FUNCTION", ["LIST", "WITHCODE"])))
        var replaced: [String] = []
        for library in all where loaded[library.name] != library.source {
            do {
                _ = try await connection.send(RedisCommand("FUNCTION", ["LOAD", "REPLACE", .string(library.source)]))
            } catch let error as RedisError where error.serverErrorPrefix == "NOPERM" {
                throw QueueError.rejected(
                    "the Redis function library '\(library.name)' of this version is \(loaded[library.name] == nil ? "not loaded" : "outdated")"
                        + " and this Redis user may not load it (FUNCTION LOAD is the admin user's right);"
                        + " run `hikyaku redis load-functions` with the admin user's URL")
            }
            replaced.append(library.name)
        }
        return replaced
    }

    /// `library_name` → `library_code` from a `FUNCTION LIST WITHCODE` reply (RESP2:
    /// an array of flat name/value arrays).
    static func loadedCode(_ reply: RESPValue) -> [String: String] {
        var code: [String: String] = [:]
        for library in reply.array ?? [] {
            guard let fields = library.array else { continue }
            var name: String?
            var source: String?
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                switch fields[index].string {
                case "library_name": name = fields[index + 1].string
                case "library_code": source = fields[index + 1].string
                default: break
                }
            }
            if let name, let source { code[name] = source }
        }
        return code
    }
}
