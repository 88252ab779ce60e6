import CampaignRunner
import Campaigns
import Queue
import RelayCore

/// `hikyaku campaign …` (README "Campaigns"), through the ``CampaignDesk`` the API shares.
extension AdminSession {
    var campaignDesk: CampaignDesk {
        let queue = HikyakuApplication.queueConfiguration(configuration)
        return CampaignDesk(
            campaigns: CampaignStore(redis: redis, configuration: queue), lists: listStore, accounts: accountStore,
            unsubscribeReady: HikyakuApplication.unsubscribeReady(configuration))
    }

    public func createCampaign(_ request: CampaignDesk.Request) async throws -> (Campaign, [ContentChecks.Finding]) {
        let created = try await Self.asOperator { try await campaignDesk.create(request) }
        await audit("campaign.create", [("account", created.0.account), ("id", created.0.id)])
        return created
    }

    public func campaignStatus(_ id: String) async throws -> CampaignDesk.Status? {
        try await Self.asOperator { try await campaignDesk.status(id) }
    }

    public func campaigns(account: String?) async throws -> [CampaignDesk.Status] {
        try await Self.asOperator { try await campaignDesk.all(account: account) }
    }

    /// `pause`, `resume` or `cancel`: the state after.
    public func changeCampaign(_ id: String, to action: String) async throws -> String {
        let state = try await Self.asOperator { try await campaignDesk.change(id, to: action) }
        // The console writes the same names (`campaign.pause|resume|cancel`).
        await audit("campaign.\(action)", [("id", id)])
        return state
    }

    /// A desk refusal as an ``OperatorError`` (printed without usage text).
    static func asOperator<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let refusal as CampaignDesk.Refusal {
            throw OperatorError(refusal.field.map { "\($0): \(refusal.description)" } ?? refusal.description)
        }
    }
}
