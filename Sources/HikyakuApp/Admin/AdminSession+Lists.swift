import Campaigns
import Foundation
import Glibc
import Queue
import RelayCore

/// `hikyaku list …`: CSV lists imported into Redis (README "Campaigns").
extension AdminSession {
    var listStore: ListStore { ListStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration)) }

    /// What an import did.
    public struct ListImportReport: Sendable {
        public var encoding: CSVEncoding
        public var columns: [String]
        public var rows = 0
        public var duplicates = 0
        public var suppressed = 0
        /// Every invalid line's count, and the first ``maxReported`` with their problems.
        public var invalid = 0
        public var problems: [(line: Int, problem: String)] = []
        public var lines = 0
        public static let maxReported = 1_000
    }

    /// Streams `path` into list `name` of `account`: read in 64 KiB pieces, parsed and
    /// screened (duplicates, suppressed) in batches that never span a 1,000-row chunk, so
    /// memory stays bounded whatever the file's size. `progress` is called after each batch.
    public func importList(
        account: String, name: String, path: String, encoding forced: CSVEncoding?, emailColumn: String,
        progress: (ListImportReport) -> Void
    ) async throws -> ListImportReport {
        guard Campaign.isValidName(name) else { throw OperatorError("list name '\(name)' must be 1-64 of a-z A-Z 0-9 . _ -") }
        guard try await accountStore.account(named: account) != nil else { throw OperatorError("no account named \(account)") }
        guard let file = fopen(path, "rb") else { throw OperatorError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var first = Array(buffer[0..<fread(&buffer, 1, buffer.count, file)])
        let encoding = forced ?? CSVEncoding.detect(first)
        if first.starts(with: [0xEF, 0xBB, 0xBF]) { first.removeFirst(3) }
        let decoder = FieldDecoder(encoding)
        var parser = CSVParser()
        var rows = ListRows(emailColumn: emailColumn)
        var report = ListImportReport(encoding: encoding, columns: [])
        var pending: [ListRows.Row] = []
        var begun = false
        let store = listStore

        func flush() async throws {
            // Screen and store what is pending, in pieces that end at chunk boundaries.
            while !pending.isEmpty {
                let room = ListStore.chunkRows - report.rows % ListStore.chunkRows
                let screening = try await store.screen(account: account, name: name, addresses: pending.prefix(room).map(\.key))
                var kept: [String] = []
                var taken = 0
                var duplicates = 0
                var suppressed = 0
                for (row, verdict) in zip(pending, screening) {
                    taken += 1
                    switch verdict {
                    case .duplicate: duplicates += 1
                    case .suppressed: suppressed += 1
                    case .fresh: kept.append(Self.json(row.values))
                    }
                    if kept.count == room { break }
                }
                pending.removeFirst(taken)
                try await store.append(
                    account: account, name: name, first: report.rows, rows: kept, invalid: 0, duplicates: duplicates, suppressed: suppressed
                )
                report.rows += kept.count
                report.duplicates += duplicates
                report.suppressed += suppressed
            }
        }

        var records: [CSVParser.Record] = []
        var chunk = first
        var atEnd = false
        do {
            while true {
                records.removeAll(keepingCapacity: true)
                parser.feed(chunk, into: &records)
                if atEnd { parser.finish(into: &records) }
                for record in records {
                    let outcome: ListRows.Outcome
                    do { outcome = try rows.take(record, decoder: decoder) } catch { throw OperatorError(error.description) }
                    switch outcome {
                    case .header(let columns):
                        report.columns = columns
                        let json = Self.json(columns)
                        try await store.begin(account: account, name: name, columnsJSON: json, emailIndex: rows.emailIndex)
                        begun = true
                    case .row(let row):
                        pending.append(row)
                        report.lines = row.line
                    case .invalid(let line, let problem):
                        report.invalid += 1
                        if report.problems.count < ListImportReport.maxReported { report.problems.append((line, problem)) }
                    }
                }
                if pending.count >= ListStore.chunkRows {
                    try await flush()
                    progress(report)
                }
                if atEnd { break }
                let n = fread(&buffer, 1, buffer.count, file)
                if n == 0 {
                    atEnd = true
                    chunk = []
                } else {
                    chunk = Array(buffer[0..<n])
                }
            }
            guard begun else { throw OperatorError("\(path) has no header row") }
            try await flush()
            try await store.append(
                account: account, name: name, first: report.rows, rows: [], invalid: report.invalid, duplicates: 0, suppressed: 0)
            try await store.finish(account: account, name: name)
        } catch {
            if begun { try? await store.delete(account: account, name: name) }
            throw error
        }
        progress(report)
        await audit(
            "list.import",
            [("account", account), ("list", name), ("rows", "\(report.rows)"), ("invalid", "\(report.invalid)")])
        return report
    }

    public func listInfo(account: String, name: String) async throws -> ListStore.Info? {
        try await listStore.info(account: account, name: name)
    }

    public func listNames(account: String) async throws -> [String] { try await listStore.names(account: account) }

    public func deleteList(account: String, name: String) async throws -> Bool {
        guard try await listStore.info(account: account, name: name) != nil else { return false }
        try await listStore.delete(account: account, name: name)
        await audit("list.delete", [("account", account), ("list", name)])
        return true
    }

    /// A JSON array of strings (rows and column names as stored).
    static func json(_ values: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
