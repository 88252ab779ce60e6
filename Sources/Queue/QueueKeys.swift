import RelayCore

/// Every Redis key name Hikyaku uses, built in this one place (docs/KEY-LAYOUT.md has the
/// layout, which role touches what, and the rule for Redis Cluster). Callers pass these
/// names to the functions as `KEYS`; a function derives a key itself only where the name
/// depends on what it reads inside the call (Redis's clock, a set's members) — it then
/// gets the stem from here (the `…Stem` members) and appends the rest.
///
/// `<unit>` is a ``DeliveryUnit``: `<egress>|<site>`.
public struct QueueKeys: Sendable, Hashable {
    /// Prepended to every key (`redis.key_prefix`, default `hk:`) but the limit keys.
    public let prefix: String
    /// Prepended to the limit keys: the rates, connection and identity leases, warm-up
    /// counts, slowdowns and suspensions a claim reads and charges (`redis.limits_key_prefix`,
    /// default ``prefix``). On a Redis Cluster a prefix with another hash tag puts them in
    /// a slot of their own, on whichever primary serves it; the worker then claims in
    /// three steps (``splitClaim``).
    public let limitsPrefix: String

    public init(prefix: String, limitsPrefix: String? = nil) {
        self.prefix = prefix
        self.limitsPrefix = limitsPrefix ?? prefix
    }

    /// The names (after the prefix) that start the limit keys, which take ``limitsPrefix``.
    public static let limitStems = ["gcra:", "conn:", "warm:", "slow:", "slowlock:", "susp:", "leaseseq", "leases:", "egress:live"]
    /// The names that start the queued mail and its work: what `hikyaku redis move-queue`
    /// moves and `copy-keys --keys state` leaves out.
    public static let queueStems = ["msg:", "body:", "tmp:", "q:", "ready:", "wake:", "depth:", "deferred", "scanned:"]
    /// A running worker's identity and connection leases: meaningless in another Redis.
    public static let workerStems = ["node:", "leases:", "leaseseq", "conn:", "egress:live"]

    /// Whether `name` (a key without its prefix) starts with one of `stems`.
    public static func name(_ name: some StringProtocol, startsWithOneOf stems: [String]) -> Bool {
        stems.contains { name.hasPrefix($0) }
    }

    /// The limit keys live apart from the queue's (``limitsPrefix`` differs), so no
    /// function may touch both: a claim is `hk_claim_limits`, `hk_claim_entries`,
    /// `hk_claim_settle` instead of one `hk_claim`, and the steps that write a limit key
    /// and an event do each in its own call.
    public var splitClaim: Bool { limitsPrefix != prefix }

    // MARK: Messages and their work

    /// Hash: sender, Message-ID, pool, acceptance time, size, `remaining` recipients.
    public func message(_ id: QueueID) -> String { prefix + "msg:" + id.rawValue }
    /// String: the message as it will be sent, stored once.
    public func body(_ id: QueueID) -> String { prefix + "body:" + id.rawValue }
    /// String: a large body being streamed in (`APPEND`), renamed to `body:` at acceptance.
    public func streamedBody(_ id: QueueID) -> String { prefix + "tmp:" + id.rawValue }
    /// Stream with consumer group `workers`: one entry per (message, recipient domain).
    public func stream(pool: PoolName, domain: DomainName) -> String { streamStem + pool.rawValue + ":" + domain.rawValue }
    /// Sorted set: the pool's domains with work, scored by when they are next due (ms).
    public func ready(pool: PoolName) -> String { readyStem + pool.rawValue }
    /// List: at most one token, left when a destination of the pool becomes due sooner than
    /// anything was (enqueue, a retry made due, a claim's re-score); an idle worker blocks
    /// on it (`BLPOP`) instead of polling `ready:`, and a token wakes one worker.
    public func wake(pool: PoolName) -> String { wakeStem + pool.rawValue }
    /// Counter: recipients accepted into the pool and not yet final.
    public func depth(pool: PoolName) -> String { depthStem + pool.rawValue }
    /// Sorted set: work waiting for a retry (``DeferredMember``), scored by due time (ms).
    public var deferred: String { prefix + "deferred" }
    /// Stream: one JSON event per outcome (field `e`).
    public var events: String { prefix + "events" }
    /// Hash: a VERP message's recipient index — `a` account, `s` original envelope sender,
    /// `m` Message-ID, `r` the recipients joined by LF (a VERP token's recipient index is a
    /// position in `r`). Written at enqueue; expires `bounces.window` after the message's
    /// last recipient is final, so late bounces still resolve.
    public func recipientIndex(_ id: QueueID) -> String { prefix + "rix:" + id.rawValue }
    /// String `1`, expiring: a complaint about this message and recipient (`<recipient>`
    /// lower-cased, or `*` when redacted) was counted, so a repeated report counts nothing.
    public func complaintSeen(_ id: QueueID, _ to: String?) -> String { prefix + "cmpl:" + id.rawValue + ":" + (to?.lowercased() ?? "*") }
    /// `done` while a recent look for a dead worker's entries makes another unnecessary.
    public func scanned(pool: PoolName, domain: DomainName) -> String { prefix + "scanned:" + pool.rawValue + ":" + domain.rawValue }

