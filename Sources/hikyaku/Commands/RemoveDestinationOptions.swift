import ArgumentParser
import HikyakuApp
import RelayCore

/// `hikyaku bounce` and `hikyaku purge`: the shared arguments and output.
struct RemoveDestinationOptions: ParsableArguments {
    @OptionGroup var admin: AdminOptions

    @Argument(help: ArgumentHelp("The destination domain (the part after @ of the recipients).", valueName: "domain"))
    var domain: String

    @Option(help: ArgumentHelp("Only this egress pool (default: every pool).", valueName: "pool"))
    var pool: String?

    func validate() throws {
        let name = DomainName(normalizing: domain)
        if name.rawValue.isEmpty || name.rawValue.contains(where: \.isWhitespace) {
            throw ValidationError("'\(domain)' is not a destination domain")
        }
        if let pool {
            do { try PoolName.validate(pool, key: "--pool") } catch { throw ValidationError("\(error)") }
        }
    }

    func run(_ removal: OperatorRemoval) async throws {
        let domain = DomainName(normalizing: domain)
        let pool = self.pool.map(PoolName.init(rawValue:))
        let result = try await admin.withSession { try await $0.remove(removal, domain: domain, pool: pool) }
        let verb = removal.eventKind == .bounced ? "bounced" : "purged"
        print(
            "\(verb) \(result.recipients) recipient(s) of \(domain): \(result.queuedRecipients) queued (\(result.queuedEntries) entries), "
                + "\(result.deferredRecipients) deferred (\(result.deferredItems) items); \(result.messagesDeleted) message(s) deleted")
        print("reply: \(removal.reply)")
        if result.claimedEntries > 0 {
            print(
                "left alone: \(result.claimedEntries) entries (\(result.claimedRecipients) recipient(s)) a worker holds right now; run the command again once they settle"
            )
        }
    }
}
