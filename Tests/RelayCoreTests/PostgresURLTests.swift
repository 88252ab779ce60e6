import RelayCore
import Testing

@Suite struct PostgresURLTests {
    @Test func parsesTheLibpqForm() throws {
        let url = try PostgresURL(parsing: "postgres://hikyaku@db.internal:6432/logs?sslmode=require")
        #expect(url.user == "hikyaku" && url.password == nil)
        #expect(url.host == "db.internal" && url.port == 6432 && url.database == "logs")
        #expect(url.sslMode == .require)
        #expect(url.redacted == "postgres://hikyaku@db.internal:6432/logs?sslmode=require")
    }

    @Test func defaultsAndOtherForms() throws {
        let plain = try PostgresURL(parsing: "postgresql://u@127.0.0.1/d")
        #expect(plain.port == 5432 && plain.sslMode == .prefer)
        #expect(plain.redacted == "postgres://u@127.0.0.1:5432/d")
        let v6 = try PostgresURL(parsing: "postgres://u@[::1]:5433/d?sslmode=verify-full")
        #expect(v6.host == "::1" && v6.port == 5433 && v6.sslMode == .verifyFull)
        #expect(v6.redacted == "postgres://u@[::1]:5433/d?sslmode=verify-full")
    }

    @Test func aPasswordIsDecodedAndNeverShown() throws {
        let url = try PostgresURL(parsing: "postgres://app:s%40cr%2Ft@db:5432/logs")
        #expect(url.user == "app" && url.password == "s@cr/t")
        #expect(url.redacted == "postgres://app:***@db:5432/logs")
        #expect("\(url)" == url.redacted)
        #expect(!url.redacted.contains("cr"))
    }

    @Test(arguments: [
        "mysql://u@h/d", "postgres://h/d", "postgres://u@h", "postgres://u@h/", "postgres://u@h:x/d", "postgres://u@h:70000/d",
        "postgres://u@/d", "postgres://u@h/d?sslmode=allow", "postgres://u@h/d?application_name=x", "postgres://:pw@h/d",
    ])
    func refusesMalformedURLs(_ text: String) {
        #expect(throws: ConfigurationError.self) { try PostgresURL(parsing: text) }
    }

    @Test func errorsDoNotRepeatThePassword() {
        for text in ["postgres://u:hunter2@h:bad/d", "postgres://u:hunter2@h/d?sslmode=nope", "mysql://u:hunter2@h/d"] {
            do {
                _ = try PostgresURL(parsing: text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(!"\(error)".contains("hunter2"))
            }
        }
    }
}
