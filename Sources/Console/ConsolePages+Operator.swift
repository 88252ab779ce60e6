import Hummingbird
import Queue
import RelayCore

/// The operator's pages: the queue (`hikyaku queue`), suspensions and slow-downs with
/// suspend and resume (`hikyaku suspend|resume`), egress IPs, accounts with pause and
/// resume (`hikyaku account pause|resume`), and the audit log. They call the library
/// functions the CLI calls, so a change here is the same change.
extension ConsolePages {
    func queues(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        if let refused = operatorOnly(context) { return refused }
        let loc = context.localization
        let report = try await stores.queueAdmin.report()
        let now = report.time
        let when = { (time: Int64?) -> String in time.map { $0 <= now ? loc["queue.now"] : loc.format(milliseconds: $0) } ?? "–" }
        var values: [String: Any] = [
            "pools": report.pools.map { pool -> [String: Any] in
                [
                    "pool": pool.pool.rawValue, "depth": pool.depth,
                    "destinations": pool.destinations.map { d -> [String: Any] in
                        [
                            "domain": d.domain.rawValue, "queued": d.queued, "claimed": d.claimed, "deferredItems": d.deferredItems,
                            "deferredRecipients": d.deferredRecipients, "nextRetry": when(d.nextRetryAt), "ready": when(d.readyAt),
                        ]
                    },
                ]
            },
            "suspensions": report.suspensions.map { s -> [String: Any] in
                [
                    "target": s.target.description, "kind": s.ip == nil ? "site" : "ip", "site": s.site?.rawValue ?? "",
                    "ip": s.ip?.rawValue ?? "", "left": DisplayTime.span(milliseconds: s.remainingMilliseconds),
                    "reason": s.reason ?? "", "rule": s.rule ?? "", "node": s.node ?? "",
                ]
            },
            "slowdowns": report.slowdowns.map { s -> [String: Any] in
                [
                    "ip": s.ip.rawValue, "site": s.site.rawValue, "factor": "×\(s.factor)",
                    "left": DisplayTime.span(milliseconds: s.remainingMilliseconds),
                ]
            },
            "leases": report.leases.map { ["ip": $0.ip.rawValue, "site": $0.site.rawValue, "inUse": $0.inUse] as [String: Any] },
        ]
        if let notice = Self.notice(FormData.parse(request.uri.query), loc) { values["notice"] = notice }
        return render("queues", title: loc["queue.title"], values, context)
    }

    /// `POST /ops/suspend` (kind, site, ip, duration, reason) and `POST /ops/resume` (kind, site, ip).
    func changeQueue(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let viewer: ConsoleViewer, form: [String: String]
        switch try await posted(request, context, operatorOnly: true) {
        case .refused(let response): return response
        case .form(let v, let f): (viewer, form) = (v, f)
        }
        let action = context.parameters.get("action") ?? ""
        let site = Self.name(form["site"]).map(SiteName.init(rawValue:))
        let target: SuspensionTarget
        switch form["kind"] {
        case "site":
            guard let site else { return errorPage(.badRequest, "error.form", context) }
            target = .site(site)
        case "ip":
            guard let ip = Self.name(form["ip"], limit: 64) else { return errorPage(.badRequest, "error.form", context) }
            target = .ip(EgressID(rawValue: ip), site: site)
        default: return errorPage(.badRequest, "error.form", context)
        }
        switch action {
        case "suspend":
            guard let duration = form["duration"].flatMap(ConfigDuration.init(parsing:)), duration.milliseconds > 0 else {
                return errorPage(.badRequest, "error.duration", context)
            }
            let reason = form["reason"].flatMap { $0.isEmpty ? nil : String($0.prefix(200)) } ?? "suspended by \(viewer.user) (console)"
            try await stores.queueAdmin.suspend(target, for: duration.duration, reason: reason)
            try await audit(
                viewer, "queue.suspend", [("target", target.description), ("duration", "\(duration)"), ("reason", reason)], context)
            return Self.redirect("/ops/queues?done=suspended")
        case "resume":
            let result = try await stores.queueAdmin.resume(target)
            try await audit(
                viewer, "queue.resume", [("target", target.description), ("was_suspended", "\(result.wasSuspended)")], context)
            return Self.redirect("/ops/queues?done=\(result.wasSuspended ? "resumed" : "notSuspended")")
        default:
            return errorPage(.notFound, "error.notFound", context)
        }
    }

