import Foundation
import RelayCore
import Testing

@Suite("Suppression entries, their CSV rows and expiry")
struct SuppressionTests {
    static let now: Int64 = 1_790_000_000_000

    @Test(
        arguments: [
            ("2026-12-01T00:00:00Z", Int64(1_796_083_200_000)),
            ("2026-12-01", 1_796_083_200_000),
            ("2026-12-01T09:00:00+09:00", 1_796_083_200_000),
            ("2026-12-01T00:00:00.25Z", 1_796_083_200_250),
            ("2026-12-01t00:00:00.123456z", 1_796_083_200_123),
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T12:00:00-01:30", 951_831_000_000),
        ] as [(String, Int64)])
    func rfc3339Times(_ text: String, _ milliseconds: Int64) {
        #expect(WallClock.milliseconds(iso8601: text) == milliseconds)
        #expect(WallClock.milliseconds(iso8601: WallClock.iso8601(milliseconds: milliseconds)) == milliseconds)
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01", "2026-12-01T25:00:00Z", "2026-12-01T00:00:00", "2026-12-01T00:00:00.Z", "2026-12-01T00:00:00+0900",
    ])
    func notTimes(_ text: String) {
        #expect(WallClock.milliseconds(iso8601: text) == nil)
    }

    @Test func entryJSONIsCompactAndReadsBack() throws {
        let entry = SuppressionEntry(
            address: "Gone@Example.ORG", reason: .hardBounce, createdAt: "2026-12-01T00:00:00.000Z", source: "01JQ\"x",
            expiresAt: "2027-12-01T00:00:00.000Z")
        #expect(entry.address == "gone@example.org")
        let json = entry.json()
        #expect(
            json
                == #"{"reason":"hard_bounce","created_at":"2026-12-01T00:00:00.000Z","source":"01JQ\"x","expires_at":"2027-12-01T00:00:00.000Z"}"#
        )
        var decoded = try JSONDecoder().decode(SuppressionEntry.self, from: Data(json.utf8))
        decoded.address = entry.address
        #expect(decoded == entry)
        #expect(entry.createdDate == "2026-12-01")
        #expect(SuppressionEntry(address: "a@b", reason: .manual, createdAt: "t").json() == #"{"reason":"manual","created_at":"t"}"#)
    }

    @Test func normalizeLowercasesASCIIOnly() {
        #expect(SuppressionEntry.normalize("ÄBC.Déf@EXAMPLE.jp") == "Äbc.déf@example.jp")
    }

    @Test func expiry() {
        let entry = SuppressionEntry(
            address: "a@b.c", reason: .manual, createdAt: "x", expiresAt: WallClock.iso8601(milliseconds: Self.now))
        #expect(!entry.isExpired(at: Self.now - 1))
        #expect(entry.isExpired(at: Self.now))
        #expect(!SuppressionEntry(address: "a@b.c", reason: .manual, createdAt: "x").isExpired(at: .max))
        var settings = SuppressionSettings()
        settings.expiry[.hardBounce] = .days(365)
        #expect(settings.expiry(for: .hardBounce, now: Self.now) == Self.now + 365 * 86_400_000)
        #expect(settings.expiry(for: .complaint, now: Self.now) == nil)
    }

    @Test func csvRows() throws {
        let parsed = try SuppressionCSV.parse(row: #""User@Example.org",hard_bounce,2026-01-02,2099-01-01T00:00:00Z"#, now: Self.now).get()
        #expect(parsed.address == "user@example.org")
        #expect(parsed.reason == .hardBounce)
        #expect(parsed.createdAt == "2026-01-02T00:00:00.000Z")
        #expect(parsed.expiresAt == "2099-01-01T00:00:00.000Z")
        let bare = try SuppressionCSV.parse(row: "a@b.c,manual", now: Self.now).get()
        #expect(bare.createdAt == WallClock.iso8601(milliseconds: Self.now) && bare.expiresAt == nil)
        let quoted = try SuppressionCSV.parse(row: #""a,""b""@c.d",complaint,,"#, now: Self.now).get()
        #expect(quoted.address == #"a,"b"@c.d"#)
        // Round trip through row().
        let again = try SuppressionCSV.parse(row: Substring(SuppressionCSV.row(quoted)), now: 0).get()
        #expect(again.address == quoted.address && again.reason == quoted.reason && again.createdAt == quoted.createdAt)
    }

    @Test(
        arguments: [
            ("nobody.example.org,manual", "is not an email address"),
            ("a@b.c,spam", "reason 'spam'"),
            ("a@b.c", "1 fields"),
            ("a@b.c,manual,,,extra", "5 fields"),
            ("a@b.c,manual,soon", "created_at 'soon'"),
            ("a@b.c,manual,,never", "expires_at 'never'"),
            (#""a@b.c,manual"#, "unterminated"),
            (#"a"b@c.d,manual"#, "quote inside"),
        ] as [(String, String)])
    func badRows(_ line: String, _ problem: String) {
        guard case .failure(let error) = SuppressionCSV.parse(row: Substring(line), now: Self.now) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(error.description.contains(problem), "\(error)")
    }
}
