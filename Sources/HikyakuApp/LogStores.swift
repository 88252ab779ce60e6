import Foundation
import LogStore
import Logging
import PostgresLogStore
import RelayCore

/// The log store a configuration names (README "Delivery logs"): PostgreSQL when
/// `logs.postgres_url` is set, else the SQLite file of `logs.sqlite_path`.
public enum LogStores {
    /// The configured store, or nil when none is (the API and the console then read the
    /// events stream). `sqliteDefault`: open `var/logs.sqlite` when nothing is configured
    /// (`--role archiver`). A PostgreSQL store's pool must be run (it is a `Service`).
    static func open(_ settings: LogSettings, sqliteDefault: Bool, logger: Logger) throws -> (any LogReader & LogWriter)? {
        if let url = try settings.postgres() {
            return PostgresLogStore(url: url, password: try postgresPassword(settings), logger: logger)
        }
        guard settings.sqlitePath != nil || sqliteDefault else { return nil }
        return try openSQLite(settings.effectiveSQLitePath)
    }

    static func openSQLite(_ path: String) throws -> SQLiteLogStore {
        // `var/logs.sqlite` on a fresh checkout: its directory may not exist yet.
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try? FileManager.default.createDirectory(atPath: String(path[..<slash]), withIntermediateDirectories: true)
        }
        do { return try SQLiteLogStore(path: path) } catch {
            throw ConfigurationError(key: "logs.sqlite_path", problem: "cannot open \(path) (\(error))")
        }
    }

    /// The first line of `logs.postgres_password_file`, or nil without one.
    static func postgresPassword(_ settings: LogSettings) throws -> String? {
        guard let file = settings.postgresPasswordFile else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigurationError(key: "logs.postgres_password_file", problem: "cannot read \(file)")
        }
        return text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
    }

    /// Runs `body` with the store of the commands (`hikyaku logs`, `hikyaku erase`): the
    /// SQLite file `db` if given, else the configured store (PostgreSQL's pool running
    /// meanwhile), else `var/logs.sqlite`. A SQLite file must exist.
    public static func withStore<T: Sendable>(
        _ settings: LogSettings, db: String?, _ body: @Sendable (any LogReader & LogWriter) async throws -> T
    ) async throws -> T {
        if db == nil, let url = try settings.postgres() {
            var logger = Logger(label: "hikyaku.logs")
            logger.logLevel = .error
            return try await PostgresLogStore.withStore(url: url, password: try postgresPassword(settings), logger: logger) {
                try await body($0)
            }
        }
        let path = db ?? settings.effectiveSQLitePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw OperatorError("no log store at \(path) (is an archiver running? --role archiver, logs.sqlite_path)")
        }
        let store: SQLiteLogStore
        do { store = try SQLiteLogStore(path: path) } catch { throw OperatorError("cannot open \(path): \(error)") }
        return try await body(store)
    }
}
