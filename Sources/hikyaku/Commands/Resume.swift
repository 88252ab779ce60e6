import ArgumentParser
import HikyakuApp
import RelayCore

/// `hikyaku resume site|ip …`.
struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lift a suspension of a site or an egress IP before it runs out.",
        discussion: """
            Lifts suspensions set by `hikyaku suspend` and by adaptive backoff alike, records a \
            `backoff` event (action resume_site or resume_ip, rule `operator`), and makes the \
            destinations that were waiting for the suspension to end due at once.
            """,
        subcommands: [Site.self, IP.self])

    static func printResult(_ target: SuspensionTarget, _ result: ResumeResult) {
        guard result.wasSuspended else {
            print("\(target) was not suspended; nothing changed")
            return
        }
        let left = result.remainingMilliseconds.map { " (\(DisplayTime.span(milliseconds: $0)) early)" } ?? ""
        print("resumed \(target)\(left); \(result.destinationsMadeDue) waiting destination(s) due now")
    }

    struct Site: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume sending to a site.")

        @OptionGroup var admin: AdminOptions

        @Argument(help: ArgumentHelp(Suspend.siteHelp, valueName: "site"))
        var name: String

        func run() async throws {
            let target = SuspensionTarget.site(SiteName(rawValue: name))
            Resume.printResult(target, try await admin.withSession { try await $0.resume(target) })
        }
    }

    struct IP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ip",
            abstract: "Resume sending from an egress IP.",
            discussion:
                "Without --site, lifts the every-site suspension (`hikyaku suspend ip ADDRESS` without --site); with it, the one for that site."
        )

        @OptionGroup var admin: AdminOptions

        @Argument(help: ArgumentHelp("The egress IP address.", valueName: "address"))
        var address: String

        @Option(help: ArgumentHelp("The site the suspension is for (default: the every-site suspension).", valueName: "site"))
        var site: String?

        func run() async throws {
            let target = SuspensionTarget.ip(EgressID(rawValue: address), site: site.map(SiteName.init(rawValue:)))
            Resume.printResult(target, try await admin.withSession { try await $0.resume(target) })
        }
    }
}