    public var messageStem: String { prefix + "msg:" }
    public var bodyStem: String { prefix + "body:" }
    public var streamStem: String { prefix + "q:" }
    public var readyStem: String { prefix + "ready:" }
    public var depthStem: String { prefix + "depth:" }
    public var wakeStem: String { prefix + "wake:" }

    // MARK: Workers

    /// String: the token of the process holding the worker identity, expiring unless renewed.
    public func node(_ name: String) -> String { prefix + "node:" + name }
    /// Sorted set: egress IPs of live workers, scored by when that stops being so (ms) —
    /// renewed with the worker's identity; the IPs a pinned retry may wait for.
    public var egressLive: String { limitsPrefix + "egress:live" }
    /// Set: `<unit>\n<lease>` of the connection leases a worker identity holds.
    public func leases(consumer: String) -> String { limitsPrefix + "leases:" + consumer }
    /// Counter behind lease names (`<consumer>#<n>`).
    public var leaseSequence: String { limitsPrefix + "leaseseq" }
    /// Sorted set: connection leases of an (IP, site) unit, scored by expiry (ms).
    public func connections(unit: DeliveryUnit) -> String { connectionsStem + unit.rawValue }
    public var connectionsStem: String { limitsPrefix + "conn:" }

    // MARK: Limits and backoff

    /// GCRA theoretical arrival times (µs).
    public func ipRate(unit: DeliveryUnit) -> String { limitsPrefix + "gcra:ip:" + unit.rawValue }
    public func siteRate(site: SiteName) -> String { limitsPrefix + "gcra:site:" + site.rawValue }
    public func connectionRate(unit: DeliveryUnit) -> String { limitsPrefix + "gcra:conn:" + unit.rawValue }
    /// Messages sent by an IP in a UTC day (warm-up cap).
    public func warmup(egress: EgressID, day: Int64) -> String { limitsPrefix + "warm:" + egress.rawValue + ":" + String(day) }
    /// The (IP, site) rate factor of adaptive backoff, and its once-per-tenth lock.
    public func slowdown(unit: DeliveryUnit) -> String { slowdownStem + unit.rawValue }
    public var slowdownStem: String { limitsPrefix + "slow:" }
    public func slowdownLock(unit: DeliveryUnit) -> String { limitsPrefix + "slowlock:" + unit.rawValue }
    /// Present while suspended; the value says why.
    public func suspendedSite(_ site: SiteName) -> String { suspendedStem + "site:" + site.rawValue }
    public func suspendedIP(unit: DeliveryUnit) -> String { suspendedStem + "ip:" + unit.rawValue }
    public func suspendedIPEverywhere(_ egress: EgressID) -> String { suspendedStem + "ipall:" + egress.rawValue }
    /// What every suspension key starts with (`site:`, `ip:` or `ipall:` follows).
    public var suspendedStem: String { limitsPrefix + "susp:" }

    // MARK: Accounts, keys, AUTH

    /// Set: every account name.
    public var accounts: String { prefix + "accounts" }
    /// String: the account as JSON.
    public func account(_ name: String) -> String { prefix + "acct:" + name }
    /// String: the `paused` event while the account is paused.
    public func accountPaused(_ name: String) -> String { prefix + "acct:" + name + ":paused" }
    /// Hash: API key id → SHA-256 of the key.
    public func accountAPIKeys(_ name: String) -> String { prefix + "acct:" + name + ":apikeys" }
    /// Counter bumped on every change of accounts or domains (ingest nodes reload).
    public var accountsVersion: String { prefix + "acct:version" }
    /// String: `{account, id, label, created_at}` of an API key, by its SHA-256.
    public func apiKey(hash: String) -> String { apiKeyStem + hash }
    public var apiKeyStem: String { prefix + "apikey:" }
    /// Set: every sending domain; string: a domain and its DKIM keys as JSON.
    public var domains: String { prefix + "domains" }
    public func sendingDomain(_ name: String) -> String { prefix + "domain:" + name }
    /// Counters of recipients accepted (hk_enqueue) per clock hour and UTC day.
    public func quota(account: String, hour: Int64) -> String { quotaStem(account: account) + "h:" + String(hour) }
    public func quota(account: String, day: Int64) -> String { quotaStem(account: account) + "d:" + String(day) }
    public func quotaStem(account: String) -> String { prefix + "quota:" + account + ":" }
    /// Hash: `delivered`, `bounced` per hour (hk_complete), for the bounce-rate pause.
    public func bounces(account: String, hour: Int64) -> String { bouncesStem(account: account) + String(hour) }
    public func bouncesStem(account: String) -> String { prefix + "bounces:" + account + ":" }
    public var bouncesStem: String { prefix + "bounces:" }
    /// Hash: AUTH failures (`n`) and lockout (`until`, ms) of a client address (its /64) or user.
    public func authFailures(address: String) -> String { prefix + "authfail:ip:" + address }
    public func authFailures(user: String) -> String { prefix + "authfail:user:" + user }
    // MARK: HTTP API

