import DKIM
import Hummingbird
import Ingest
import Logging
import Queue
import RelayCore
import Synchronization

/// `Authorization: Bearer <key>` (RFC 6750 §2.1) → the key's account and scopes. Keys are
/// stored only as their SHA-256 (`apikey:<hex>`), so the lookup hashes what the client sent.
/// Answers are cached for a few seconds per node: a revoked key stops working within
/// ``cacheTime`` everywhere, and a flood of requests with one key costs one Redis read per
/// node per interval. Unknown keys are cached too (an attacker's guesses cost nothing).
final class APIKeyAuthenticator: Sendable {
    private let store: AccountStore
    private let accounts: AccountDirectory
    private let cache = Mutex<[String: (found: APIKeyLookup?, expires: ContinuousClock.Instant)]>([:])
    static let cacheTime = Duration.seconds(5)
    /// Entries kept at most (the cache is emptied when full: simple and bounded).
    static let cacheLimit = 10_000

    init(store: AccountStore, accounts: AccountDirectory) {
        self.store = store
        self.accounts = accounts
    }

    struct APIKeyLookup: Sendable {
        var info: AccountStore.APIKeyInfo
    }

    /// The caller behind `authorization`, or why not (401 unknown key, 403 paused or
    /// deleted account, 503 Redis down).
    func authenticate(authorization: String?) async throws(APIError) -> APICaller {
        guard let authorization, let key = Self.bearerToken(authorization) else { throw APIError.unauthorized }
        let hash: String
        do { hash = try Digest.sha256Hex(key) } catch { throw APIError.unauthorized }
        let now = ContinuousClock.now
        let cached = cache.withLock { $0[hash] }
        let lookup: APIKeyLookup?
        if let cached, cached.expires > now {
            lookup = cached.found
        } else {
            do {
                lookup = try await store.apiKey(hash: hash).map(APIKeyLookup.init)
            } catch {
                throw APIError.redisUnavailable()
            }
            cache.withLock {
                if $0.count >= Self.cacheLimit { $0.removeAll(keepingCapacity: true) }
                $0[hash] = (lookup, now + Self.cacheTime)
            }
        }
        guard let info = lookup?.info else {
            throw APIError(.unauthorized, "unauthorized", "the API key is not valid (unknown or revoked)")
        }
        guard let account = accounts.account(named: info.account) else {
            throw APIError.forbidden("the key's account '\(info.account)' does not exist")
        }
        let scopes = Set((info.scopes ?? AccountStore.APIKeyInfo.legacyScopes).compactMap(APIScope.init(rawValue:)))
        return APICaller(account: account, keyID: info.id, scopes: scopes, rate: info.rate)
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1).
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 512, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return String(token)
    }
}
