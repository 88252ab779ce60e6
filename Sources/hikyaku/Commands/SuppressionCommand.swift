import ArgumentParser
import Foundation
import HikyakuApp
import RelayCore

/// `hikyaku suppression …`: the suppression lists (README "Suppression lists").
struct SuppressionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppression",
        abstract: "Manage the suppression lists: addresses mail is never sent to.",
        discussion: """
            Each account has its own list, and one global list applies to every account. A \
            suppressed recipient is refused at RCPT (550 5.1.1 <address> suppressed (reason, date)) \
            and dropped by the enqueue with a `suppressed` event. Reasons: hard_bounce, complaint, \
            unsubscribe, manual. An entry may expire (--expires, or suppression.expiry.<reason>).

            The CSV of import and export has the header address,reason,created_at,expires_at \
            (times RFC 3339; created_at and expires_at may be empty).

            Examples:
              hikyaku suppression add gone@example.org --account acme --reason manual --expires 30d
              hikyaku suppression list --global --reason complaint --limit 50
              hikyaku suppression import list.csv --account acme
              hikyaku suppression export --account acme > list.csv
            """,
        subcommands: [Add.self, Remove.self, List.self, Import.self, Export.self])

    /// `--account NAME` or `--global`.
    struct ScopeOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The account's list.", valueName: "name")) var account: String?
        @Flag(help: "The global list (applies to every account).") var global = false

        func validate() throws {
            guard (account != nil) != global else { throw ValidationError("give either --account NAME or --global") }
        }

        var scope: SuppressionScope { account.map { .account($0) } ?? .global }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an address (or replace its entry).")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var list: ScopeOptions
        @Argument(help: "The email address.") var address: String
        @Option(help: ArgumentHelp("hard_bounce, complaint, unsubscribe or manual.", valueName: "reason"))
        var reason: String = SuppressionReason.manual.rawValue
        @Option(
            help: ArgumentHelp(
                "Expire after this long (e.g. 30d, 12h); default: suppression.expiry.<reason>, else never.", valueName: "duration"))
        var expires: String?

        func run() async throws {
            guard let reason = SuppressionReason(rawValue: reason) else {
                throw ValidationError("--reason must be one of \(SuppressionReason.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var duration: ConfigDuration?
            if let expires {
                guard let parsed = ConfigDuration(parsing: expires), parsed.milliseconds > 0 else {
                    throw ValidationError("--expires '\(expires)' is not a duration such as 30d or 12h")
                }
                duration = parsed
            }
            let entry = try await admin.withSession {
                try await $0.addSuppression(address, reason: reason, expires: duration, to: list.scope)
            }
            print("suppressed \(entry.address) in \(list.scope) (\(entry.reason.rawValue)\(entry.expiresAt.map { ", until \($0)" } ?? ""))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an address from a list.")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var list: ScopeOptions
        @Argument(help: "The email address.") var address: String

        func run() async throws {
            let removed = try await admin.withSession { try await $0.removeSuppression(address, from: list.scope) }
            guard removed else { throw OperatorError("\(address) is not on \(list.scope)'s suppression list") }
            print("removed \(address) from \(list.scope)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List entries (expired ones not shown).")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var list: ScopeOptions
        @Option(help: ArgumentHelp("Only entries of this reason.", valueName: "reason")) var reason: String?
        @Option(help: ArgumentHelp("Show at most this many (default 100).", valueName: "n")) var limit = 100

        func run() async throws {
            var wanted: SuppressionReason?
            if let reason {
                guard let parsed = SuppressionReason(rawValue: reason) else {
                    throw ValidationError("--reason must be one of \(SuppressionReason.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                wanted = parsed
            }
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
            let (entries, total) = try await admin.withSession { try await $0.suppressions(in: list.scope, reason: wanted, limit: limit) }
            guard !entries.isEmpty else {
                print("no entries in \(list.scope)\(wanted.map { " with reason \($0.rawValue)" } ?? "") (\(total) in all)")
                return
            }
            var table = TextTable([("address", .left), ("reason", .left), ("created", .left), ("expires", .left), ("source", .left)])
            for entry in entries {
                table.add([entry.address, entry.reason.rawValue, entry.createdAt, entry.expiresAt ?? "never", entry.source ?? ""])
            }
            print(table.render(indent: 0))
            print("\(entries.count) shown, \(total) in \(list.scope)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV file (address,reason,created_at,expires_at), streamed; bad rows are reported and skipped.")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var list: ScopeOptions
        @Argument(help: "The CSV file.") var file: String

        func run() async throws {
            let result = try await admin.withSession {
                try await $0.importSuppressions(
                    path: file, to: list.scope,
                    badRow: { line, why in Self.stderr("\(file):\(line): skipped: \(why)") },
                    progress: { rows in Self.stderr("\(rows) rows read") })
            }
            print(
                "imported \(result.imported) entr\(result.imported == 1 ? "y" : "ies") into \(list.scope); \(result.skipped) bad row(s) skipped"
            )
        }

        static func stderr(_ text: String) {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a list to stdout as CSV (the import format), streamed; expired entries are left out.")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var list: ScopeOptions

        func run() async throws {
            var buffer = SuppressionCSV.header + "\n"
            let count = try await admin.withSession {
                try await $0.exportSuppressions(from: list.scope) { entry in
                    buffer += SuppressionCSV.row(entry) + "\n"
                    if buffer.utf8.count >= 64 * 1024 {
                        FileHandle.standardOutput.write(Data(buffer.utf8))
                        buffer = ""
                    }
                }
            }
            FileHandle.standardOutput.write(Data(buffer.utf8))
            FileHandle.standardError.write(Data("exported \(count) entr\(count == 1 ? "y" : "ies") of \(list.scope)\n".utf8))
        }
    }
}
