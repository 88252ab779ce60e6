import Foundation
import HTTPTypes
import Hummingbird
import LogStore
import NIOCore
import RelayCore

/// The pages that read the log store: overview, search, CSV, timeline. Each asks the store
/// with the viewer's scope; a page of another account's message looks exactly like a
/// message that does not exist (404), so probing ids tells nothing.
extension ConsolePages {
    static let pageSize = 100

    func overview(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        guard let logs else { return errorPage(.serviceUnavailable, "error.unavailable", context) }
        let loc = context.localization
        let now = WallClock.nowMilliseconds()
        let hour = now / 3_600_000
        let rows = try await logs.stats(
            viewer.scope(
                StatsQuery(account: nil, since: (hour - 24 * 30 + 1) * 3_600_000, until: now + 1, bySite: true, byAccountAndDomain: false)))
        let todayStart = SearchForm.milliseconds(localDateTime: Self.localDate(now, loc) + "T00:00", in: loc.timeZone) ?? now
        let periods: [(String, Int64)] = [
            (loc["overview.today"], todayStart / 3_600_000), (loc["overview.7d"], hour - 24 * 7 + 1),
            (loc["overview.30d"], hour - 24 * 30 + 1),
        ]
        // Hours since 1970 below; a row's `hour` is its hour's start in ms.
        let periodValues = periods.map { name, firstHour -> [String: Any] in
            let totals = OutcomeTotals.sum(rows.lazy.filter { $0.hour / 3_600_000 >= firstHour })
            return [
                "name": name, "accepted": totals.accepted, "delivered": totals.delivered, "bounced": totals.bounced + totals.expired,
                "deferred": totals.deferred, "complaints": totals.complaints, "deliveryRate": OverviewChart.percent(totals.deliveryRate),
                "bounceRate": OverviewChart.percent(totals.bounceRate), "complaintRate": OverviewChart.percent(totals.complaintRate),
                "bounceClass": (totals.bounceRate ?? 0) > OutcomeTotals.bounceLimit ? "over" : "",
                "complaintClass": (totals.complaintRate ?? 0) > OutcomeTotals.complaintLimit ? "over" : "",
            ]
        }
        let week = OutcomeTotals.sum(rows.lazy.filter { $0.hour / 3_600_000 > hour - 24 * 7 })
        let bars = (hour - 23...hour).map { h in
            let totals = OutcomeTotals.sum(rows.lazy.filter { $0.hour / 3_600_000 == h })
            return OverviewChart.Bar(
                label: loc.hourLabel(hour: h), delivered: totals.delivered, bounced: totals.bounced + totals.expired,
                deferred: totals.deferred)
        }
        let sites = Dictionary(grouping: rows.filter { $0.hour / 3_600_000 > hour - 24 * 7 }, by: \.site).map { site, siteRows in
            (site, OutcomeTotals.sum(siteRows))
        }.filter { $0.1.finished + $0.1.deferred > 0 }.sorted { $0.1.finished > $1.1.finished }.prefix(20)
        let values: [String: Any] = [
            "periods": periodValues,
            "bounceGauge": OverviewChart.gauge(rate: week.bounceRate, limit: OutcomeTotals.bounceLimit, label: loc["overview.bounceRate"]),
            "complaintGauge": OverviewChart.gauge(
                rate: week.complaintRate, limit: OutcomeTotals.complaintLimit, label: loc["overview.complaintRate"]),
            "bounceRate7d": OverviewChart.percent(week.bounceRate), "complaintRate7d": OverviewChart.percent(week.complaintRate),
            "hourlyChart": OverviewChart.hourly(bars, title: loc["overview.perHour"]),
            "sites": sites.map { site, totals -> [String: Any] in
                [
                    "name": site.isEmpty ? "–" : site, "delivered": totals.delivered, "bounced": totals.bounced + totals.expired,
                    "deferred": totals.deferred, "deliveryRate": OverviewChart.percent(totals.deliveryRate),
                ]
            },
        ]
        return render("overview", title: loc["overview.title"], values, context)
    }

