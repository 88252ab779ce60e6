/// The Redis ACL users of Hikyaku's roles (Redis ≥ 7.0 `ACL SETUSER` / `aclfile` lines):
/// each role may run only the commands it needs, on only the keys it needs.
///
/// Functions run with their caller's rights (`redis.call` inside `FCALL` is checked
/// against the caller's ACL, key by key), so the key patterns below hold for the Lua
/// steps too. The patterns follow the key layout of `QueueKeys` (docs/KEY-LAYOUT.md):
///
/// | role | may write | may only read | may not touch |
/// |---|---|---|---|
/// | ingest (and api) | queue (`msg:`, `body:`, `rix:`, `tmp:`, `q:`, `ready:`, `wake:`, `depth:`, `events`), `quota:`, `authfail:`, `authok:`, `idem:`, `apirate:`, suppression lists (`sup:`, `supx:`, `supl`: `/v1/suppressions`) | accounts (`acct:`, `accounts`, `apikey:`), DKIM keys (`domain:`, `domains`) | worker state |
/// | worker | queue (`tmp:` only declared by the enqueue of a DSN to a sender), `deferred`, limits (`gcra:`, `conn:`, `warm:`, `slow:`, `susp:`, …), its identity (`node:`, `leases:`), `bounces:`, `acct:*:paused`, `acct:version`, suppression lists (the sweeper) | — | accounts and their password hashes, API keys, DKIM private keys |
/// | bounce | `events`, suppressions (`sup:`, `supx:`, `supl`), `bounces:`, `acct:*:paused`, `acct:version` | the recipient index (`rix:`) | queue, accounts, keys |
/// | webhooks | `webhooks` group state on `events` (read, acknowledge, `XTRIM`), outboxes, dead letters, retry state and leases (`webhook:`) | endpoints (`webhooks`, with their secrets) | queue, accounts, keys |
/// | archiver | `archiver` group state on `events` (read, acknowledge), its lease (`archiver:`) | — | queue, accounts, keys, webhooks |
/// | campaigns | the queue (enqueue, like ingest), `quota:`, campaigns (`camp:`, `campaigns`), `campaigns` group state on `events` | lists (`list:`, `lists:`), suppression lists, accounts, DKIM keys | worker state, API keys |
/// | console | its users (`cusers`, `cuser:`), sessions (`csess:`), `audit`, `authfail:`, `authok:`, `events`, suspensions (`susp:`, `ready:` to make destinations due), `acct:*:paused`, `acct:version`, `bounces:`, suppression lists, webhook endpoints (`webhooks`, `webhook:`), a campaign's state (`camp:<id>`, by `hkc_state`) | accounts (`acct:`, `accounts`), the queue's counts (`q:`, `deferred`, `depth:`, `slow:`, `conn:`, `warm:`), campaigns (`camp:`, `campaigns`) | messages, API keys, DKIM keys |
/// | admin | every `hk:` key; `FUNCTION LOAD` | | |
///
/// No role may `FLUSHALL`, `KEYS`, `CONFIG`, `DEBUG` or other `@dangerous` commands, use
/// Pub/Sub, or run `EVAL`; only admin may load functions (``FunctionLibraries``).
/// A role added later gets its own user here.
public struct RedisACL: Sendable {
    /// A Hikyaku role with its own Redis user.
    public struct Role: Sendable, Hashable {
        public let name: String
        public let commands: [String]
        /// `~pattern` (read and write) or `%R~pattern` (read only), without the prefix.
        public let keys: [String]
        let comment: String
    }

    public let prefix: String
    /// The prefix of the limit keys (``QueueKeys/limitsPrefix``), given to the patterns in
    /// ``limitPatterns``.
    public let limitsPrefix: String

    public init(prefix: String = QueueConfiguration().keyPrefix, limitsPrefix: String? = nil) {
        self.prefix = prefix
        self.limitsPrefix = limitsPrefix ?? prefix
    }

    /// The patterns (without prefix) of the keys under ``QueueKeys/limitsPrefix``.
    static let limitPatterns = Set(QueueKeys.limitStems.map { $0.hasSuffix(":") ? $0 + "*" : $0 })

    /// Commands every relay role needs besides functions: the handshake (`AUTH` is always
    /// allowed), `PING`, `TIME` (clock offset), `WAIT` (`redis.wait_replicas`), `ROLE`
    /// (the primary check behind Sentinel), and the plain reads and writes of the key
    /// patterns — minus everything `@dangerous` and every script command but `FCALL` and
    /// `FUNCTION LIST` —, and on a Redis Cluster `CLUSTER SLOTS` (the slot map) and `ASKING`
    /// (a slot being migrated).
    static let relayCommands =
        [
            "-@all", "+@read", "+@write", "-@dangerous", "-@scripting",
            "+fcall", "+fcall_ro", "+function|list", "+ping", "+select", "+time", "+wait", "+role",
        ] + clusterCommands

    static let clusterCommands = ["+cluster|slots", "+asking"]

    /// Keys both relay roles share: the messages and their work items.
    static let queueKeys = ["~msg:*", "~body:*", "~rix:*", "~q:*", "~ready:*", "~wake:*", "~depth:*", "~events"]

    public static let ingest = Role(
        name: "ingest", commands: relayCommands,
        keys: queueKeys + [
            "~tmp:*", "~quota:*", "~authfail:*", "~authok:*", "~idem:*", "~apirate:*", "~sup:*", "~supx:*", "~supl",
            "%R~acct:*", "%R~accounts", "%R~apikey:*", "%R~domain:*", "%R~domains",
        ],
        comment:
            "SMTP listeners and the HTTP API: enqueue, AUTH and API keys (reads accounts and key hashes), idempotency keys, per-key rates, DKIM signing (reads domain keys)"
    )

