import CampaignRunner
import Queue
import RelayCore
import Webhooks

/// What the operator and account pages change, the same stores the CLI (through
/// `AdminSession`) and the HTTP API use, so a change from the console has exactly their
/// effect: queue administration (`hikyaku queue|suspend|resume`), accounts (`hikyaku
/// account pause|resume`), suppression lists (`/v1/suppressions`), webhook endpoints
/// (`/v1/webhooks`) and campaigns (`hikyaku campaign show|pause|resume|cancel`, `/v1/campaigns`).
public struct ConsoleStores: Sendable {
    public var queueAdmin: QueueAdmin
    public var accounts: AccountStore
    public var suppressions: SuppressionStore
    public var suppressionSettings: SuppressionSettings
    public var webhooks: WebhookRegistry
    public var campaigns: CampaignDesk
    /// `delivery.egress` of this host's configuration: the addresses whose warm-up the
    /// egress page shows (the counters themselves are cluster-wide, in Redis).
    public var egress: [EgressIPSettings]

    public init(
        queueAdmin: QueueAdmin, accounts: AccountStore, suppressions: SuppressionStore, suppressionSettings: SuppressionSettings,
        webhooks: WebhookRegistry, campaigns: CampaignDesk, egress: [EgressIPSettings]
    ) {
        self.queueAdmin = queueAdmin
        self.accounts = accounts
        self.suppressions = suppressions
        self.suppressionSettings = suppressionSettings
        self.webhooks = webhooks
        self.campaigns = campaigns
        self.egress = egress
    }
}