    func search(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        let loc = context.localization
        let form = SearchForm(query: request.uri.query)
        var values: [String: Any] = [
            "form": form.fields, "queryString": form.queryString(), "searched": !form.isEmpty,
            "kinds": DeliveryEvent.Kind.allCases.map {
                ["value": $0.rawValue, "label": loc["kind.\($0.rawValue)"], "selected": form.fields["status"] == $0.rawValue]
                    as [String: Any]
            },
            "classes": BounceClass.allCases.map {
                ["value": $0.rawValue, "selected": form.fields["class"] == $0.rawValue] as [String: Any]
            },
        ]
        if !form.isEmpty {
            guard let logs else { return errorPage(.serviceUnavailable, "error.unavailable", context) }
            let found = try await logs.search(viewer.scope(form.query(timeZone: loc.timeZone, limit: Self.pageSize)))
            values["rows"] = found.map { eventValues($0, loc) }
            values["hasRows"] = !found.isEmpty
            if found.count == Self.pageSize, let last = found.last { values["next"] = form.queryString(before: last.streamID) }
        }
        return render("search", title: loc["search.title"], values, context)
    }

    /// The search as CSV, every match (not one page), written as the store yields it.
    func csv(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        guard let logs else { return errorPage(.serviceUnavailable, "error.unavailable", context) }
        let form = SearchForm(query: request.uri.query)
        var scoped = viewer.scope(form.query(timeZone: context.localization.timeZone, limit: Int.max))
        scoped.before = nil
        let query = scoped
        try? await sessions.audit(actor: viewer.user, action: "logs.export", fields: [("query", form.queryString())])
        let body = ResponseBody { writer in
            var buffer = ByteBuffer(bytes: EventCSV.bom)
            buffer.writeString(EventCSV.line(EventCSV.header))
            var pending = buffer
            try await logs.export(query) { event in
                pending.writeString(EventCSV.line(EventCSV.row(event)))
                if pending.readableBytes >= 32 * 1024 {
                    try await writer.write(pending)
                    pending = ByteBuffer()
                }
            }
            if pending.readableBytes > 0 { try await writer.write(pending) }
            try await writer.finish(nil)
        }
        let name = "hikyaku-logs-\(WallClock.nowMilliseconds() / 1000).csv"
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\"", .cacheControl: "no-store",
            ],
            body: body)
    }

    func timeline(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        guard let logs else { return errorPage(.serviceUnavailable, "error.unavailable", context) }
        let loc = context.localization
        let queueID = context.parameters.get("queueID") ?? ""
        guard !queueID.isEmpty, queueID.utf8.count <= 64 else { return errorPage(.notFound, "timeline.notFound", context) }
        let events = try await logs.timeline(queueID: queueID, account: viewer.forcedAccount(requested: nil))
        // The store scopes by account; checked again here, so a store that forgot cannot leak.
        let visible = events.filter { viewer.isOperator || $0.event.account == viewer.account }
        guard !visible.isEmpty else { return errorPage(.notFound, "timeline.notFound", context) }
        var values: [String: Any] = ["queueID": queueID, "events": visible.map { eventValues($0, loc) }]
        if let messageID = visible.first?.event.messageID { values["messageID"] = messageID }
        return render("timeline", title: loc["timeline.title"], values, context)
    }

    /// An event's fields for a template; empty ones left out, so `{{#reply}}` sections close.
    func eventValues(_ logged: LoggedEvent, _ loc: Localization) -> [String: String] {
        let e = logged.event
        let all: [String: String] = [
            "time": EventTime.milliseconds(iso8601: e.time).map(loc.format(milliseconds:)) ?? e.time, "kind": e.event.rawValue,
            "kindLabel": loc["kind.\(e.event.rawValue)"], "recipient": e.recipient ?? (e.recipients ?? []).joined(separator: ", "),
            "account": e.account ?? "", "site": e.site?.rawValue ?? "", "bounceClass": e.bounceClass?.rawValue ?? "", "queueID": e.queueID,
            "reply": e.reply ?? "", "attempt": e.attempt.map(String.init) ?? "", "remoteHost": e.remoteHost ?? "",
        ]
        return all.filter { !$0.value.isEmpty }
    }

    /// `YYYY-MM-DD` of `milliseconds` in the viewer's zone.
    static func localDate(_ milliseconds: Int64, _ loc: Localization) -> String {
        String(loc.format(milliseconds: milliseconds).prefix(10))
    }
}

/// Event times (`WallClock.iso8601`, `2025-01-31T00:05:00.123Z`) back to milliseconds.
enum EventTime {
    static func milliseconds(iso8601 text: String) -> Int64? {
        guard text.hasSuffix("Z") else { return nil }
        let body = text.dropLast()
        let (main, fraction) = body.firstIndex(of: ".").map { (body[..<$0], body[body.index(after: $0)...]) } ?? (body, "")
        guard let seconds = SearchForm.milliseconds(localDateTime: String(main), in: TimeZone(identifier: "UTC")!) else { return nil }
        let millis = Int64(String(fraction.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0
        return seconds + millis
    }
}
