import ArgumentParser
import HikyakuApp

/// `hikyaku bounce DOMAIN` (also `hikyaku bounce domain DOMAIN`).
struct Bounce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        // The default subcommand of `hikyaku bounce` (BounceCommand): `hikyaku bounce DOMAIN`.
        commandName: "domain",
        abstract: "Bounce every queued and deferred recipient of a destination domain.",
        discussion: """
            Each recipient gets a final `bounced` event with reply `550 5.0.0 <reason>` \
            (default: Bounced by operator), as if the receiving server had refused it; messages \
            whose last recipient this was are deleted. Work a delivery worker holds right now is \
            left alone and reported: run the command again once it settles. Redis is worked \
            through in chunks of 500, so a large queue does not stall it.
            """)

    @OptionGroup var options: RemoveDestinationOptions

    @Option(help: "The text after 550 5.0.0 in each event's reply.")
    var reason: String?

    func run() async throws {
        try await options.run(.bounce(reason: reason))
    }
}
