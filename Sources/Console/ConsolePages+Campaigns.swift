import CampaignRunner
import Campaigns
import Foundation
import Hummingbird
import RelayCore

/// The account's campaigns (issue 15): progress and counters as `hikyaku campaign show`
/// reads them, and pause, resume and cancel as `hikyaku campaign pause|resume|cancel` does
/// them — all through the ``CampaignDesk`` the CLI and `/v1/campaigns` share, which keeps
/// an account user to its own account: another account's campaign is a 404, by URL or form.
extension ConsolePages {
    /// The outcomes the per-site counters are shown for, in this order.
    static let siteOutcomes = ["delivered", "deferred", "bounced", "expired"]

    func campaigns(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        let account: String?
        switch pageAccount(FormData.parse(request.uri.query)["account"], viewer, context) {
        case .refused(let refused): return refused
        case .chosen(let chosen): account = chosen
        }
        let loc = context.localization
        var values = try await accountChooser(account, viewer)
        let all = try await stores.campaigns.all(account: account)
        // Newest first: ids are time-ordered, the creation time decides between equals.
        values["campaigns"] = all.sorted { ($0.campaign.createdAt, $0.campaign.id) > ($1.campaign.createdAt, $1.campaign.id) }
            .map { campaignValues($0, loc) }
        return render("campaigns", title: loc["campaigns.title"], values, context)
    }

    func campaign(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        let id = context.parameters.get("id") ?? ""
        guard let status = try await stores.campaigns.status(id, account: campaignScope(viewer)) else {
            return errorPage(.notFound, "error.notFound", context)
        }
        let loc = context.localization
        var values = campaignValues(status, loc)
        if let notice = Self.notice(FormData.parse(request.uri.query), loc) { values["notice"] = notice }
        return render("campaign", title: "\(loc["campaigns.title"]): \(status.campaign.name)", values, context)
    }

    /// `POST /campaigns/{id}/pause|resume|cancel`.
    func changeCampaign(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let viewer: ConsoleViewer
        switch try await posted(request, context, operatorOnly: false) {
        case .refused(let response): return response
        case .form(let v, _): viewer = v
        }
        let id = context.parameters.get("id") ?? ""
        let action = context.parameters.get("action") ?? ""
        guard ["pause", "resume", "cancel"].contains(action) else { return errorPage(.notFound, "error.notFound", context) }
        let scope = campaignScope(viewer)
        do {
            let state = try await stores.campaigns.change(id, to: action, account: scope)
            let account = try await stores.campaigns.status(id, account: scope)?.campaign.account ?? ""
            try await audit(viewer, "campaign.\(action)", [("account", account), ("id", id), ("state", state)], context)
            return Self.redirect("/campaigns/\(id)?done=campaign_\(action)")
        } catch let refusal as CampaignDesk.Refusal {
            switch refusal.kind {
            case .conflict: return errorPage(.conflict, "campaigns.conflict", context)
            default: return errorPage(.notFound, "error.notFound", context)
            }
        }
    }

    /// The account a viewer's campaign lookups are limited to (nil: an operator, every one).
    func campaignScope(_ viewer: ConsoleViewer) -> String? {
        viewer.isOperator ? nil : viewer.forcedAccount(requested: nil)
    }

    func campaignValues(_ status: CampaignDesk.Status, _ loc: Localization) -> [String: Any] {
        let c = status.campaign
        let state = CampaignState(rawValue: status.state)
        var values: [String: Any] = [
            "id": c.id, "name": c.name, "account": c.account, "list": c.list, "from": c.fromAddress, "subject": c.subject,
            "state": status.state, "stateLabel": loc["cstate.\(status.state)"],
            "rows": status.rows, "handled": status.handled, "settled": status.settled,
            "start": loc.format(milliseconds: c.startAt), "created": loc.format(milliseconds: c.createdAt),
            "window": c.window.map { Self.window($0, in: loc.timeZone) } ?? loc["campaigns.anyTime"],
            "maxRate": c.maxRate.map { "\($0)" } ?? "–",
            "bar": Self.progressBar(status, title: loc["campaigns.progress"]),
            "canPause": state?.isActive ?? false, "canResume": state == .paused, "canCancel": !(state?.isFinal ?? true),
        ]
        if let reason = status.reason, !reason.isEmpty { values["reason"] = reason }
        for outcome in ["queued", "delivered", "deferred", "bounced", "expired", "complaint", "unsubscribed", "suppressed", "failed"] {
            values[outcome] = status.count(outcome)
        }
        let rows = max(status.rows, 1)
        values["percent"] = String(format: "%.1f%%", 100 * Double(status.settled) / Double(rows))
        values["sites"] = status.sites.sorted { $0.key < $1.key }.map { site, counts -> [String: Any] in
            var row: [String: Any] = ["site": site]
            for outcome in Self.siteOutcomes { row[outcome] = counts[outcome] ?? 0 }
            row["summary"] = Self.siteOutcomes.map { "\(loc["kind.\($0)"]) \(counts[$0] ?? 0)" }.joined(separator: " · ")
            return row
        }
        return values
    }

    /// The window's hours in the viewer's zone (today's offsets), then as the campaign set
    /// them when its zone is another: `01:00–10:00 UTC (09:00–18:00 Asia/Tokyo)`.
    static func window(_ window: SendWindow, in viewerZone: TimeZone, now: Date = Date()) -> String {
        let hm = { (minutes: Int) in String(format: "%02d:%02d", minutes / 60, minutes % 60) }
        let own = "\(hm(window.start))–\(hm(window.end)) \(window.timeZone)"
        guard let zone = TimeZone(identifier: window.timeZone) else { return own }
        let shift = (viewerZone.secondsFromGMT(for: now) - zone.secondsFromGMT(for: now)) / 60
        if shift == 0 && zone.identifier == viewerZone.identifier { return own }
        let local = { (minutes: Int) in ((minutes + shift) % 1440 + 1440) % 1440 }
        let name = viewerZone.abbreviation(for: now) ?? viewerZone.identifier
        return "\(hm(local(window.start)))–\(hm(local(window.end))) \(name) (\(own))"
    }

    /// An inline SVG bar: rows settled (dark) over rows enqueued (light), of all rows.
    static func progressBar(_ status: CampaignDesk.Status, title: String) -> String {
        let rows = Double(max(status.rows, 1))
        let width = 200.0
        let handled = (min(Double(status.handled), rows) / rows * width).rounded()
        let settled = (min(Double(status.settled), rows) / rows * width).rounded()
        return #"<svg class="progress" role="img" width="200" height="12" viewBox="0 0 200 12" xmlns="http://www.w3.org/2000/svg">"#
            + "<title>\(OverviewChart.escape(title)) \(status.settled)/\(status.rows)</title>"
            + ##"<rect width="200" height="12" fill="#eceff1"/><rect class="handled" width="\##(Int(handled))" height="12" fill="#a5d6a7"/>"##
            + ##"<rect class="settled" width="\##(Int(settled))" height="12" fill="#2e7d32"/></svg>"##
    }
}
