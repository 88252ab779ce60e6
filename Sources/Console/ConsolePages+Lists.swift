import Hummingbird
import Queue
import RelayCore
import Webhooks

/// An account's suppression list and webhook endpoints, on the stores `/v1/suppressions`
/// and `/v1/webhooks` use. An account user always works on its own account: a page or
/// form naming another is a 404, whatever the URL or the form says. Operators choose the
/// account. A webhook's secret is shown once, in the answer to the form that made it.
extension ConsolePages {
    /// Most entries a search reads (pages of `HSCAN`), and most it shows.
    static let suppressionScanLimit = 20_000
    static let suppressionShown = 200

    func suppressions(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        let query = FormData.parse(request.uri.query)
        let account: String?
        switch pageAccount(query["account"], viewer, context) {
        case .refused(let refused): return refused
        case .chosen(let chosen): account = chosen
        }
        let loc = context.localization
        var values = try await accountChooser(account, viewer)
        // Manual first: what a person adding an address by hand most often means.
        values["reasons"] = ([.manual] + SuppressionReason.allCases.filter { $0 != .manual }).map {
            ["value": $0.rawValue, "label": loc["reason.\($0.rawValue)"]]
        }
        if let notice = Self.notice(query, loc) { values["notice"] = notice }
        if let account {
            let scope = SuppressionScope.account(account)
            let term = (query["q"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            // A whole address is looked up directly; anything else is matched while scanning.
            let exact = term.contains("@") ? try await stores.suppressions.entry(term, in: scope) : nil
            var found = exact.map { [$0] } ?? []
            var cursor = "0", scanned = 0
            repeat {
                let page = try await stores.suppressions.page(scope, cursor: cursor, count: 1000)
                scanned += page.entries.count
                found += page.entries.filter { (term.isEmpty || $0.address.contains(term)) && $0.address != exact?.address }
                cursor = page.next
            } while cursor != "0" && found.count < Self.suppressionShown && scanned < Self.suppressionScanLimit
            values["q"] = term
            values["total"] = try await stores.suppressions.count(scope)
            values["entries"] = found.prefix(Self.suppressionShown).map { entry -> [String: Any] in
                [
                    "address": entry.address, "reason": loc["reason.\(entry.reason.rawValue)"], "source": entry.source ?? "–",
                    "created": WallClock.milliseconds(iso8601: entry.createdAt).map(loc.format) ?? entry.createdAt,
                    "expires": entry.expiresAt.flatMap(WallClock.milliseconds(iso8601:)).map(loc.format) ?? "–",
                ]
            }
        }
        return render("suppressions", title: loc["suppressions.title"], values, context)
    }

    /// `POST /suppressions/add` (account, address, reason, source) and `/suppressions/remove` (account, address).
    func changeSuppression(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let viewer: ConsoleViewer, form: [String: String]
        switch try await posted(request, context, operatorOnly: false) {
        case .refused(let response): return response
        case .form(let v, let f): (viewer, form) = (v, f)
        }
        let chosen: String?
        switch pageAccount(form["account"], viewer, context) {
        case .refused(let refused): return refused
        case .chosen(let account): chosen = account
        }
        guard let account = chosen, try await stores.accounts.account(named: account) != nil else {
            return errorPage(.notFound, "error.notFound", context)
        }
        let address = (form["address"] ?? "").trimmingCharacters(in: .whitespaces)
        let back = "/suppressions?account=\(FormData.encode(account))&done="
        let scope = SuppressionScope.account(account)
        switch context.parameters.get("action") {
        case "add":
            let reason = form["reason"].flatMap(SuppressionReason.init(rawValue:)) ?? .manual
            guard address.utf8.count <= 254, case .success = SuppressionCSV.parse(row: Substring("\(address),\(reason.rawValue)"), now: 0)
            else { return errorPage(.badRequest, "error.address", context) }
            let source = form["source"].flatMap { $0.isEmpty ? nil : String($0.prefix(200)) } ?? "console:\(viewer.user)"
            let now = WallClock.nowMilliseconds()
            let entry = SuppressionEntry(
                address: address, reason: reason, createdAt: WallClock.iso8601(milliseconds: now), source: source,
                expiresAt: stores.suppressionSettings.expiry(for: reason, now: now).map { WallClock.iso8601(milliseconds: $0) })
            try await stores.suppressions.add([entry], to: scope)
            try await audit(
                viewer, "suppression.add",
                [("account", account), ("address", entry.address), ("reason", reason.rawValue), ("source", source)], context)
            return Self.redirect(back + "suppressionAdded")
        case "remove":
            let removed = try await stores.suppressions.remove(address, from: scope)
            try await audit(viewer, "suppression.remove", [("account", account), ("address", address), ("removed", "\(removed)")], context)
            return Self.redirect(back + (removed ? "suppressionRemoved" : "suppressionMissing"))
        default:
            return errorPage(.notFound, "error.notFound", context)
        }
    }

    func webhooks(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        let query = FormData.parse(request.uri.query)
        switch pageAccount(query["account"], viewer, context) {
        case .refused(let refused): return refused
        case .chosen(let account): return try await webhookPage(account, viewer, context, notice: Self.notice(query, context.localization))
        }
    }

    func webhookPage(
        _ account: String?, _ viewer: ConsoleViewer, _ context: ConsoleRequestContext, notice: String? = nil, error: String? = nil,
        created: WebhookEndpoint? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let loc = context.localization
        var values = try await accountChooser(account, viewer)
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        if let created, let secret = created.secrets.first { values["created"] = ["id": created.id, "secret": secret] }
        values["kinds"] = DeliveryEvent.Kind.allCases.map { ["value": $0.rawValue, "label": loc["kind.\($0.rawValue)"]] }
        if let account {
            values["endpoints"] = try await stores.webhooks.endpoints(of: account).map { endpoint -> [String: Any] in
                [
                    "id": endpoint.id, "url": endpoint.url,
                    "events": (endpoint.events ?? []).isEmpty ? loc["webhooks.allEvents"] : (endpoint.events ?? []).joined(separator: ", "),
                    "created": WallClock.milliseconds(iso8601: endpoint.createdAt).map(loc.format) ?? endpoint.createdAt,
                ]
            }
        }
        return render("webhooks", title: loc["webhooks.title"], values, context, status: status)
    }

    /// `POST /webhooks/add` (account, url, events…) and `/webhooks/remove` (account, id).
    func changeWebhook(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let viewer: ConsoleViewer, form: [String: String], all: [(String, String)]
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: FormData.maximumSize))
        switch try await posted(request, context, operatorOnly: false) {
        case .refused(let response): return response
        case .form(let v, let f): (viewer, form, all) = (v, f, FormData.parseAll(body))
        }
        let chosen: String?
        switch pageAccount(form["account"], viewer, context) {
        case .refused(let refused): return refused
        case .chosen(let account): chosen = account
        }
        guard let account = chosen, try await stores.accounts.account(named: account) != nil else {
            return errorPage(.notFound, "error.notFound", context)
        }
        switch context.parameters.get("action") {
        case "add":
            let url = String((form["url"] ?? "").prefix(2000))
            let events = all.filter { $0.0 == "event" }.map(\.1)
            do {
                // Never a private address from the console: only `hikyaku webhook add --allow-private` may.
                let endpoint = try await stores.webhooks.add(account: account, url: url, events: events, allowPrivate: false)
                try await audit(viewer, "webhook.add", [("account", account), ("id", endpoint.id), ("url", endpoint.url)], context)
                return try await webhookPage(account, viewer, context, created: endpoint, status: .created)
            } catch let refusal as WebhookRegistry.Refusal {
                return try await webhookPage(account, viewer, context, error: refusal.description, status: .badRequest)
            }
        case "remove":
            let id = String((form["id"] ?? "").prefix(40))
            let removed = try await stores.webhooks.remove(account: account, id: id)
            try await audit(viewer, "webhook.remove", [("account", account), ("id", id), ("removed", "\(removed)")], context)
            guard removed else { return errorPage(.notFound, "error.notFound", context) }
            return Self.redirect("/webhooks?account=\(FormData.encode(account))&done=webhookRemoved")
        default:
            return errorPage(.notFound, "error.notFound", context)
        }
    }

    /// The account the page is about, and for an operator the accounts to choose from.
    func accountChooser(_ account: String?, _ viewer: ConsoleViewer) async throws -> [String: Any] {
        var values: [String: Any] = [:]
        if let account { values["account"] = account }
        if viewer.isOperator {
            values["accounts"] = try await stores.accounts.all().map(\.name).sorted().map { name -> [String: Any] in
                ["name": name, "selected": name == account]
            }
        }
        return values
    }
}
