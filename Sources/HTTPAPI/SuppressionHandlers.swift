import Hummingbird
import NIOCore
import Queue
import RelayCore

/// `/v1/suppressions` (scope `suppressions`): the caller's account's suppression list.
/// The global list is the operator's (`hikyaku suppression … --global`); a lookup with
/// `?address=` reports it too, since it applies to the account's mail.
///
/// ```
/// GET    /v1/suppressions?cursor=&limit=     a page of entries and next_cursor
/// GET    /v1/suppressions?address=a@b.c      the entry that applies (account's or global), or none
/// POST   /v1/suppressions                    {"address":…,"reason":…} or {"suppressions":[…]} (≤ 1000)
/// DELETE /v1/suppressions/{address}          204, or 404
/// ```
struct SuppressionHandlers: Sendable {
    let store: SuppressionStore
    let settings: SuppressionSettings
    static let maxPerRequest = 1000

    struct Shown: Encodable {
        var address: String
        var reason: String
        var createdAt: String
        var source: String?
        var expiresAt: String?
        var scope: String

        enum CodingKeys: String, CodingKey { case address, reason, createdAt = "created_at", source, expiresAt = "expires_at", scope }

        init(_ entry: SuppressionEntry, scope: SuppressionScope) {
            address = entry.address
            reason = entry.reason.rawValue
            createdAt = entry.createdAt
            source = entry.source
            expiresAt = entry.expiresAt
            if case .global = scope { self.scope = "global" } else { self.scope = "account" }
        }
    }

    struct Listing: Encodable {
        var suppressions: [Shown]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case suppressions, nextCursor = "next_cursor" }
    }

    struct NewEntry: Decodable {
        var address: String
        var reason: String?
        var expiresAt: String?
        var source: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case address, reason, expiresAt = "expires_at", source }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            address = try c.decode(String.self, forKey: .address)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
            expiresAt = try c.decodeIfPresent(String.self, forKey: .expiresAt)
            source = try c.decodeIfPresent(String.self, forKey: .source)
        }
    }

    /// One entry, or `{"suppressions": [...]}`.
    struct AddRequest: Decodable {
        var entries: [NewEntry]
        var isList: Bool

        enum ListKeys: String, CodingKey, CaseIterable { case suppressions }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ListKeys.self)
            if c.contains(.suppressions) {
                try decoder.rejectUnknownFields(ListKeys.self)
                entries = try c.decode([NewEntry].self, forKey: .suppressions)
                isList = true
            } else {
                entries = [try NewEntry(from: decoder)]
                isList = false
            }
        }
    }

    func list(_ request: Request, caller: APICaller) async throws(APIError) -> Response {
        let query = request.uri.queryParameters
        let scope = SuppressionScope.account(caller.account.name)
        if let address = query["address"].map(String.init) {
            let found: (scope: SuppressionScope, entry: SuppressionEntry)?
            do { found = try await store.lookup(address, account: caller.account.name) } catch { throw APIError.redisUnavailable() }
            let shown = found.map { [Shown($0.entry, scope: $0.scope)] } ?? []
            return APIHandlers.jsonResponse(.ok, try encodeJSON(Listing(suppressions: shown)))
        }
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIError.invalid("limit", "must be 1 to 1000") }
            limit = value
        }
        var cursor = query["cursor"].map(String.init) ?? "0"
        guard !cursor.isEmpty, cursor.count <= 20, cursor.allSatisfy(\.isASCIIDigit) else {
            throw APIError.invalid("cursor", "is not a cursor this API gave")
        }
        // HSCAN's COUNT is a hint: gather pages until `limit` or the end.
        var found: [Shown] = []
        repeat {
            let page: (entries: [SuppressionEntry], next: String)
            do { page = try await store.page(scope, cursor: cursor, count: limit - found.count) } catch {
                throw APIError.redisUnavailable()
            }
            found += page.entries.map { Shown($0, scope: scope) }
            cursor = page.next
        } while cursor != "0" && found.count < limit
        return APIHandlers.jsonResponse(.ok, try encodeJSON(Listing(suppressions: found, nextCursor: cursor == "0" ? nil : cursor)))
    }

    func add(_ body: ByteBuffer, caller: APICaller) async throws(APIError) -> Response {
        let request: AddRequest = try decodeJSON(body)
        guard !request.entries.isEmpty else { throw APIError.invalid("suppressions", "needs at least one entry") }
        guard request.entries.count <= Self.maxPerRequest else {
            throw APIError.invalid("suppressions", "\(request.entries.count) entries; at most \(Self.maxPerRequest) per request")
        }
        let now = WallClock.nowMilliseconds()
        var entries: [SuppressionEntry] = []
        for (index, item) in request.entries.enumerated() {
            let field = request.isList ? "suppressions[\(index)]." : ""
            let address = item.address
            guard let at = address.lastIndex(of: "@"), at != address.startIndex, address.index(after: at) != address.endIndex,
                address.utf8.count <= 254, !address.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0.isNewline })
            else { throw APIError.invalid(field + "address", "is not an email address") }
            let reasonText = item.reason ?? SuppressionReason.manual.rawValue
            guard let reason = SuppressionReason(rawValue: reasonText) else {
                throw APIError.invalid(
                    field + "reason", "must be one of \(SuppressionReason.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var expires = settings.expiry(for: reason, now: now)
            if let text = item.expiresAt {
                guard let ms = WallClock.milliseconds(iso8601: text) else {
                    throw APIError.invalid(field + "expires_at", "must be an RFC 3339 time such as 2027-01-01T00:00:00Z")
                }
                expires = ms
            }
            if let source = item.source, source.utf8.count > 200 { throw APIError.invalid(field + "source", "is longer than 200 octets") }
            entries.append(
                SuppressionEntry(
                    address: address, reason: reason, createdAt: WallClock.iso8601(milliseconds: now), source: item.source,
                    expiresAt: expires.map { WallClock.iso8601(milliseconds: $0) }))
        }
        let scope = SuppressionScope.account(caller.account.name)
        do { try await store.add(entries, to: scope) } catch { throw APIError.redisUnavailable() }
        return APIHandlers.jsonResponse(.created, try encodeJSON(Listing(suppressions: entries.map { Shown($0, scope: scope) })))
    }

    func remove(_ address: String, caller: APICaller) async throws(APIError) -> Response {
        let removed: Bool
        do { removed = try await store.remove(address, from: .account(caller.account.name)) } catch { throw APIError.redisUnavailable() }
        guard removed else {
            throw APIError(
                .notFound, "not_found",
                "\(RemoteText.capped(address, maxBytes: 100)) is not on the suppression list of account \(caller.account.name)")
        }
        return Response(status: .noContent)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