    public static let worker = Role(
        name: "worker", commands: relayCommands,
        keys: queueKeys + [
            "~tmp:*", "~deferred", "~scanned:*", "~gcra:*", "~conn:*", "~warm:*", "~slow:*", "~slowlock:*",
            "~susp:*", "~leaseseq", "~leases:*", "~node:*", "~egress:live", "~bounces:*", "~acct:*:paused", "~acct:version",
            "~sup:*", "~supx:*", "~supl",
        ],
        comment: "delivery: claims, limits, outcomes, the bounce-rate pause; no accounts, API keys or DKIM keys")

    public static let webhooks = Role(
        name: "webhooks", commands: relayCommands,
        keys: ["~events", "~webhook:*", "%R~webhooks"],
        comment: "the webhook dispatcher: reads events through its consumer group, trims them, fans out to outboxes, POSTs; reads endpoints"
    )

    public static let bounce = Role(
        name: "bounce", commands: relayCommands,
        keys: [
            "~events", "%R~rix:*", "~cmpl:*", "~bounces:*", "~acct:*:paused", "~acct:version", "~sup:*", "~supx:*", "~supl",
        ],
        comment:
            "the bounce listener: reads the recipient index VERP tokens point into; writes asynchronous bounce and complaint events, suppressions, the complaint-rate pause"
    )

    public static let archiver = Role(
        name: "archiver", commands: relayCommands,
        keys: ["~events", "~archiver:*"],
        comment: "the log archiver: reads events through its consumer group and acknowledges them; holds the SQLite archiver's lease")

    /// `camp:<id>` and nothing below it (`:done`, `:stats`, `:lease`): an id is `c` and 12
    /// characters (`Campaign.newID`), so 13 `?` match the hash `hkc_state` writes and no longer
    /// key. Read and write in one pattern: Redis wants a single pattern to grant every
    /// permission a key needs, and `FCALL`'s keys need both.
    static let campaignHash = "camp:" + String(repeating: "?", count: 13)

    /// Its operator pages do what `hikyaku queue|suspend|resume` and `account pause|resume`
    /// do, and its account pages what `/v1/suppressions`, `/v1/webhooks` and `/v1/campaigns`
    /// (show, pause, resume, cancel) do, with the same keys; messages, API keys and DKIM keys stay out of its reach.
    public static let console = Role(
        name: "console", commands: relayCommands,
        keys: [
            "~cusers", "~cuser:*", "~csess:*", "~audit", "~authfail:*", "~authok:*", "%R~acct:*", "%R~accounts", "~events",
            "~susp:*", "~ready:*", "%R~q:*", "%R~deferred", "%R~depth:*", "%R~slow:*", "%R~conn:*", "%R~warm:*",
            "~acct:*:paused", "~acct:version", "~bounces:*", "~sup:*", "~supx:*", "~supl", "~webhooks", "~webhook:*",
            "%R~camp:*", "%R~campaigns", "~" + campaignHash,
        ],
        comment:
            "the web console: its users and sessions, the login lockout, the audit log; reads accounts, events and campaigns; suspends and resumes, pauses accounts and campaigns, edits suppression lists and webhook endpoints"
    )

    public static let campaigns = Role(
        name: "campaigns", commands: relayCommands,
        keys: queueKeys + [
            "~quota:*", "~camp:*", "~campaigns", "%R~list:*", "%R~lists:*", "%R~sup:*", "%R~supx:*",
            "%R~acct:*", "%R~accounts", "%R~domain:*", "%R~domains",
        ],
        comment:
            "the campaign runner: enqueues rows through the intake (reads accounts, DKIM keys, suppression lists, the lists' rows), keeps campaign state and counters, counts events through its consumer group"
    )

    public static let admin = Role(
        name: "admin",
        commands: ["-@all", "+@read", "+@write", "+@scripting", "-@dangerous", "+ping", "+select", "+time", "+wait", "+role"]
            + clusterCommands,
        keys: ["~*"],
        comment: "operator commands (hikyaku queue, account, domain, …) and FUNCTION LOAD")

    public static let roles = [ingest, worker, webhooks, bounce, archiver, console, campaigns, admin]

    /// The user name of a role: `hikyaku-ingest`, `hikyaku-worker`, `hikyaku-webhooks`, `hikyaku-bounce`, `hikyaku-archiver`, `hikyaku-console`, `hikyaku-campaigns`, `hikyaku-admin`.
    public static func userName(_ role: Role) -> String { "hikyaku-\(role.name)" }

    /// One `aclfile` line (also valid after `ACL SETUSER`) for `role`, with the password
    /// in `>password` form (or `#sha256` if `password` starts with `#`).
    public func line(_ role: Role, password: String) -> String {
        let secret = password.hasPrefix("#") ? password : ">" + password
        var keys = role.keys.map { pattern -> String in
            let marker = pattern.firstIndex(of: "~")!
            let name = String(pattern[pattern.index(after: marker)...])
            return pattern[...marker] + (Self.limitPatterns.contains(name) ? limitsPrefix : prefix) + name
        }
        // `~*` (admin) covers every key of the prefix; with the limits elsewhere, theirs too.
        if limitsPrefix != prefix, role.keys.contains("~*") { keys.append("~" + limitsPrefix + "*") }
        return (["user", Self.userName(role), "on", secret, "resetkeys", "resetchannels"] + keys + role.commands)
            .joined(separator: " ")
    }

    /// The whole ACL file, a line per role, passwords from `password(role)`. No comments:
    /// Redis refuses them in an `aclfile`. The `default` user is left to the operator
    /// (README: turn it off, or give it a strong password).
    public func file(password: (Role) -> String) -> String {
        Self.roles.map { line($0, password: password($0)) + "\n" }.joined()
    }
}
