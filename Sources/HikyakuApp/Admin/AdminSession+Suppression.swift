import Queue
import RelayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `hikyaku suppression import` did.
public struct SuppressionImportResult: Sendable {
    public var imported = 0
    public var skipped = 0
}

extension AdminSession {
    var suppressionStore: SuppressionStore {
        SuppressionStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration))
    }

    /// Checks that an account list names an existing account.
    func checkScope(_ scope: SuppressionScope) async throws {
        if case .account(let name) = scope, try await accountStore.account(named: name) == nil {
            throw OperatorError("no account named \(name)")
        }
    }

    /// Adds (or replaces) one entry; `expires` overrides `suppression.expiry.<reason>`.
    public func addSuppression(
        _ address: String, reason: SuppressionReason, expires: ConfigDuration?, to scope: SuppressionScope
    ) async throws -> SuppressionEntry {
        try await checkScope(scope)
        guard SuppressionCSV.parse(row: Substring("\(address),\(reason.rawValue)"), now: 0).isSuccess else {
            throw OperatorError("'\(address)' is not an email address")
        }
        let now = WallClock.nowMilliseconds()
        let expiry = expires.map { now + $0.milliseconds } ?? configuration.suppression.expiry(for: reason, now: now)
        let entry = SuppressionEntry(
            address: address, reason: reason, createdAt: WallClock.iso8601(milliseconds: now),
            expiresAt: expiry.map { WallClock.iso8601(milliseconds: $0) })
        try await suppressionStore.add([entry], to: scope)
        await audit("suppression.add", [("list", "\(scope)"), ("address", address), ("reason", reason.rawValue)])
        return entry
    }

    public func removeSuppression(_ address: String, from scope: SuppressionScope) async throws -> Bool {
        try await checkScope(scope)
        let removed = try await suppressionStore.remove(address, from: scope)
        if removed { await audit("suppression.remove", [("list", "\(scope)"), ("address", address)]) }
        return removed
    }

    /// Up to `limit` entries (of `reason`, if given), in the list's hash order.
    public func suppressions(
        in scope: SuppressionScope, reason: SuppressionReason?, limit: Int
    ) async throws -> (entries: [SuppressionEntry], total: Int) {
        try await checkScope(scope)
        var found: [SuppressionEntry] = []
        var cursor = "0"
        repeat {
            let page = try await suppressionStore.page(scope, cursor: cursor, count: 1000)
            found += page.entries.filter { reason == nil || $0.reason == reason }
            cursor = page.next
        } while cursor != "0" && found.count < limit
        return (Array(found.prefix(limit)), try await suppressionStore.count(scope))
    }

    /// Imports a CSV file (``SuppressionCSV``) line by line: bad rows go to `badRow` with
    /// their line number and are skipped; good ones are stored ``SuppressionStore/chunkSize``
    /// per call, ten calls per round trip, so memory stays bounded however long the file.
    /// `progress` is told the rows read every 100,000.
    public func importSuppressions(
        path: String, to scope: SuppressionScope,
        badRow: (Int, String) -> Void, progress: (Int) -> Void
    ) async throws -> SuppressionImportResult {
        try await checkScope(scope)
        guard let file = fopen(path, "r") else { throw OperatorError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var result = SuppressionImportResult()
        var pending: [SuppressionEntry] = []
        pending.reserveCapacity(SuppressionStore.chunkSize * 10)
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var number = 0
        let now = WallClock.nowMilliseconds()
        let defaults = configuration.suppression
        while getline(&line, &capacity, file) > 0, let line {
            number += 1
            var text = String(cString: line)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            if number == 1 && text.lowercased().hasPrefix("address,") { continue }
            if text.isEmpty { continue }
            switch SuppressionCSV.parse(row: Substring(text), now: now) {
            case .success(var entry):
                if entry.expiresAt == nil, let ms = WallClock.milliseconds(iso8601: entry.createdAt),
                    let expiry = defaults.expiry(for: entry.reason, now: ms)
                {
                    entry.expiresAt = WallClock.iso8601(milliseconds: expiry)
                }
                pending.append(entry)
            case .failure(let error):
                result.skipped += 1
                badRow(number, error.description)
            }
            if pending.count >= SuppressionStore.chunkSize * 10 {
                try await suppressionStore.add(pending, to: scope)
                result.imported += pending.count
                pending.removeAll(keepingCapacity: true)
            }
            if number % 100_000 == 0 { progress(number) }
        }
        if !pending.isEmpty {
            try await suppressionStore.add(pending, to: scope)
            result.imported += pending.count
        }
        await audit("suppression.import", [("list", "\(scope)"), ("imported", "\(result.imported)"), ("skipped", "\(result.skipped)")])
        return result
    }

    /// Hands every entry of the list to `row`, a page (`HSCAN`) at a time; returns how many.
    public func exportSuppressions(from scope: SuppressionScope, row: (SuppressionEntry) -> Void) async throws -> Int {
        try await checkScope(scope)
        var cursor = "0"
        var count = 0
        repeat {
            let page = try await suppressionStore.page(scope, cursor: cursor, count: 1000)
            for entry in page.entries { row(entry) }
            count += page.entries.count
            cursor = page.next
        } while cursor != "0"
        return count
    }
}

extension Result {
    fileprivate var isSuccess: Bool { if case .success = self { true } else { false } }
}

extension AdminSession {
    /// Removes `address` from the global list and from every account's (an erasure
    /// request, `hikyaku erase`). Returns the lists it was on.
    public func eraseSuppressions(_ address: String) async throws -> [SuppressionScope] {
        var removed: [SuppressionScope] = []
        let scopes = [SuppressionScope.global] + (try await accountStore.all()).map { SuppressionScope.account($0.name) }
        for scope in scopes where try await suppressionStore.remove(address, from: scope) {
            removed.append(scope)
        }
        // The audit entry names the lists, not the address: an erasure must not leave it behind.
        await audit("erase.suppressions", [("lists", removed.map { "\($0)" }.joined(separator: ","))])
        return removed
    }
}
