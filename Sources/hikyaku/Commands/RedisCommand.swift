import ArgumentParser
import Foundation
import HikyakuApp

/// `hikyaku redis acl` and `hikyaku redis load-functions`.
struct RedisAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Redis set-up: the ACL users of each role, and the functions only the admin user may load.",
        subcommands: [ACL.self, LoadFunctions.self, CopyKeys.self, MoveQueue.self])

    struct ACL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the Redis ACL users of the roles (ingest, worker, webhooks, bounce, admin), one aclfile line each.",
            discussion: """
                Each role gets the commands and key patterns it needs and no more (README, "Redis TLS \
                and ACL users"). With --passwords-from-stdin, lines `ROLE=PASSWORD` are read from \
                standard input and the output holds only their SHA-256 (`#…`), so the ACL file \
                keeps no password; without it, each line has a placeholder password to replace.
                """)

        @Flag(help: "Read ROLE=PASSWORD lines (ingest, worker, webhooks, bounce, admin) from standard input.")
        var passwordsFromStdin = false

        @Option(help: "The relay's redis.key_prefix: every key pattern starts with it (on a Redis Cluster e.g. hk:{hk}:).")
        var keyPrefix = "hk:"

        @Option(
            help:
                "The relay's redis.limits_key_prefix, if set: the limit keys' patterns (gcra:, conn:, warm:, slow:, susp:, leases:, …) start with it."
        )
        var limitsKeyPrefix: String?

        func run() async throws {
            var hashes: [String: String] = [:]
            if passwordsFromStdin {
                while let line = readLine(strippingNewline: true) {
                    guard !line.isEmpty else { continue }
                    guard let equals = line.firstIndex(of: "="), RedisACLFile.roleNames.contains(String(line[..<equals])) else {
                        throw ValidationError("expected ROLE=PASSWORD with ROLE one of \(RedisACLFile.roleNames.joined(separator: ", "))")
                    }
                    let password = String(line[line.index(after: equals)...])
                    guard password.count >= 16 else {
                        throw ValidationError("the \(line[..<equals]) password must have at least 16 characters")
                    }
                    hashes[String(line[..<equals])] = try RedisACLFile.hashedPassword(password)
                }
            }
            print(
                RedisACLFile.render(prefix: keyPrefix, limitsPrefix: limitsKeyPrefix) { role in hashes[role] ?? "CHANGE-ME-\(role)-password"
                }, terminator: "")
        }
    }

    struct LoadFunctions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-functions",
            abstract: "Load this version's Redis functions (needs the admin user: --redis-url rediss://hikyaku-admin:…@…).",
            discussion: """
                Ingest and worker users may not load functions; they refuse to work until the \
                functions of their version are loaded. Run this once after installing a new \
                version (any other admin command loads them too).
                """)

        @OptionGroup var options: AdminOptions

        func run() async throws {
            let (replaced, all) = try await options.withSession { try await $0.loadFunctions() }
            print(
                replaced.isEmpty
                    ? "Redis functions up to date: \(all.joined(separator: ", "))"
                    : "Redis functions loaded: \(replaced.joined(separator: ", "))")
        }
    }

    struct CopyKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy-keys",
            abstract: "Copy a relay's Redis keys (queued mail included) to the configured Redis, e.g. onto a Redis Cluster.",
            discussion: """
                Every key under --from-prefix on the Redis at --from is copied with DUMP and \
                RESTORE (time to live kept) to the Redis of the configuration (redis.url or \
                redis.cluster), renamed to its redis.key_prefix. Stop every relay process \
                first (SMTP clients keep their mail and retry) and start them on the new \
                configuration after; the source is only read. RESTORE is a @dangerous command: \
                give --redis-url with a user that may run it. README, "Moving to a Redis Cluster".
                """)

        @OptionGroup var options: AdminOptions

        @Option(help: ArgumentHelp("The Redis to copy from.", valueName: "redis-url"))
        var from: String

        @Option(help: "The prefix of the keys there (its relays' redis.key_prefix).")
        var fromPrefix = "hk:"

        @Flag(help: "Overwrite keys the target has already (default: stop at the first).")
        var replace = false

        @Option(
            help: ArgumentHelp(
                "all: every key (stop every relay first, start them on the target after); state: everything but the queued mail and the workers' leases — the first step of moving without stopping the SMTP service (then `hikyaku redis move-queue`).",
                valueName: "all|state"))
        var keys: String = "all"

        func validate() throws {
            guard KeyCopy.Selection(rawValue: keys) != nil else { throw ValidationError("--keys must be all or state, not '\(keys)'") }
        }

        func run() async throws {
            let selection = KeyCopy.Selection(rawValue: keys) ?? .all
            let (copied, vanished) = try await options.withSession { session in
                try await session.copyKeys(from: from, sourcePrefix: fromPrefix, replace: replace, selection: selection) { copied, _ in
                    FileHandle.standardError.write(Data("copied \(copied) keys\n".utf8))
                }
            }
            print("copied \(copied) keys" + (vanished > 0 ? " (\(vanished) expired or deleted meanwhile)" : ""))
        }
    }

    struct MoveQueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move-queue",
            abstract: "Move the mail still queued in another Redis into this relay's queue while its relays run.",
            discussion: """
                The second step of moving to another Redis (e.g. a Redis Cluster) without stopping \
                the SMTP service (README, "Moving to a Redis Cluster"): after `copy-keys --keys \
                state` and the relays started on the new configuration, every work entry and \
                retry queued under --from-prefix at --from is added to the configured queue \
                (envelope, body and recipient index copied with DUMP/RESTORE) and then deleted \
                there. Refuses while a worker still runs on the source. Interrupted, it can be \
                run again: at most the items in flight at the interruption are delivered twice.
                """)

        @OptionGroup var options: AdminOptions

        @Option(help: ArgumentHelp("The Redis to move the queue from.", valueName: "redis-url"))
        var from: String

        @Option(help: "The prefix of the keys there (its relays' redis.key_prefix).")
        var fromPrefix = "hk:"

        func run() async throws {
            let outcome = try await options.withSession { session in
                try await session.moveQueue(from: from, sourcePrefix: fromPrefix) { so in
                    FileHandle.standardError.write(
                        Data("moved \(so.entries) entries, \(so.retries) retries, \(so.messages) messages\n".utf8))
                }
            }
            print(
                "moved \(outcome.entries) entries and \(outcome.retries) retries of \(outcome.messages) messages"
                    + (outcome.orphaned > 0 ? " (\(outcome.orphaned) items of messages no longer there dropped)" : ""))
        }
    }
}
