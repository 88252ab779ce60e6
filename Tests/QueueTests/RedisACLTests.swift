import Foundation
import Queue
import RelayCore
import Testing

/// The ACL users' key patterns against the key layout (`QueueKeys`): a key added without a
/// pattern for the relay role that touches it would make that role fail with NOPERM in
/// production (and in Tests/integration/test_redis_tls.py).
struct RedisACLTests {
    /// One sample of every key name `QueueKeys` builds (prefix ''), in the order of its members.
    static func sampleKeys() -> [String] {
        let k = QueueKeys(prefix: "")
        let id = QueueID(rawValue: "Q1")
        let unit = DeliveryUnit(egress: "i", site: "s")
        return [
            k.message(id), k.body(id), k.streamedBody(id), k.stream(pool: "p", domain: "d"), k.ready(pool: "p"),
            k.depth(pool: "p"), k.deferred, k.events, k.recipientIndex(id), k.scanned(pool: "p", domain: "d"),
            k.messageStem + "x", k.bodyStem + "x", k.streamStem + "x", k.readyStem + "x", k.depthStem + "x",
            k.wake(pool: "p"), k.wakeStem + "x",
            k.node("n/1"), k.egressLive, k.leases(consumer: "n/1"), k.leaseSequence, k.connections(unit: unit), k.connectionsStem + "x",
            k.ipRate(unit: unit), k.siteRate(site: "s"), k.connectionRate(unit: unit), k.warmup(egress: "i", day: 1),
            k.slowdown(unit: unit), k.slowdownStem + "x", k.slowdownLock(unit: unit), k.suspendedSite("s"), k.suspendedIP(unit: unit),
            k.suspendedIPEverywhere("i"), k.suspendedStem + "x",
            k.accounts, k.account("a"), k.accountPaused("a"), k.accountAPIKeys("a"), k.accountsVersion,
            k.apiKey(hash: "h"), k.apiKeyStem + "x", k.domains, k.sendingDomain("d"),
            k.quota(account: "a", hour: 1), k.quota(account: "a", day: 1), k.quotaStem(account: "a") + "x",
            k.bounces(account: "a", hour: 1), k.bouncesStem(account: "a") + "1", k.bouncesStem + "a:1",
            k.authFailures(address: "i"), k.authFailures(user: "u"), k.authKnown(address: "i", user: "u"),
            k.idempotency(account: "a", keyHash: "h"), k.apiRate(keyID: "k"),
            k.webhooks, k.webhookOutbox("w"), k.webhookDead("w"), k.webhookState("w"), k.webhookLease("w"),
            k.suppression(.account("a")), k.suppressionExpiry(.global), k.suppressionLists, k.archiverLease,
            k.consoleUsers, k.consoleUser("u"), k.consoleSession("s"), k.audit, k.complaintSeen(id, "r@x"),
            k.campaigns, k.campaign("c1"), k.campaignDone("c1"), k.campaignStats("c1"), k.campaignLease("c1"), k.campaignCounterLease,
            k.lists(account: "a"), k.list(account: "a", name: "l"), k.listChunk(account: "a", name: "l", chunk: 0),
            k.listSeen(account: "a", name: "l"),
        ]
    }

    /// `QueueKeys.swift`'s members: a key added there without a sample here fails.
    @Test func everyKeyOfQueueKeysHasASample() throws {
        let source = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Sources/Queue/QueueKeys.swift"), encoding: .utf8)
        let members = source.components(separatedBy: "\n").filter {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return (line.hasPrefix("public func ") || line.hasPrefix("public var ")) && line.lowercased().contains("prefix +")
                || line.hasPrefix("public func ") && line.contains("Stem")
        }
        #expect(members.count == Self.sampleKeys().count, "\(members.count) key members, \(Self.sampleKeys().count) samples")
    }

    /// Redis glob with `*` and `?` (all the patterns use).
    static func glob(_ pattern: Substring, _ text: Substring) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else {
            return pattern.count == text.count && zip(pattern, text).allSatisfy { $0 == "?" || $0 == $1 }
        }
        let head = pattern[..<star]
        guard glob(head, text.prefix(head.count)) else { return false }
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

