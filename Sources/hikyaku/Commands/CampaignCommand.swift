import ArgumentParser
import CampaignRunner
import Campaigns
import Foundation
import HikyakuApp
import RelayCore

/// `hikyaku campaign …`: bulk newsletter campaigns (README "Campaigns").
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Create, follow and control newsletter campaigns.",
        discussion: """
            A campaign sends one message per row of a list (hikyaku list import): templates with \
            {{column}} placeholders (Mustache), from a sending domain of the account, with one-click \
            unsubscribe (RFC 8058). Runners (serve --role campaigns, or all) enqueue it in steps, \
            within the sending window and the maximum rate, keeping about campaigns.lookahead of \
            each receiving site's rate queued. No open or click tracking is added.

            Examples:
              hikyaku campaign create --account acme --name "December news" --from news@acme.example \\
                --subject "{{name}}様、12月のお知らせ" --html news.html --list members \\
                --window 09:00-20:00 --time-zone Asia/Tokyo --max-rate 50/s
              hikyaku campaign watch c01jdq3t6z8f0
            """,
        subcommands: [Create.self, List.self, Show.self, Pause.self, Resume.self, Cancel.self, Watch.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a campaign (checked; it starts at --start).")
        @OptionGroup var admin: AdminOptions
        @Option(help: "The account.") var account: String
        @Option(help: "A name for people.") var name: String
        @Option(help: "The From address (a sending domain of the account).") var from: String
        @Option(help: "The From display name.") var fromName: String?
        @Option(help: "The subject (a template).") var subject: String
        @Option(help: ArgumentHelp("The HTML template file.", valueName: "file")) var html: String?
        @Option(help: ArgumentHelp("The text template file (default: made from the HTML).", valueName: "file")) var text: String?
        @Option(help: "The list's name.") var list: String
        @Option(help: ArgumentHelp("When to start (RFC 3339, e.g. 2026-12-08T09:00:00+09:00; default now).", valueName: "time"))
        var start: String?
        @Option(help: ArgumentHelp("At most this rate, e.g. 50/s or 10000/h.", valueName: "rate")) var maxRate: String?
        @Option(help: ArgumentHelp("Daily sending window, e.g. 09:00-20:00.", valueName: "HH:MM-HH:MM")) var window: String?
        @Option(help: ArgumentHelp("The window's time zone (IANA).", valueName: "zone")) var timeZone = "UTC"
        @Option(help: "The egress pool (default: the account's).") var pool: String?

        func run() async throws {
            var request = CampaignDesk.Request(account: account, name: name, from: from, subject: subject, list: list)
            request.fromName = fromName
            request.html = try html.map(Self.read)
            request.text = try text.map(Self.read)
            guard request.html != nil || request.text != nil else { throw ValidationError("give --html or --text (or both)") }
            if let start {
                let formatter = ISO8601DateFormatter()
                guard let date = formatter.date(from: start) else { throw ValidationError("--start '\(start)' is not an RFC 3339 time") }
                request.startAt = Int64(date.timeIntervalSince1970 * 1000)
            }
            if let maxRate {
                guard let rate = Rate(parsing: maxRate) else { throw ValidationError("--max-rate '\(maxRate)' is not a rate such as 50/s") }
                request.maxRate = rate
            }
            if let window {
                guard let parsed = SendWindow(parsing: window, timeZone: timeZone) else {
                    throw ValidationError("--window '\(window)' in '\(timeZone)' is not HH:MM-HH:MM in a known time zone")
                }
                request.window = parsed
            }
            request.pool = pool
            let (campaign, findings) = try await admin.withSession { try await $0.createCampaign(request) }
            for finding in findings { print("\(finding.severity.rawValue): \(finding.problem)\n  fix: \(finding.fix)") }
            print("created campaign \(campaign.id)")
        }

        static func read(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw OperatorError("cannot read \(path) as UTF-8 text")
            }
            return text
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List campaigns.")
        @OptionGroup var admin: AdminOptions
        @Option(help: "Only this account's.") var account: String?

        func run() async throws {
            let all = try await admin.withSession { try await $0.campaigns(account: account) }
            var table = TextTable([
                ("ID", .left), ("ACCOUNT", .left), ("NAME", .left), ("STATE", .left), ("ROWS", .right), ("QUEUED", .right),
                ("DELIVERED", .right),
            ])
            for status in all {
                table.add([
                    status.campaign.id, status.campaign.account, status.campaign.name, status.state, "\(status.rows)",
                    "\(status.statistics["queued"] ?? 0)", "\(status.statistics["delivered"] ?? 0)",
                ])
            }
            print(table.isEmpty ? "no campaigns" : table.render(indent: 0))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a campaign and its statistics.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The campaign id.") var id: String
        @Flag(help: "As JSON.") var json = false

        func run() async throws {
            guard let status = try await admin.withSession({ try await $0.campaignStatus(id) }) else {
                throw OperatorError("no campaign \(id)")
            }
            if json {
                print(CampaignProgress.json(status))
            } else {
                print(CampaignProgress.text(status, width: 40, eta: nil))
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a campaign (queued mail still goes).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The campaign id.") var id: String
        func run() async throws {
            _ = try await admin.withSession { try await $0.changeCampaign(id, to: "pause") }
            print("paused campaign \(id)")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused campaign.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The campaign id.") var id: String
        func run() async throws {
            _ = try await admin.withSession { try await $0.changeCampaign(id, to: "resume") }
            print("resumed campaign \(id)")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a campaign for good (rows not yet enqueued are not sent).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The campaign id.") var id: String
        func run() async throws {
            _ = try await admin.withSession { try await $0.changeCampaign(id, to: "cancel") }
            print("cancelled campaign \(id)")
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a campaign: a progress bar, outcomes per site and the estimated finish, refreshed.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The campaign id.") var id: String
        @Option(help: ArgumentHelp("Seconds between refreshes.", valueName: "seconds")) var interval: Double = 2

        func run() async throws {
            let tty = isatty(STDOUT_FILENO) == 1
            try await admin.withSession { session in
                var samples: [(time: Double, done: Int)] = []
                while true {
                    guard let status = try await session.campaignStatus(id) else { throw OperatorError("no campaign \(id)") }
                    let now = Date().timeIntervalSince1970
                    let done = status.settled
                    samples.append((now, done))
                    samples.removeAll { now - $0.time > 60 }
                    var eta: Double?
                    if let first = samples.first, now - first.time > 0.5, done > first.done {
                        let perSecond = Double(done - first.done) / (now - first.time)
                        eta = Double(max(status.rows - done, 0)) / perSecond
                    }
                    let text = CampaignProgress.text(status, width: 40, eta: eta)
                    print((tty ? "\u{1B}[H\u{1B}[2J" : "") + text)
                    fflush(nil)
                    let finished = CampaignState(rawValue: status.state)?.isFinal == true && (done >= status.rows || status.state != "sent")
                    if finished { return }
                    try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                }
            }
        }
    }
}
