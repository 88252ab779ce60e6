import ArgumentParser
import HikyakuApp

/// `hikyaku unsubscribe …`: one-click unsubscribe links (README, "One-click unsubscribe").
struct UnsubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsubscribe",
        abstract: "One-click unsubscribe links (RFC 8058): make one, or decode and verify one.",
        subcommands: [Link.self, Decode.self])

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the List-Unsubscribe fields a message to RECIPIENT of ACCOUNT would carry today.")

        @OptionGroup var admin: AdminOptions
        @Argument(help: "The account the recipient unsubscribes from.") var account: String
        @Argument(help: "The recipient's address.") var recipient: String
        @Option(help: ArgumentHelp("The campaign, recorded in the unsubscribed event.", valueName: "id")) var campaign: String?

        func run() async throws {
            print(
                try UnsubscribeTools.fields(
                    account: account, recipient: recipient, campaign: campaign, configuration: try admin.config.load()),
                terminator: "")
        }
    }

    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a link, a mailto address or a token with secrets.key_file and print what it stands for.",
            discussion: "Exits 1 when it does not verify (altered, forged, or its key is gone) and 2 when it has expired.")

        @OptionGroup var admin: AdminOptions
        @Argument(help: "https://…/u/TOKEN, u-TOKEN@domain, or TOKEN (any case).") var text: String

        func run() async throws {
            let decoded = try UnsubscribeTools.decode(text, configuration: try admin.config.load())
            print("account \(decoded.account)")
            print("recipient \(decoded.recipient)")
            print("campaign \(decoded.campaign ?? "-")")
            print("issued \(decoded.issued)")
            print("valid_until \(decoded.validUntil)\(decoded.expired ? " (expired)" : "")")
            if decoded.expired { throw ExitCode(2) }
        }
    }
}
