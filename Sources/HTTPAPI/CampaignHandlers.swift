import CampaignRunner
import Campaigns
import Hummingbird
import NIOCore
import RelayCore

/// `/v1/campaigns`: the caller's account's campaigns (README "Campaigns"), through the same
/// ``CampaignDesk`` as `hikyaku campaign`. Lists are imported with `hikyaku list import`.
///
/// ```
/// POST /v1/campaigns                    {"name","from","subject","html"|"text","list",…}  201 (scope send)
/// GET  /v1/campaigns                    every campaign of the account with its counters   (scope read)
/// GET  /v1/campaigns/{id}               one                                               (scope read)
/// POST /v1/campaigns/{id}/pause|resume|cancel                                             (scope send)
/// ```
struct CampaignHandlers: Sendable {
    let desk: CampaignDesk

    struct CreateRequest: Decodable {
        var name: String
        var from: String
        var fromName: String?
        var subject: String
        var html: String?
        var text: String?
        var list: String
        var startAt: String?
        var maxRate: String?
        var window: String?
        var timeZone: String?
        var pool: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, from, fromName = "from_name", subject, html, text, list, startAt = "start_at", maxRate = "max_rate", window
            case timeZone = "time_zone", pool
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            from = try c.decode(String.self, forKey: .from)
            fromName = try c.decodeIfPresent(String.self, forKey: .fromName)
            subject = try c.decode(String.self, forKey: .subject)
            html = try c.decodeIfPresent(String.self, forKey: .html)
            text = try c.decodeIfPresent(String.self, forKey: .text)
            list = try c.decode(String.self, forKey: .list)
            startAt = try c.decodeIfPresent(String.self, forKey: .startAt)
            maxRate = try c.decodeIfPresent(String.self, forKey: .maxRate)
            window = try c.decodeIfPresent(String.self, forKey: .window)
            timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
            pool = try c.decodeIfPresent(String.self, forKey: .pool)
        }
    }

    struct Shown: Encodable {
        var id: String
        var name: String
        var from: String
        var list: String
        var state: String
        var reason: String?
        var rows: Int
        var cursor: Int
        var startAt: String
        var maxRate: String?
        var window: String?
        var statistics: [String: Int]
        var warnings: [Warning]?

        struct Warning: Encodable {
            var code: String
            var problem: String
            var fix: String
        }

        enum CodingKeys: String, CodingKey {
            case id, name, from, list, state, reason, rows, cursor, startAt = "start_at", maxRate = "max_rate", window, statistics, warnings
        }

        init(_ status: CampaignDesk.Status, warnings: [ContentChecks.Finding]? = nil) {
            id = status.campaign.id
            name = status.campaign.name
            from = status.campaign.fromAddress
            list = status.campaign.list
            state = status.state
            reason = status.reason
            rows = status.rows
            cursor = status.cursor
            startAt = WallClock.iso8601(milliseconds: status.campaign.startAt)
            maxRate = status.campaign.maxRate?.description
            window = status.campaign.window?.description
            statistics = status.statistics
            self.warnings = warnings?.map { Warning(code: $0.code, problem: $0.problem, fix: $0.fix) }
        }
    }

    struct Listing: Encodable { var campaigns: [Shown] }

    func create(_ body: ByteBuffer, caller: APICaller) async throws(APIError) -> Response {
        let input: CreateRequest = try decodeJSON(body)
        var request = CampaignDesk.Request(
            account: caller.account.name, name: input.name, from: input.from, subject: input.subject, list: input.list)
        request.fromName = input.fromName
        request.html = input.html
        request.text = input.text
        request.pool = input.pool
        if let text = input.startAt {
            guard let ms = WallClock.milliseconds(iso8601: text) else { throw APIError.invalid("start_at", "must be an RFC 3339 time") }
            request.startAt = ms
        }
        if let text = input.maxRate {
            guard let rate = Rate(parsing: text) else { throw APIError.invalid("max_rate", "must be a rate such as 50/s") }
            request.maxRate = rate
        }
        if let text = input.window {
            guard let window = SendWindow(parsing: text, timeZone: input.timeZone ?? "UTC") else {
                throw APIError.invalid("window", "must be HH:MM-HH:MM with time_zone an IANA zone such as Asia/Tokyo")
            }
            request.window = window
        }
        let created: (Campaign, [ContentChecks.Finding])
        do { created = try await desk.create(request) } catch { throw Self.apiError(error) }
        guard let status = try await status(created.0.id, caller: caller) else { throw APIError.redisUnavailable() }
        return APIHandlers.jsonResponse(.created, try encodeJSON(Shown(status, warnings: created.1)))
    }

    func list(caller: APICaller) async throws(APIError) -> Response {
        let all: [CampaignDesk.Status]
        do { all = try await desk.all(account: caller.account.name) } catch { throw Self.apiError(error) }
        return APIHandlers.jsonResponse(.ok, try encodeJSON(Listing(campaigns: all.map { Shown($0) })))
    }

    func show(_ id: String, caller: APICaller) async throws(APIError) -> Response {
        guard let status = try await status(id, caller: caller) else {
            throw APIError(.notFound, "not_found", "no campaign \(RemoteText.capped(id, maxBytes: 40)) in account \(caller.account.name)")
        }
        return APIHandlers.jsonResponse(.ok, try encodeJSON(Shown(status)))
    }

    func change(_ id: String, action: String, caller: APICaller) async throws(APIError) -> Response {
        do { _ = try await desk.change(id, to: action, account: caller.account.name) } catch { throw Self.apiError(error) }
        return try await show(id, caller: caller)
    }

    private func status(_ id: String, caller: APICaller) async throws(APIError) -> CampaignDesk.Status? {
        do { return try await desk.status(id, account: caller.account.name) } catch { throw Self.apiError(error) }
    }

    static func apiError(_ error: any Error) -> APIError {
        guard let refusal = error as? CampaignDesk.Refusal else { return APIError.redisUnavailable() }
        switch refusal.kind {
        case .invalid: return APIError.invalid(refusal.field ?? "campaign", refusal.description)
        case .notFound: return APIError(.notFound, "not_found", refusal.description)
        case .conflict: return APIError(.conflict, "conflict", refusal.description)
        case .contentErrors:
            return APIError(
                .unprocessableContent, "content_checks",
                refusal.findings.filter { $0.severity == .error }.map { "\($0.problem) (fix: \($0.fix))" }.joined(separator: "; "))
        }
    }
}
