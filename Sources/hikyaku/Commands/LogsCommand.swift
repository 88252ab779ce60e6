import ArgumentParser
import Foundation
import HikyakuApp
import LogStore
import RelayCore

/// `hikyaku logs …`: the log store (README "Delivery logs"): its SQLite file, or PostgreSQL
/// (`logs.postgres_url`).
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Search the delivery log store (the archiver's SQLite file, or PostgreSQL).",
        subcommands: [Search.self])

    /// The configuration, and `--db` to name the SQLite file instead of the configured store.
    struct StoreOptions: ParsableArguments {
        @OptionGroup var config: ConfigOptions
        @OptionGroup var db: DatabaseOption

        func withStore<T: Sendable>(_ body: @Sendable (any LogReader & LogWriter) async throws -> T) async throws -> T {
            try await LogStores.withStore(config.load().logs, db: db.db, body)
        }
    }

    struct DatabaseOption: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "The SQLite file (default: logs.postgres_url if set, else logs.sqlite_path, else var/logs.sqlite).", valueName: "file"))
        var db: String?
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print stored events, newest first.",
            discussion: """
                Every option given must match. Times are RFC 3339 (2026-12-06T09:00:00+09:00) or a \
                duration back from now (90m, 2h, 7d).

                Examples:
                  hikyaku logs search --recipient user@example.jp --since 7d
                  hikyaku logs search --account acme --event bounced --event expired --json
                """)

        @OptionGroup var store: StoreOptions
        @Option(help: "Only this account's events.") var account: String?
        @Option(help: "Only events for this recipient (case-insensitive).") var recipient: String?
        @Option(name: .customLong("message-id"), help: "Only this Message-ID (with or without <>).") var messageID: String?
        @Option(name: .customLong("queue-id"), help: "Only this queue id.") var queueID: String?
        @Option(name: .customLong("event"), help: ArgumentHelp("Only this kind (repeatable).", valueName: "kind")) var kinds: [String] = []
        @Option(help: ArgumentHelp("From this time on.", valueName: "time")) var since: String?
        @Option(help: ArgumentHelp("Before this time.", valueName: "time")) var until: String?
        @Option(help: "At most this many events.") var limit: Int = 100
        @Flag(help: "One JSON object per line (the event with its stream id as event_id).") var json = false

        func run() async throws {
            var query = LogQuery(account: account, recipient: recipient, messageID: messageID, queueID: queueID, limit: limit)
            query.kinds = try kinds.map { name in
                guard let kind = DeliveryEvent.Kind(rawValue: name) else {
                    throw ValidationError(
                        "--event must be one of \(DeliveryEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
            query.since = try since.map { try Self.time($0, option: "--since") }
            query.until = try until.map { try Self.time($0, option: "--until") }
            let events = try await store.withStore { [query] in try await $0.search(query) }
            if json {
                for logged in events {
                    let body = logged.event.jsonBytes()
                    print(
                        "{\"event_id\":\"\(logged.streamID)\"" + (body.count > 2 ? "," : "")
                            + String(decoding: body.dropFirst(), as: UTF8.self))
                }
                return
            }
            var table = TextTable([
                ("TIME", .left), ("EVENT", .left), ("RECIPIENT", .left), ("QUEUE ID", .left), ("SITE", .left), ("CLASS", .left),
                ("REPLY", .left),
            ])
            for logged in events {
                let event = logged.event
                table.add([
                    event.time, event.event.rawValue, event.recipient ?? (event.recipients ?? []).joined(separator: ","), event.queueID,
                    event.site?.rawValue ?? "", event.bounceClass?.rawValue ?? "", String((event.reply ?? "").prefix(60)),
                ])
            }
            print(table.isEmpty ? "no events" : table.render(indent: 0))
        }

        /// RFC 3339, or a duration before now.
        static func time(_ text: String, option: String) throws -> Int64 {
            if let duration = ConfigDuration(parsing: text) { return WallClock.nowMilliseconds() - duration.milliseconds }
            if let parsed = LogTime.milliseconds(text) { return parsed }
            throw ValidationError("\(option) '\(text)' is neither an RFC 3339 time nor a duration such as 2h or 7d")
        }
    }
}

/// `hikyaku erase ADDRESS`: one person's address out of the log store and the suppression lists.
struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Remove an email address from the delivery log store and the suppression lists (APPI / GDPR erasure).",
        discussion: """
            Every stored event the address is the sender or a recipient of keeps its kind, time and \
            domains (the statistics do not change) but loses the address: it is replaced by [erased] \
            in the event, in remote replies quoting it, and in tags and metadata. The address also \
            leaves the global suppression list and every account's: mail to it is no longer refused \
            (an erasure request asks to forget it; if the person only asked not to be mailed, use \
            `hikyaku suppression add` instead). Events still on the Redis events stream \
            (events.retention, 10 minutes by default) are not changed; run this again after they \
            are archived.
            """)

    @OptionGroup var admin: AdminOptions
    @OptionGroup var db: LogsCommand.DatabaseOption
    @Argument(help: "The email address.") var address: String

    func run() async throws {
        guard address.contains("@") else { throw ValidationError("'\(address)' is not an email address") }
        let address = address
        let changed = try await LogStores.withStore(admin.config.load().logs, db: db.db) { try await $0.eraseAddress(address) }
        print("erased \(address) from \(changed) event(s) of the log store")
        let lists = try await admin.withSession { try await $0.eraseSuppressions(address) }
        if lists.isEmpty { print("\(address) was on no suppression list") }
        for scope in lists { print("removed \(address) from the suppression list of \(scope)") }
    }
}
