import Foundation
import LogStore
import Queue
import RelayCore
import Testing

@testable import Console

struct LocalizationTests {
    @Test(
        arguments: [
            (nil, nil, Language.ja), (nil, "en-US,en;q=0.9", .en), (nil, "ja,en-US;q=0.8", .ja), (nil, "fr-FR, en;q=0.5", .en),
            (nil, "en;q=0.4, ja;q=0.6", .ja), (nil, "fr, de", .ja), ("en", "ja", .en), ("ja", "en", .ja), ("xx", "en", .en),
            (nil, "ja;q=0, en;q=0.1", .en),
        ] as [(String?, String?, Language)])
    func theLanguageComesFromTheCookieThenAcceptLanguage(cookie: String?, header: String?, expected: Language) {
        #expect(Language.choose(cookie: cookie, acceptLanguage: header) == expected)
    }

    @Test func bothCataloguesHaveEveryKey() {
        #expect(Set(Catalogue.english.keys) == Set(Catalogue.japanese.keys))
        #expect(Localization(language: .ja)["overview.deliveryRate"] == "到達率")
        #expect(Localization(language: .en)["no.such.key"] == "no.such.key")
        #expect(Localization(language: .ja).templateStrings["overview_deliveryRate"] == "到達率")
    }

    @Test func timesAreShownInTheViewersZoneJSTForJapanese() {
        let ms: Int64 = 1_738_281_600_000  // 2025-01-31T00:00:00Z
        #expect(Localization(language: .ja).format(milliseconds: ms).hasPrefix("2025-01-31 09:00:00 "))
        #expect(Localization(language: .en).format(milliseconds: ms).hasPrefix("2025-01-31 00:00:00"))
        let newYork = Localization(language: .en, timeZone: TimeZone(identifier: "America/New_York"))
        #expect(newYork.format(milliseconds: ms).hasPrefix("2025-01-30 19:00:00"))
        #expect(Localization(language: .ja).hourLabel(hour: ms / 3_600_000) == "9時")
    }
}

struct SecurityTests {
    @Test func cookiesParseAsRFC6265Pairs() {
        let cookies = ConsoleCookies.parse(#"hk_session=abc; hk_lang="en";hk_session=second; broken; =x; hk_tz=Asia%2FTokyo"#)
        #expect(cookies == ["hk_session": "abc", "hk_lang": "en", "hk_tz": "Asia%2FTokyo"])
        #expect(ConsoleCookies.parse(nil).isEmpty)
    }

    @Test func theSessionCookieIsHttpOnlyLaxAndSecureOverTLS() {
        let secure = ConsoleCookies.setCookie(name: ConsoleCookies.session, value: "v", secure: true)
        #expect(secure == "hk_session=v; Path=/; SameSite=Lax; HttpOnly; Secure")
        #expect(!ConsoleCookies.setCookie(name: ConsoleCookies.session, value: "v", secure: false).contains("Secure"))
        #expect(ConsoleCookies.setCookie(name: "x", value: "", secure: false, maxAge: 0).hasSuffix("Max-Age=0"))
    }

    @Test func onlyWellFormedSessionIDsReachRedis() {
        let id = ConsoleToken.random()
        #expect(ConsoleCookies.isWellFormedID(id))
        #expect(id != ConsoleToken.random())
        #expect(!ConsoleCookies.isWellFormedID("*"))
        #expect(!ConsoleCookies.isWellFormedID(String(repeating: "A", count: 64)))
        #expect(!ConsoleCookies.isWellFormedID(id + "0"))
    }

    @Test func theCSRFTokenMustMatchExactly() {
        let token = ConsoleToken.random()
        #expect(ConsoleToken.matches(token, token))
        #expect(!ConsoleToken.matches(nil, token))
        #expect(!ConsoleToken.matches("", token))
        #expect(!ConsoleToken.matches(String(token.dropLast()) + "x", token))
        #expect(!ConsoleToken.matches(token + "0", token))
        #expect(!ConsoleToken.matches("", ""), "an empty expected token never matches")
    }

    @Test func formsDecodeAsURLEncoded() {
        #expect(FormData.parse("name=a+b&password=%E7%A7%98%26x&csrf=&name=second") == ["name": "a b", "password": "秘&x", "csrf": ""])
        #expect(FormData.parse("bad=%zz%4") == ["bad": "%zz%4"])
        #expect(FormData.encode("/search?a=1&b=日") == "%2Fsearch%3Fa%3D1%26b%3D%E6%97%A5")
    }
}

struct ScopingTests {
    let accountUser = ConsoleViewer(user: "alice", kind: .account, account: "a", csrf: "t")
    let operatorUser = ConsoleViewer(user: "root", kind: .operator, account: nil, csrf: "t")

