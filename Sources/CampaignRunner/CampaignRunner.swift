import Campaigns
import DNSResolver
import Foundation
import Ingest
import Logging
import Queue
import RelayCore
import ServiceLifecycle

/// The campaign runner (role `campaigns`): any number of hosts; each campaign is held by one
/// runner at a time (a lease in Redis, `camp:<id>:lease`), and a runner may hold several.
/// It fans a campaign out in steps of `campaigns.chunk_size` rows through the same
/// ``MessageIntake`` as SMTP and the API (sender policy, suppression, quotas, DKIM).
///
/// Resume after a crash: every row's enqueue checks and sets the row's bit of the campaign's
/// done bitmap in the enqueue step itself (``EnqueueOnce``, `hk_enqueue`), so a row is
/// stored at most once whatever is killed when; the cursor (`camp:<id>` field `cursor`)
/// moves only past rows whose bit is set, so no row is skipped. A runner that takes a
/// campaign over starts at the cursor and skips the rows already marked.
///
/// ```
/// C: SET hk:camp:c01…:lease <token> NX PX 15000
/// C: GETRANGE hk:camp:c01…:done … ; LRANGE hk:list:acme:news:0 …   (rows ahead of the cursor)
/// C: XLEN hk:q:default:docomo.ne.jp …                               (the lookahead per site)
/// C: FCALL hk_enqueue … <once_bit>   ×chunk                          (through MessageIntake)
/// C: FCALL hkc_advance hk:camp:c01… <cursor>
/// ```
public struct CampaignRunner: Service, CustomStringConvertible {
    /// `List-Unsubscribe` and `List-Unsubscribe-Post` for (account, recipient, campaign), or
    /// nil when unsubscribe is not configured.
    public typealias UnsubscribeHeaders =
        @Sendable (_ account: String, _ recipient: String, _ campaign: String) -> [(name: String, value: String)]?
    static let leaseTime: Int64 = 15_000
    static let idleWait: Duration = .milliseconds(500)

    let store: CampaignStore
    let lists: ListStore
    let intake: MessageIntake
    let accounts: AccountDirectory
    let settings: CampaignSettings
    let sites: SiteLookahead
    let hostname: String
    let token: String
    let unsubscribe: UnsubscribeHeaders?
    let logger: Logger

    public var description: String { "CampaignRunner(\(token))" }

    public init(
        store: CampaignStore, lists: ListStore, intake: MessageIntake, accounts: AccountDirectory, settings: CampaignSettings,
        delivery: DeliverySettings, dns: DNSResolver, hostname: String, token: String, unsubscribe: UnsubscribeHeaders?,
        logger: Logger
    ) {
        self.store = store
        self.lists = lists
        self.intake = intake
        self.accounts = accounts
        self.settings = settings
        self.sites = SiteLookahead(settings: delivery, dns: dns)
        self.hostname = hostname
        self.token = token
        self.unsubscribe = unsubscribe
        self.logger = logger
    }

    /// What a runner keeps of a campaign it holds. Only the runner's one pass loop changes
    /// it (`bucket`, `pausedUntil`); the enqueue tasks of a step read its constant fields.
    final class Held: @unchecked Sendable {
        let campaign: Campaign
        let lease: ExclusiveLease
        let message: RowMessage
        let rows: Int
        var bucket: RateBucket?
        var pausedUntil: Int64 = 0
        /// The first row not yet looked at (rows before it are settled or waiting).
        var frontier = 0
        /// Rows looked at and waiting for their site to have room, by site.
        var waiting: [SiteName: RowQueue] = [:]
        var siteDomains: [SiteName: Set<DomainName>] = [:]
        var siteRates: [SiteName: Rate?] = [:]
        var waitingCount: Int { waiting.values.reduce(0) { $0 + $1.count } }

        init(campaign: Campaign, lease: ExclusiveLease, message: RowMessage, rows: Int, now: Int64) {
            self.campaign = campaign
            self.lease = lease
            self.message = message
            self.rows = rows
            self.bucket = campaign.maxRate.map { RateBucket(rate: $0, now: now) }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.runUntilCancelled()
        }
    }

    private func runUntilCancelled() async {
        var held: [String: Held] = [:]
        while !Task.isCancelled {
            var busy = false
            do {
                busy = try await self.pass(&held)
            } catch {
                logger.warning("campaigns: a pass failed (\(error)); retrying")
            }
            if !busy { try? await Task.sleep(for: Self.idleWait) }
        }
        // Let another runner take over at once instead of after the lease lapses.
        for (_, h) in held { await h.lease.release() }
    }

    /// Visits every campaign once: takes the free active ones, steps the held ones, lets go
    /// of those no longer active. Returns whether any row was enqueued.
    func pass(_ held: inout [String: Held]) async throws -> Bool {
        var busy = false
        let ids = try await store.ids()
        for id in Set(held.keys).subtracting(ids) {
            await held[id]?.lease.release()
            held[id] = nil
        }
        for id in ids {
            if Task.isCancelled { break }
            // The state and cursor only: the definition (templates) is read once, by `prepare`.
            guard let record = try await store.get(id, withDefinition: false), let state = CampaignState(rawValue: record.state)
            else { continue }
            if !state.isActive {
                if let h = held.removeValue(forKey: id) { await h.lease.release() }
                continue
            }
            let h: Held
            if let known = held[id] {
                guard try await known.lease.renew(milliseconds: Self.leaseTime) else {
                    logger.notice("campaigns: lost the lease of campaign \(id) to another runner")
                    held[id] = nil
                    continue
                }
                h = known
            } else {
                let lease = store.lease(id, token: token)
                guard try await lease.acquire(milliseconds: Self.leaseTime) else { continue }
                guard let full = try await store.get(id), let made = try await prepare(full, lease: lease) else {
                    await lease.release()
                    continue
                }
                logger.notice("campaigns: holding campaign \(id) (cursor \(record.cursor) of \(record.rows))")
                held[id] = made
                h = made
            }
            if try await step(h, record: record) > 0 { busy = true }
        }
        return busy
    }

    /// The runner's view of a campaign: its definition, templates and list; a campaign that
    /// cannot be read is failed with the reason.
    func prepare(_ record: CampaignStore.Record, lease: ExclusiveLease) async throws -> Held? {
        guard let campaign = Campaign.decode(record.definition) else {
            try await store.transition(record.id, to: "failed", from: ["scheduled", "running"], reason: "unreadable definition")
            return nil
        }
        if unsubscribe == nil {
            // RFC 8058 one-click unsubscribe is what Gmail and Yahoo require of bulk mail.
            try await store.transition(
                record.id, to: "paused", from: ["scheduled", "running"],
                reason: "this runner cannot sign unsubscribe links: set campaigns.unsubscribe_base_url and secrets.key_file, then resume")
            return nil
        }
        let templates: CampaignTemplates
        do { templates = try CampaignTemplates(subject: campaign.subject, html: campaign.html, text: campaign.text) } catch {
            try await store.transition(record.id, to: "failed", from: ["scheduled", "running"], reason: "\(error)")
            return nil
        }
        guard let list = try await lists.info(account: campaign.account, name: campaign.list), list.state == "ready" else {
            try await store.transition(
                record.id, to: "failed", from: ["scheduled", "running"], reason: "list '\(campaign.list)' is missing or not imported")
            return nil
        }
        let message = RowMessage(
            campaign: campaign, templates: templates, columns: list.columns, emailIndex: list.emailIndex, hostname: hostname)
        return Held(campaign: campaign, lease: lease, message: message, rows: record.rows, now: WallClock.nowMilliseconds())
    }
}
