import ArgumentParser
import BounceClassification
import HikyakuApp

/// `hikyaku bounce …`: bounce a destination's queue (the default), show the rules that
/// classify bounces, or read inbound bounce and complaint messages.
struct Bounce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bounce a destination's queued recipients, print the bounce classification rules, or read bounce messages.",
        discussion: """
            `hikyaku bounce DOMAIN` is `hikyaku bounce domain DOMAIN`.
            """,
        subcommands: [BounceDomain.self, BounceRulesCommand.self, Parse.self],
        defaultSubcommand: BounceDomain.self)
}

/// `hikyaku bounce [domain] DOMAIN`.
struct BounceDomain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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

/// `hikyaku bounce rules`.
struct BounceRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the shipped bounce classification rules (to copy and edit for bounces.rules_file).",
        discussion: """
            Every deferred, bounced and expired event carries bounce_class and bounce_type \
            (soft or hard), decided by these rules: enhanced status codes first, then the \
            reply's wording. To change them, save this output to a file, edit it and set \
            bounces.rules_file to its path; the file replaces the shipped rules. With \
            --check FILE, the file is parsed and the first problem is reported with its line.
            """)

    @Option(help: ArgumentHelp("Check this rules file instead of printing the shipped rules.", valueName: "file"))
    var check: String?

    func run() async throws {
        guard let check else {
            print(BounceRules.shippedText)
            return
        }
        do {
            let rules = try BounceRules.load(path: check)
            print("\(check): OK, \(rules.statusRules.count) status rule(s), \(rules.textRules.count) text rule(s)")
        } catch {
            throw OperatorError(error.description)
        }
    }
}
