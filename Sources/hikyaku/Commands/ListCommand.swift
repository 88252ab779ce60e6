import ArgumentParser
import Campaigns
import Foundation
import HikyakuApp
import RelayCore

/// `hikyaku list …`: recipient lists for campaigns (README "Campaigns").
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Import, show and delete the recipient lists of campaigns.",
        discussion: """
            A list is a CSV file with a header row naming the columns; one column holds the \
            address (email, or --email-column). UTF-8 with or without a byte order mark is \
            detected, anything else is read as Windows-31J (CP932, what Japanese Excel saves as \
            CSV); --encoding forces one. Invalid addresses are reported with their line numbers, \
            duplicates and suppressed addresses are skipped and counted. Every column is a \
            template variable of the campaigns that use the list: {{name}}.

            Examples:
              hikyaku list import acme news-2026-12 members.csv
              hikyaku list import acme news sjis.csv --encoding cp932 --email-column メール
              hikyaku list show acme news
            """,
        subcommands: [Import.self, Show.self, Delete.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a CSV file as a new list.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The account.") var account: String
        @Argument(help: "The list's name (a-z A-Z 0-9 . _ -).") var name: String
        @Argument(help: "The CSV file.") var file: String
        @Option(help: ArgumentHelp("utf-8 or cp932 (default: detected).", valueName: "encoding")) var encoding: String?
        @Option(help: ArgumentHelp("The column with the addresses.", valueName: "name")) var emailColumn = "email"

        func run() async throws {
            var forced: CSVEncoding?
            if let encoding {
                guard let known = CSVEncoding(name: encoding) else { throw ValidationError("--encoding must be utf-8 or cp932") }
                forced = known
            }
            let started = Date()
            var lastShown = Date()
            let report = try await admin.withSession { session in
                try await session.importList(
                    account: account, name: name, path: file, encoding: forced, emailColumn: emailColumn,
                    progress: { report in
                        guard Date().timeIntervalSince(lastShown) >= 1 else { return }
                        lastShown = Date()
                        FileHandle.standardError.write(
                            Data(
                                "\rimporting: line \(report.lines), \(report.rows) rows, \(report.invalid) invalid, \(report.duplicates) duplicates, \(report.suppressed) suppressed"
                                    .utf8))
                    })
            }
            if Date().timeIntervalSince(started) >= 1 { FileHandle.standardError.write(Data("\n".utf8)) }
            for problem in report.problems { print("line \(problem.line): \(problem.problem)") }
            if report.invalid > report.problems.count { print("… and \(report.invalid - report.problems.count) more invalid lines") }
            print(
                "imported list \(name) of \(account) (\(report.encoding.rawValue)): \(report.rows) rows, columns \(report.columns.joined(separator: ", ")); skipped \(report.invalid) invalid, \(report.duplicates) duplicates, \(report.suppressed) suppressed"
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a list (or, without a name, the account's lists).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The account.") var account: String
        @Argument(help: "The list's name.") var name: String?

        func run() async throws {
            try await admin.withSession { session in
                guard let name else {
                    for name in try await session.listNames(account: account) { print(name) }
                    return
                }
                guard let info = try await session.listInfo(account: account, name: name) else {
                    throw OperatorError("account \(account) has no list named \(name)")
                }
                print("list \(name) of \(account): \(info.state)")
                print("  rows        \(info.rows)")
                print(
                    "  columns     \(info.columns.joined(separator: ", ")) (address: \(info.columns.indices.contains(info.emailIndex) ? info.columns[info.emailIndex] : "?"))"
                )
                print("  skipped     \(info.invalid) invalid, \(info.duplicates) duplicates, \(info.suppressed) suppressed")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a list and its rows.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The account.") var account: String
        @Argument(help: "The list's name.") var name: String

        func run() async throws {
            guard try await admin.withSession({ try await $0.deleteList(account: account, name: name) }) else {
                throw OperatorError("account \(account) has no list named \(name)")
            }
            print("deleted list \(name) of \(account)")
        }
    }
}