    @Test func everyKeyIsReachableByARelayRole() {
        let keys = Self.sampleKeys()
        for key in keys {
            #expect(
                Self.covers(RedisACL.ingest, key) || Self.covers(RedisACL.worker, key) || Self.covers(RedisACL.webhooks, key)
                    || Self.covers(RedisACL.archiver, key) || Self.covers(RedisACL.console, key)
                    || Self.covers(RedisACL.bounce, key) || Self.covers(RedisACL.campaigns, key),
                "no relay role may touch hk:\(key): add its pattern to RedisACL")
            #expect(Self.covers(RedisACL.admin, key))
        }
    }

    /// With `redis.limits_key_prefix` the limit patterns (and only they) take that prefix;
    /// admin's `~*` gets a second pattern for them.
    @Test func limitPatternsTakeTheLimitsPrefix() {
        let acl = RedisACL(prefix: "hk:{q}:", limitsPrefix: "hk:{q-limits}:")
        let worker = acl.line(RedisACL.worker, password: "x")
        for pattern in [
            "~hk:{q-limits}:gcra:*", "~hk:{q-limits}:conn:*", "~hk:{q-limits}:leases:*", "~hk:{q-limits}:egress:live",
            "~hk:{q}:q:*", "~hk:{q}:events", "~hk:{q}:node:*",
        ] {
            #expect(worker.split(separator: " ").contains(Substring(pattern)), "worker lacks \(pattern)")
        }
        #expect(!worker.contains("~hk:{q}:gcra:*"))
        #expect(acl.line(RedisACL.console, password: "x").contains("%R~hk:{q-limits}:warm:*"))
        let admin = acl.line(RedisACL.admin, password: "x").split(separator: " ")
        #expect(admin.contains("~hk:{q}:*") && admin.contains("~hk:{q-limits}:*"))
        #expect(RedisACL(prefix: "hk:").line(RedisACL.admin, password: "x").split(separator: " ").filter { $0.hasPrefix("~") } == ["~hk:*"])
    }

    @Test func theArchiverReachesOnlyTheEventsAndItsLease() {
        let k = QueueKeys(prefix: "")
        #expect(Self.covers(RedisACL.archiver, k.events) && Self.covers(RedisACL.archiver, k.archiverLease))
        for key in Self.sampleKeys() where key != k.events && key != k.archiverLease {
            #expect(!Self.covers(RedisACL.archiver, key), "archiver may touch hk:\(key)")
        }
    }

    /// The console reads accounts (to check a console user's account) and the queue's
    /// counts; it writes its users, sessions, the audit log and the lockout, and what its
    /// operator and account pages change (suspensions, pauses, suppressions, webhooks) —
    /// never a message, an API key or a DKIM key.
    @Test func theConsoleReachesOnlyItsKeys() {
        let k = QueueKeys(prefix: "")
        let unit = DeliveryUnit(egress: "i", site: "s")
        for key in [
            k.consoleUsers, k.consoleUser("u"), k.consoleSession("s"), k.audit, k.authFailures(user: "console:u"), k.events,
            k.suspendedSite("s"), k.suspendedIP(unit: unit), k.suspendedIPEverywhere("i"), k.ready(pool: "p"), k.accountPaused("a"),
            k.accountsVersion, k.suppression(.account("a")), k.suppressionLists, k.webhooks, k.webhookOutbox("w"),
            k.warmup(egress: "i", day: 1),
        ] {
            #expect(Self.covers(RedisACL.console, key), "console may not touch hk:\(key)")
        }
        for key in ["apikey:abc", "domain:example.com", "domains", "msg:Q1", "body:Q1", "rix:Q1", "tmp:Q1", "acct:a:apikeys"] {
            let writable = RedisACL.console.keys.contains { $0.hasPrefix("~") && Self.glob(Substring($0.dropFirst()), Substring(key)) }
            #expect(!writable && (key.hasPrefix("acct:") || !Self.covers(RedisACL.console, key)), "console may touch hk:\(key)")
        }
        #expect(RedisACL.console.keys.contains("%R~acct:*") && RedisACL.console.keys.contains("%R~q:*"), "read only")
    }

    /// The campaign pages read every campaign key; pause, resume and cancel (`hkc_state`)
    /// write the campaign's hash and nothing else: not its done bitmap, counters or lease.
    @Test func theConsoleWritesOnlyACampaignsState() {
        let k = QueueKeys(prefix: "")
        let id = "c0123456789ab"  // `Campaign.newID`'s shape (CampaignsTests checks it)
        let writes = { (key: String) in
            RedisACL.console.keys.contains {
                $0.hasPrefix("~") && Self.glob($0[$0.index(after: $0.firstIndex(of: "~")!)...], Substring(key))
            }
        }
        for key in [k.campaigns, k.campaign(id), k.campaignStats(id), k.campaignDone(id), k.campaignLease(id)] {
            #expect(Self.covers(RedisACL.console, key), "console may not read hk:\(key)")
        }
        #expect(writes(k.campaign(id)))
        for key in [k.campaigns, k.campaignStats(id), k.campaignDone(id), k.campaignLease(id), k.campaignCounterLease, "camp:c1"] {
            #expect(!writes(key), "console may write hk:\(key)")
        }
        #expect(RedisACL(prefix: "hk:").line(RedisACL.console, password: "p").contains(" ~hk:camp:????????????? "))
    }

    @Test func theWorkerReachesNoSecret() {
        for key in [
            // (`tmp:` is no secret: a worker enqueueing a DSN to a sender declares it.)
            "domain:example.com", "domains", "acct:tenant", "acct:tenant:apikeys", "apikey:abc", "accounts",
            "authfail:user:x",
        ] {
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
