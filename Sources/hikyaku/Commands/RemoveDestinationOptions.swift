import ArgumentParser
import HikyakuApp

/// `hikyaku bounce` and `hikyaku purge`: the shared arguments and output.
struct RemoveDestinationOptions: ParsableArguments {
    @OptionGroup var admin: AdminOptions

    @Argument(help: ArgumentHelp("The destination domain (the part after @ of the recipients).", valueName: "domain"))
    var domain: String

    @Option(help: ArgumentHelp("Only this egress pool (default: every pool).", valueName: "pool"))
    var pool: String?

    func validate() throws {
        let name = DestinationName.normalized(domain)
        if name.isEmpty || name.contains(where: \.isWhitespace) {
            throw ValidationError("'\(domain)' is not a destination domain")
        }
    }

    func run(_ removal: OperatorRemoval) async throws {
        let domain = DestinationName.normalized(domain)
        let result = try await admin.withSession { try await $0.remove(removal, domain: domain, pool: pool) }
        let verb = removal.eventKind == .bounced ? "bounced" : "purged"
        print("\(verb) \(result.recipients) recipient(s) of \(domain): \(result.queuedRecipients) queued (\(result.queuedEntries) entries), "
              + "\(result.deferredRecipients) deferred (\(result.deferredItems) items); \(result.messagesDeleted) message(s) deleted")
        print("reply: \(removal.reply)")
        if result.claimedEntries > 0 {
            print("left alone: \(result.claimedEntries) entries (\(result.claimedRecipients) recipient(s)) a worker holds right now; run the command again once they settle")
        }
    }
}
