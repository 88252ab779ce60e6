import ArgumentParser
import HikyakuApp

/// `hikyaku retry-now`.
struct RetryNow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-now",
        abstract: "Retry deferred mail now instead of at its scheduled time.",
        discussion: """
            Every deferred item (of --pool and --domain, or all) goes back into its destination's \
            queue at once, keeping its attempt count, and the destinations are made due now, so \
            workers take them at their next claim. Limits still apply: rate limits, connection \
            limits and suspensions hold the work back as usual.
            """)

    @OptionGroup var admin: AdminOptions
    @OptionGroup var scope: QueueScopeOptions

    func run() async throws {
        let result = try await admin.withSession { try await $0.retryNow(pool: scope.poolName, domain: scope.domainName) }
        print(
            "retrying now: \(result.items) deferred item(s), \(result.recipients) recipient(s); \(result.destinationsMadeDue) destination(s) made due"
        )
    }
}