    @Test func anAccountUsersQueryAlwaysNamesItsAccount() {
        var query = LogQuery()
        query.account = "b"
        #expect(accountUser.scope(query).account == "a")
        query.account = nil
        #expect(accountUser.scope(query).account == "a")
        #expect(accountUser.scope(StatsQuery(account: "b", since: 0, until: 1, bySite: false)).account == "a")
        #expect(operatorUser.scope(query).account == nil)
        query.account = "b"
        #expect(operatorUser.scope(query).account == "b")
        query.account = ""
        #expect(operatorUser.scope(query).account == nil)
        let unbound = ConsoleViewer(user: "x", kind: .account, account: nil, csrf: "t")
        #expect(unbound.scope(LogQuery()).account != nil, "an account user without an account sees nothing, not everything")
    }

    @Test func anAccountUserFindsOnlyItsOwnEvents() async throws {
        let reader = InMemoryLogReader.sample
        let form = SearchForm(query: "account=b&recipient=Y%40docomo.ne.jp")
        let asA = try await reader.search(accountUser.scope(form.query(timeZone: TimeZone(identifier: "UTC")!, limit: 100)))
        #expect(asA.isEmpty)
        let asOperator = try await reader.search(operatorUser.scope(form.query(timeZone: TimeZone(identifier: "UTC")!, limit: 100)))
        #expect(asOperator.map(\.streamID) == ["4-0", "3-0"])
        let timeline = try await reader.timeline(queueID: "qb", account: accountUser.forcedAccount(requested: nil))
        #expect(timeline.isEmpty)
        let stats = try await reader.stats(accountUser.scope(StatsQuery(account: nil, since: 0, until: .max, bySite: true)))
        #expect(stats.allSatisfy { $0.account == "a" } && OutcomeTotals.sum(stats).delivered == 1)
    }
}

struct SearchAndExportTests {
    @Test func theFormBecomesAQueryInTheViewersZone() {
        let form = SearchForm(
            query: "status=bounced&class=invalid_recipient&site=DoCoMo&since=2025-01-31T09%3A00&until=bad&unknown=1&before=4-0")
        let query = form.query(timeZone: TimeZone(identifier: "Asia/Tokyo")!, limit: 10)
        #expect(query.kinds == [.bounced])
        #expect(query.bounceClass == .invalidRecipient)
        #expect(query.site == "docomo")
        #expect(query.since == 1_738_281_600_000)
        #expect(query.until == nil)
        #expect(query.before == "4-0")
        #expect(form.queryString() == "status=bounced&class=invalid_recipient&site=DoCoMo&since=2025-01-31T09%3A00&until=bad")
    }

    @Test func eventTimesParseBack() {
        #expect(EventTime.milliseconds(iso8601: "2025-01-31T00:00:02.500Z") == 1_738_281_602_500)
        #expect(EventTime.milliseconds(iso8601: WallClock.iso8601(milliseconds: 1_234_567_890_123)) == 1_234_567_890_123)
        #expect(EventTime.milliseconds(iso8601: "yesterday") == nil)
    }

    @Test func csvCellsAreQuotedAndNeverFormulas() {
        #expect(EventCSV.line(["a", "b,c", "say \"hi\"", "=cmd()", "-1", "日本"]) == "a,\"b,c\",\"say \"\"hi\"\"\",'=cmd(),'-1,日本\r\n")
        #expect(EventCSV.bom == [0xEF, 0xBB, 0xBF])
        #expect(EventCSV.row(InMemoryLogReader.sample.events[3]).count == EventCSV.header.count)
    }

    @Test func ratesAgainstTheLines() {
        var totals = OutcomeTotals()
        totals.delivered = 96
        totals.bounced = 4
        totals.complaints = 1
        #expect(OverviewChart.percent(totals.deliveryRate) == "96.00%")
        #expect((totals.bounceRate ?? 0) > OutcomeTotals.bounceLimit)
        #expect(OverviewChart.percent(totals.complaintRate) == "1.04%")
        #expect(OverviewChart.percent(nil) == "–")
        #expect(OverviewChart.hourly([.init(label: "<9>", delivered: 1, bounced: 0, deferred: 0)], title: "t").contains("&lt;9&gt;"))
    }
}
