import Campaigns
import Queue
import RelayCore
import SMTPProtocol

/// The operations on campaigns that `hikyaku campaign` and `/v1/campaigns` share: create
/// (checked), status, list, pause, resume, cancel — each within one account when `account`
/// is given (an API key sees only its own account's campaigns).
public struct CampaignDesk: Sendable {
    let campaigns: CampaignStore
    let lists: ListStore
    let accounts: AccountStore
    /// Whether the relay can sign one-click unsubscribe links (base URL and key file).
    let unsubscribeReady: Bool

    public init(campaigns: CampaignStore, lists: ListStore, accounts: AccountStore, unsubscribeReady: Bool) {
        self.campaigns = campaigns
        self.lists = lists
        self.accounts = accounts
        self.unsubscribeReady = unsubscribeReady
    }

    /// What creating a campaign takes.
    public struct Request: Sendable {
        public var account: String
        public var name: String
        public var from: String
        public var fromName: String?
        public var subject: String
        public var html: String?
        public var text: String?
        public var list: String
        public var startAt: Int64?
        public var maxRate: Rate?
        public var window: SendWindow?
        public var pool: String?

        public init(account: String, name: String, from: String, subject: String, list: String) {
            self.account = account
            self.name = name
            self.from = from
            self.subject = subject
            self.list = list
        }
    }

    /// A campaign and where it stands.
    public struct Status: Sendable {
        public var campaign: Campaign
        public var state: String
        public var reason: String?
        public var rows: Int
        public var cursor: Int
        public var statistics: [String: Int]

        /// Rows the runner is through with: enqueued, suppressed at the enqueue, or failed.
        public var handled: Int { count("queued") + count("suppressed") + count("failed") }
        /// Rows with a final outcome: delivered, bounced, expired, suppressed or failed.
        public var settled: Int {
            count("delivered") + count("bounced") + count("expired") + count("suppressed") + count("failed")
        }
        public func count(_ outcome: String) -> Int { statistics[outcome] ?? 0 }

        /// Outcomes by receiving site, from the `<outcome>|<site>` counters: site → outcome → count.
        public var sites: [String: [String: Int]] {
            var sites: [String: [String: Int]] = [:]
            for (key, value) in statistics {
                let parts = key.split(separator: "|", maxSplits: 1)
                if parts.count == 2 { sites[String(parts[1]), default: [:]][String(parts[0])] = value }
            }
            return sites
        }
    }

    /// Why an operation was refused: the field (for the API's `invalid` errors) and the text.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case invalid, notFound, conflict, contentErrors }
        public var kind: Kind
        public var field: String?
        public var description: String
        public var findings: [ContentChecks.Finding] = []
    }

    /// Checks the request (account, From, list, templates, content) and stores the campaign
    /// `scheduled`. Content errors refuse it; warnings come back with it.
    public func create(_ request: Request) async throws -> (Campaign, [ContentChecks.Finding]) {
        guard let account = try await accounts.account(named: request.account) else {
            throw Refusal(kind: .notFound, field: "account", description: "no account named \(request.account)")
        }
        guard !request.name.isEmpty, request.name.utf8.count <= 200 else {
            throw Refusal(kind: .invalid, field: "name", description: "must be 1 to 200 octets")
        }
        guard let from = Mailbox(parsing: request.from), !from.isAddressLiteral else {
            throw Refusal(
                kind: .invalid, field: "from", description: "'\(RemoteText.capped(request.from, maxBytes: 100))' is not an address")
        }
        let domain = from.normalizedDomain
        if account.restrictSenders, !account.sendingDomains.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) {
            throw Refusal(kind: .invalid, field: "from", description: "\(from.domain) is not a sending domain of account \(account.name)")
        }
        guard let list = try await lists.info(account: request.account, name: request.list), list.state == "ready" else {
            throw Refusal(
                kind: .notFound, field: "list",
                description: "account \(request.account) has no imported list named '\(RemoteText.capped(request.list, maxBytes: 100))'")
        }
        do { _ = try CampaignTemplates(subject: request.subject, html: request.html, text: request.text) } catch {
            throw Refusal(kind: .invalid, field: error.field, description: error.problem)
        }
        let findings = ContentChecks.run(
            .init(
                html: request.html, text: request.text, fromDomain: domain, unsubscribeConfigured: unsubscribeReady,
                hasDKIMKey: try await hasActiveKey(domain)))
        if ContentChecks.refuses(findings) {
            throw Refusal(
                kind: .contentErrors, field: nil,
                description: "the campaign was not created:\n"
                    + findings.map { "  \($0.severity.rawValue): \($0.problem)\n    fix: \($0.fix)" }.joined(separator: "\n"),
                findings: findings)
        }
        let now = WallClock.nowMilliseconds()
        let campaign = Campaign(
            id: Campaign.newID(now: now), account: request.account, name: request.name, fromAddress: from.description,
            fromName: request.fromName, subject: request.subject, html: request.html, text: request.text, list: request.list,
            startAt: request.startAt ?? now, maxRate: request.maxRate, window: request.window, pool: request.pool, createdAt: now)
        try await campaigns.create(id: campaign.id, account: campaign.account, definition: campaign.encoded(), rows: list.rows)
        return (campaign, findings)
    }

    /// Whether `domain` or a parent has an active DKIM key (what the intake signs with).
    func hasActiveKey(_ domain: String) async throws -> Bool {
        var name = Substring(domain)
        while name.contains(".") {
            if let found = try await accounts.domain(String(name)), found.keys.contains(where: { $0.state == .active }) { return true }
            name = name[name.index(after: name.firstIndex(of: ".")!)...]
        }
        return false
    }

    public func status(_ id: String, account: String? = nil) async throws -> Status? {
        guard Campaign.isValidName(id), let record = try await campaigns.get(id), let campaign = Campaign.decode(record.definition)
        else { return nil }
        if let account, campaign.account != account { return nil }
        return Status(
            campaign: campaign, state: record.state, reason: record.reason, rows: record.rows, cursor: record.cursor,
            statistics: try await campaigns.statistics(id))
    }

    public func all(account: String? = nil) async throws -> [Status] {
        var out: [Status] = []
        for id in try await campaigns.ids() {
            guard let status = try await status(id, account: account) else { continue }
            out.append(status)
        }
        return out
    }

    /// `pause`, `resume` or `cancel`: the state after.
    public func change(_ id: String, to action: String, account: String? = nil) async throws -> String {
        let (target, from): (String, [String])
        switch action {
        case "pause": (target, from) = ("paused", ["scheduled", "running"])
        case "resume": (target, from) = ("running", ["paused"])
        case "cancel": (target, from) = ("cancelled", ["scheduled", "running", "paused"])
        default: throw Refusal(kind: .notFound, field: nil, description: "unknown action \(action)")
        }
        guard let status = try await status(id, account: account) else {
            throw Refusal(kind: .notFound, field: nil, description: "no campaign \(id)")
        }
        guard try await campaigns.transition(id, to: target, from: from) != nil else {
            throw Refusal(kind: .conflict, field: nil, description: "campaign \(id) is \(status.state); cannot \(action) it")
        }
        return target
    }
}
