import HikyakuApp
import RelayCore
import Testing

/// `logs:` (issue 14): the log store's file, retention and batch size, strictly decoded.
struct LogSettingsConfigurationTests {
    @Test func defaults() throws {
        let logs = try ConfigurationLoader.parse(yaml: "hostname: relay.test").logs
        #expect(logs.sqlitePath == nil)
        #expect(logs.effectiveSQLitePath == "var/logs.sqlite")
        #expect(logs.retention == .days(30))
        #expect(logs.statsRetention == .days(400))
        #expect(logs.batchSize == 500)
    }

    @Test func valuesAreRead() throws {
        let logs = try ConfigurationLoader.parse(
            yaml: "logs: {sqlite_path: /var/lib/hikyaku/logs.sqlite, retention: 90d, stats_retention: 800d, batch_size: 2000}"
        ).logs
        #expect(logs.effectiveSQLitePath == "/var/lib/hikyaku/logs.sqlite")
        #expect(logs.retention == .days(90))
        #expect(logs.statsRetention == .days(800))
        #expect(logs.batchSize == 2000)
    }

    @Test func postgresIsReadAndCountsAsAStore() throws {
        let logs = try ConfigurationLoader.parse(
            yaml: "logs: {postgres_url: 'postgres://app:pw@db:5432/logs?sslmode=require', postgres_password_file: /etc/pw}"
        ).logs
        let url = try #require(try logs.postgres())
        #expect(url.host == "db" && url.database == "logs" && url.sslMode == .require)
        #expect(logs.postgresPasswordFile == "/etc/pw")
        #expect(logs.isConfigured && logs.sqlitePath == nil)
        #expect(try ConfigurationLoader.parse(yaml: "hostname: relay.test").logs.isConfigured == false)
    }

    @Test(arguments: [
        ("logs: {sqlite: x}", "logs.sqlite"),
        ("logs: {retention: 10m}", "logs.retention"),
        ("logs: {retention: 500d}", "logs.stats_retention"),
        ("logs: {batch_size: 0}", "logs.batch_size"),
        ("logs: {postgres_url: 'mysql://u@h/d'}", "logs.postgres_url"),
        ("logs: {postgres_url: 'postgres://u@h/d?sslmode=allow'}", "logs.postgres_url"),
        ("logs: {postgres_password_file: /etc/pw}", "logs.postgres_password_file"),
    ])
    func invalidValuesNameTheKey(yaml: String, key: String) {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("expected an error for \(yaml)")
        } catch let error as ConfigurationError {
            #expect(error.key == key, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