    /// String: an `Idempotency-Key`'s state and answer (JSON), per account; the key itself
    /// is kept as its SHA-256, so a client's choice of key never shapes a key name.
    public func idempotency(account: String, keyHash: String) -> String { prefix + "idem:" + account + ":" + keyHash }
    /// GCRA theoretical arrival time (µs) of an API key's request rate.
    public func apiRate(keyID: String) -> String { prefix + "apirate:" + keyID }

    /// String: `user` logged in from `address` recently (no `|` in an address, so one pair only).
    public func authKnown(address: String, user: String) -> String { prefix + "authok:" + address + "|" + user }

    // MARK: Suppression lists

    /// Hash: lower-cased address → the entry as JSON (``SuppressionEntry``), of an
    /// account's list or the global one (``SuppressionScope/listName``: `@global`).
    public func suppression(_ scope: SuppressionScope) -> String { prefix + "sup:" + scope.listName }
    /// Sorted set: the list's addresses that expire, scored by expiry (ms).
    public func suppressionExpiry(_ scope: SuppressionScope) -> String { prefix + "supx:" + scope.listName }
    /// Set: the lists that have expiring entries (what the sweeper visits).
    public var suppressionLists: String { prefix + "supl" }

    // MARK: Web console

    /// Set: every console login name; string: a console user as JSON (`ConsoleUser`).
    public var consoleUsers: String { prefix + "cusers" }
    public func consoleUser(_ name: String) -> String { prefix + "cuser:" + name }
    /// String: a console session as JSON, expiring after `console.session_ttl`. The id is
    /// 32 random bytes in hex (the `hk_session` cookie).
    public func consoleSession(_ id: String) -> String { prefix + "csess:" + id }
    /// Stream: the audit log of console and operator actions that change something.
    public var audit: String { prefix + "audit" }

    // MARK: Webhooks

    /// Hash: webhook endpoint id → the endpoint as JSON (account, URL, events, secrets).
    public var webhooks: String { prefix + "webhooks" }
    /// List: events waiting to be POSTed to an endpoint (`{"event_id":…}` JSON), oldest first.
    public func webhookOutbox(_ id: String) -> String { prefix + "webhook:" + id + ":out" }
    /// List: events an endpoint refused or that failed for `webhooks.retry_for` (`replay` requeues them).
    public func webhookDead(_ id: String) -> String { prefix + "webhook:" + id + ":dead" }
    /// Hash: `attempts`, `first` (first failure, ms), `next` (next try, ms) while a POST keeps failing.
    public func webhookState(_ id: String) -> String { prefix + "webhook:" + id + ":state" }
    /// String: the token of the dispatcher sending to the endpoint, expiring unless renewed.
    public func webhookLease(_ id: String) -> String { prefix + "webhook:" + id + ":lease" }

    // MARK: Campaigns and lists (README "Campaigns")

    /// Set: every campaign id.
    public var campaigns: String { prefix + "campaigns" }
    /// Hash: a campaign — `def` (JSON), `state`, `cursor` (rows before it are all settled), `rows`, `reason`.
    public func campaign(_ id: String) -> String { prefix + "camp:" + id }
    /// Bitmap: bit n set once row n is enqueued or settled (hk_enqueue's once mark).
    public func campaignDone(_ id: String) -> String { prefix + "camp:" + id + ":done" }
    /// Hash: counters — `queued`, `suppressed` (hk_enqueue), outcomes by event, `<event>|<domain>`.
    public func campaignStats(_ id: String) -> String { prefix + "camp:" + id + ":stats" }
    /// String: the token of the runner holding the campaign, expiring unless renewed.
    public func campaignLease(_ id: String) -> String { prefix + "camp:" + id + ":lease" }
    /// String: the token of the runner counting campaign events (one at a time).
    public var campaignCounterLease: String { prefix + "camp:@counter:lease" }
    /// Set: the names of an account's lists.
    public func lists(account: String) -> String { prefix + "lists:" + account }
    /// Hash: a list's columns (JSON), `email_index`, `rows`, `state`, and the import's counts.
    public func list(account: String, name: String) -> String { prefix + "list:" + account + ":" + name }
    /// List: rows `chunk * 1000 …` of a list, each a JSON array of the column values.
    public func listChunk(account: String, name: String, chunk n: Int) -> String { prefix + "list:" + account + ":" + name + ":\(n)" }
    /// Set: lower-cased addresses seen by a running import (duplicates), deleted at its end.
    public func listSeen(account: String, name: String) -> String { prefix + "list:" + account + ":" + name + ":seen" }

    // MARK: Archiver

    /// String: the token of the one SQLite archiver running, expiring unless renewed.
    public var archiverLease: String { prefix + "archiver:lease" }
}

extension QueueConfiguration {
    /// The key names under this configuration's `keyPrefix` and `limitsKeyPrefix`.
    public var keys: QueueKeys { QueueKeys(prefix: keyPrefix, limitsPrefix: limitsKeyPrefix) }
}
