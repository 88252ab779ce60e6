import Queue
import Testing

/// The ACL users' key patterns against the key layout the functions use: a key added to a
/// function library without a pattern for the relay role that touches it would make that
/// role fail with NOPERM in production (and in Tests/integration/test_redis_tls.py).
struct RedisACLTests {
    /// Key names the Lua code builds (`prefix .. 'msg:' .. qid`), one sample key each.
    static func keysInFunctions() -> [String] {
        var keys = Set<String>()
        for library in FunctionLibraries.all {
            for marker in ["prefix .. '", "args[1] .. '"] {
                var rest = Substring(library.source)
                while let start = rest.firstRange(of: marker) {
                    rest = rest[start.upperBound...]
                    guard let end = rest.firstIndex(of: "'") else { break }
                    let name = String(rest[..<end])
                    keys.insert(name.hasSuffix(":") ? name + "x" : name)
                }
            }
        }
        return keys.sorted()
    }

    /// Redis glob with `*` only (all the patterns use).
    static func glob(_ pattern: Substring, _ text: Substring) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
        let head = pattern[..<star]
        guard text.hasPrefix(head) else { return false }
        let tail = pattern[pattern.index(after: star)...]
        var rest = text.dropFirst(head.count)
        while true {
            if glob(tail, rest) { return true }
            guard !rest.isEmpty else { return false }
            rest = rest.dropFirst()
        }
    }

    static func covers(_ role: RedisACL.Role, _ key: String) -> Bool {
        role.keys.contains { pattern in glob(pattern[pattern.index(after: pattern.firstIndex(of: "~")!)...], Substring(key)) }
    }

    @Test func everyKeyTheFunctionsUseIsReachableByARelayRole() {
        let keys = Self.keysInFunctions()
        #expect(keys.count > 20, "\(keys)")
        for key in keys {
            #expect(Self.covers(RedisACL.ingest, key) || Self.covers(RedisACL.worker, key),
                    "no relay role may touch hk:\(key): add its pattern to RedisACL")
            #expect(Self.covers(RedisACL.admin, key))
        }
    }

    @Test func theWorkerReachesNoSecret() {
        for key in ["domain:example.com", "domains", "acct:tenant", "acct:tenant:apikeys", "apikey:abc", "accounts", "tmp:x",
                    "authfail:user:x"] {
            #expect(!Self.covers(RedisACL.worker, key), "worker may touch hk:\(key)")
        }
        #expect(Self.covers(RedisACL.worker, "acct:tenant:paused"))
        // Ingest reads the accounts and keys, never writes them.
        for key in ["domain:example.com", "acct:tenant", "apikey:abc"] {
            #expect(!RedisACL.ingest.keys.contains { $0.hasPrefix("~") && Self.glob(Substring($0.dropFirst()), Substring(key)) })
            #expect(Self.covers(RedisACL.ingest, key))
        }
    }

    @Test func linesCarryThePrefixAndHashedPasswords() {
        let line = RedisACL(prefix: "relay1:").line(RedisACL.worker, password: "#" + String(repeating: "a", count: 64))
        #expect(line.hasPrefix("user hikyaku-worker on #aaaa"))
        #expect(line.contains(" ~relay1:q:* ") && line.contains(" ~relay1:acct:*:paused "))
        #expect(!line.contains("~hk:"))
        #expect(line.contains(" -@dangerous ") && line.contains(" +fcall ") && !line.contains("+@all"))
    }
}
