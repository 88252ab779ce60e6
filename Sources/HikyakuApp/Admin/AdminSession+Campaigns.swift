import Campaigns
import Queue
import RelayCore
import SMTPProtocol

/// `hikyaku campaign …` (README "Campaigns").
extension AdminSession {
    var campaignStore: CampaignStore {
        CampaignStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration))
    }

    /// What `campaign create` is given.
    public struct CampaignRequest: Sendable {
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
    public struct CampaignStatus: Sendable {
        public var campaign: Campaign
        public var state: String
        public var reason: String?
        public var rows: Int
        public var cursor: Int
        public var statistics: [String: Int]
    }

    /// Checks the request (account, From, list, templates, content) and stores the campaign
    /// `scheduled`. Content errors refuse it; warnings come back with it.
    public func createCampaign(_ request: CampaignRequest) async throws -> (Campaign, [ContentChecks.Finding]) {
        guard let account = try await accountStore.account(named: request.account) else {
            throw OperatorError("no account named \(request.account)")
        }
        guard let from = Mailbox(parsing: request.from) else { throw OperatorError("--from '\(request.from)' is not an address") }
        if account.restrictSenders,
            !account.sendingDomains.contains(where: { from.normalizedDomain == $0 || from.normalizedDomain.hasSuffix("." + $0) })
        {
            throw OperatorError("\(from.domain) is not a sending domain of account \(account.name)")
        }
        guard let list = try await listStore.info(account: request.account, name: request.list), list.state == "ready" else {
            throw OperatorError("account \(request.account) has no imported list named '\(request.list)' (hikyaku list import)")
        }
        do { _ = try CampaignTemplates(subject: request.subject, html: request.html, text: request.text) } catch {
            throw OperatorError(error.description)
        }
        let findings = ContentChecks.run(
            .init(
                html: request.html, text: request.text, fromDomain: from.normalizedDomain,
                unsubscribeConfigured: configuration.campaigns.unsubscribeBaseURL != nil && configuration.secrets.keyFile != nil,
                hasDKIMKey: try await hasActiveKey(from.normalizedDomain)))
        if ContentChecks.refuses(findings) {
            throw OperatorError(
                "the campaign was not created:\n"
                    + findings.map { "  \($0.severity.rawValue): \($0.problem)\n    fix: \($0.fix)" }.joined(separator: "\n"))
        }
        let now = WallClock.nowMilliseconds()
        let campaign = Campaign(
            id: Campaign.newID(now: now), account: request.account, name: request.name, fromAddress: from.description,
            fromName: request.fromName, subject: request.subject, html: request.html, text: request.text, list: request.list,
            startAt: request.startAt ?? now, maxRate: request.maxRate, window: request.window, pool: request.pool, createdAt: now)
        try await campaignStore.create(id: campaign.id, account: campaign.account, definition: campaign.encoded(), rows: list.rows)
        return (campaign, findings)
    }

    /// Whether `domain` or a parent has an active DKIM key (what the intake signs with).
    func hasActiveKey(_ domain: String) async throws -> Bool {
        var name = Substring(domain)
        while name.contains(".") {
            if let found = try await accountStore.domain(String(name)), found.keys.contains(where: { $0.state == .active }) { return true }
            name = name[name.index(after: name.firstIndex(of: ".")!)...]
        }
        return false
    }

    public func campaignStatus(_ id: String) async throws -> CampaignStatus? {
        guard let record = try await campaignStore.get(id), let campaign = Campaign.decode(record.definition) else { return nil }
        return CampaignStatus(
            campaign: campaign, state: record.state, reason: record.reason, rows: record.rows, cursor: record.cursor,
            statistics: try await campaignStore.statistics(id))
    }

    public func campaigns(account: String?) async throws -> [CampaignStatus] {
        var out: [CampaignStatus] = []
        for id in try await campaignStore.ids() {
            guard let status = try await campaignStatus(id) else { continue }
            if let account, status.campaign.account != account { continue }
            out.append(status)
        }
        return out
    }

    /// `pause`, `resume` or `cancel`: the state before, or an error saying why not.
    public func changeCampaign(_ id: String, to action: String) async throws -> String {
        let (target, from): (String, [String])
        switch action {
        case "pause": (target, from) = ("paused", ["scheduled", "running"])
        case "resume": (target, from) = ("running", ["paused"])
        case "cancel": (target, from) = ("cancelled", ["scheduled", "running", "paused"])
        default: throw OperatorError("unknown action \(action)")
        }
        guard let record = try await campaignStore.get(id) else { throw OperatorError("no campaign \(id)") }
        guard let before = try await campaignStore.transition(id, to: target, from: from) else {
            throw OperatorError("campaign \(id) is \(record.state); cannot \(action) it")
        }
        return before
    }
}