    func egress(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        if let refused = operatorOnly(context) { return refused }
        let loc = context.localization
        let report = try await stores.queueAdmin.report()
        let health = try await stores.queueAdmin.egressHealth(configured: stores.egress, report: report)
        let rows = health.map { ip -> [String: Any] in
            var row: [String: Any] = [
                "ip": ip.ip.rawValue, "pool": ip.pool?.rawValue ?? "–", "weight": ip.weight.map(String.init) ?? "–",
                "connections": ip.connections, "healthy": ip.isHealthy,
                "state": loc[ip.suspendedEverywhere != nil ? "egress.suspended" : ip.isHealthy ? "egress.ok" : "egress.limited"],
                "siteSuspensions": ip.siteSuspensions.map {
                    "\($0.site?.rawValue ?? "?") (\(DisplayTime.span(milliseconds: $0.remainingMilliseconds)))"
                }
                .joined(separator: ", "),
                "slowdowns": ip.slowdowns.map { "\($0.site.rawValue) ×\($0.factor)" }.joined(separator: ", "),
            ]
            if let all = ip.suspendedEverywhere { row["suspendedLeft"] = DisplayTime.span(milliseconds: all.remainingMilliseconds) }
            if let warm = ip.warmup {
                row["warmup"] = [
                    "day": loc.language == .ja ? "\(warm.day)/\(warm.days)日目" : "day \(warm.day) of \(warm.days)",
                    "cap": warm.cap, "sent": warm.sentToday,
                    "percent": warm.cap == 0 ? 100 : min(100, warm.sentToday * 100 / warm.cap),
                ]
            }
            return row
        }
        return render("egress", title: loc["egress.title"], ["rows": rows], context)
    }

    func accounts(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        if let refused = operatorOnly(context) { return refused }
        let loc = context.localization
        let rows = try await stores.accounts.all().sorted { $0.name < $1.name }.map { account -> [String: Any] in
            var row: [String: Any] = [
                "name": account.name, "pool": account.pool.rawValue, "domains": account.sendingDomains.joined(separator: ", "),
            ]
            if let pause = account.paused {
                row["paused"] = [
                    "reason": pause.reason, "since": WallClock.milliseconds(iso8601: pause.since).map(loc.format) ?? pause.since,
                ]
            }
            return row
        }
        var values: [String: Any] = ["rows": rows]
        if let notice = Self.notice(FormData.parse(request.uri.query), loc) { values["notice"] = notice }
        return render("accounts", title: loc["accounts.title"], values, context)
    }

    /// `POST /ops/accounts/pause` (name, reason) and `POST /ops/accounts/resume` (name).
    func changeAccount(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let viewer: ConsoleViewer, form: [String: String]
        switch try await posted(request, context, operatorOnly: true) {
        case .refused(let response): return response
        case .form(let v, let f): (viewer, form) = (v, f)
        }
        guard let name = Self.name(form["name"], limit: 64), try await stores.accounts.account(named: name) != nil else {
            return errorPage(.notFound, "error.notFound", context)
        }
        switch context.parameters.get("action") {
        case "pause":
            let reason = form["reason"].flatMap { $0.isEmpty ? nil : String($0.prefix(200)) } ?? "paused by the relay operator"
            let changed = try await stores.accounts.pause(name, reason: reason)
            try await audit(viewer, "account.pause", [("account", name), ("reason", reason), ("changed", "\(changed)")], context)
            return Self.redirect("/ops/accounts?done=\(changed ? "paused" : "alreadyPaused")")
        case "resume":
            let changed = try await stores.accounts.resume(name)
            try await audit(viewer, "account.resume", [("account", name), ("changed", "\(changed)")], context)
            return Self.redirect("/ops/accounts?done=\(changed ? "accountResumed" : "notPaused")")
        default:
            return errorPage(.notFound, "error.notFound", context)
        }
    }

    func audit(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        if let refused = operatorOnly(context) { return refused }
        let loc = context.localization
        let rows = try await sessions.recentAudit(count: 200).map { entry -> [String: Any] in
            let details = entry.fields.filter { !["time", "actor", "action"].contains($0.key) }.sorted { $0.key < $1.key }
            return [
                "time": entry.fields["time"].flatMap(WallClock.milliseconds(iso8601:)).map(loc.format) ?? entry.fields["time"] ?? "",
                "actor": entry.fields["actor"] ?? "", "action": entry.fields["action"] ?? "",
                "details": details.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            ]
        }
        return render("audit", title: loc["audit.title"], ["rows": rows], context)
    }
}
