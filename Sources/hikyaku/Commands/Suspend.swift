import ArgumentParser
import HikyakuApp
import RelayCore

/// `hikyaku suspend site|ip …`.
struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop sending to a receiving site, or from an egress IP, for a while.",
        discussion: """
            Workers check suspensions before every batch they claim, on every host: a \
            suspension takes effect within one batch and lifts on its own when DURATION has \
            passed (or at `hikyaku resume`). Mail waits in the queue meanwhile; nothing is \
            bounced and retries are not used up. Suspending again replaces the duration and reason.

            Each suspension is recorded as a `backoff` event (rule `operator`), and \
            `hikyaku queue` lists the ones in force.
            """,
        subcommands: [Site.self, IP.self])

    static let siteHelp = """
        A receiving site, as workers name it: a site of delivery.sites or a preset (gmail, \
        yahoo, outlook, …); else mx:<registrable domain of the primary MX>, \
        domain:<domain> without MX, route:<host> for a static route.
        """

    static func parseDuration(_ text: String) throws -> ConfigDuration {
        guard let duration = ConfigDuration(parsing: text), duration.milliseconds > 0 else {
            throw ValidationError("--for '\(text)' is not a duration; write e.g. 90s, 30m, 2h or 1d")
        }
        return duration
    }

    static func printSuspended(_ target: SuspensionTarget, _ duration: ConfigDuration, _ event: DeliveryEvent) {
        print("suspended \(target) for \(duration) (until \(event.until ?? "?")): \(event.reply ?? "")")
    }

    struct Site: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop sending to a site from every egress IP.",
            discussion: "Example: hikyaku suspend site gmail --for 30m --reason 'Gmail 421 storm'")

        @OptionGroup var admin: AdminOptions

        @Argument(help: ArgumentHelp(Suspend.siteHelp, valueName: "site"))
        var name: String

        @Option(name: .customLong("for"), help: ArgumentHelp("How long: 90s, 30m, 2h, 1d.", valueName: "duration"))
        var duration: String

        @Option(help: "Why (shown by `hikyaku queue` and in the event).")
        var reason: String?

        func validate() throws {
            _ = try Suspend.parseDuration(duration)
        }

        func run() async throws {
            let duration = try Suspend.parseDuration(duration)
            let target = SuspensionTarget.site(SiteName(rawValue: name))
            let event = try await admin.withSession { try await $0.suspend(target, for: duration.duration, reason: reason) }
            Suspend.printSuspended(target, duration, event)
        }
    }

    struct IP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ip",
            abstract: "Stop sending from an egress IP, to one site or to all.",
            discussion: """
                Other IPs of the pool take the IP's work meanwhile. Example: \
                hikyaku suspend ip 192.0.2.10 --site yahoo --for 2h --reason 'listed on a DNSBL'
                """)

        @OptionGroup var admin: AdminOptions

        @Argument(help: ArgumentHelp("The egress IP address, as in egress[].address.", valueName: "address"))
        var address: String

        @Option(help: ArgumentHelp("Only for this site (default: every site). " + Suspend.siteHelp, valueName: "site"))
        var site: String?

        @Option(name: .customLong("for"), help: ArgumentHelp("How long: 90s, 30m, 2h, 1d.", valueName: "duration"))
        var duration: String

        @Option(help: "Why (shown by `hikyaku queue` and in the event).")
        var reason: String?

        func validate() throws {
            _ = try Suspend.parseDuration(duration)
        }

        func run() async throws {
            let duration = try Suspend.parseDuration(duration)
            let target = SuspensionTarget.ip(EgressID(rawValue: address), site: site.map(SiteName.init(rawValue:)))
            let event = try await admin.withSession { try await $0.suspend(target, for: duration.duration, reason: reason) }
            Suspend.printSuspended(target, duration, event)
        }
    }
}
