import ArgumentParser
import HikyakuApp

/// `hikyaku purge DOMAIN`.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove every queued and deferred recipient of a destination domain without bouncing.",
        discussion: """
            As `hikyaku bounce`, but each recipient's final event is `purged`, reply \
            `purged by operator: <reason>` — for mail that should silently not go out (a \
            mistaken campaign, a test run). Work a worker holds right now is left alone and reported.
            """)

    @OptionGroup var options: RemoveDestinationOptions

    @Option(help: "Why; recorded in each event's reply.")
    var reason: String?

    func run() async throws {
        try await options.run(.purge(reason: reason))
    }
}
