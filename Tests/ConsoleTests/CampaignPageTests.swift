import Campaigns
import Foundation
import Testing

@testable import CampaignRunner
@testable import Console

struct CampaignPageTests {
    let tokyo = TimeZone(identifier: "Asia/Tokyo")!
    let now = Date(timeIntervalSince1970: 1_796_000_000)

    @Test func aWindowIsShownInTheViewersZoneAndItsOwn() {
        let utc = SendWindow(parsing: "22:00-03:00", timeZone: "UTC")!
        let shown = ConsolePages.window(utc, in: tokyo, now: now)
        #expect(shown.hasPrefix("07:00–12:00 ") && shown.hasSuffix(" (22:00–03:00 UTC)"), "\(shown)")
        let own = SendWindow(parsing: "09:00-20:00", timeZone: "Asia/Tokyo")!
        #expect(ConsolePages.window(own, in: tokyo, now: now) == "09:00–20:00 Asia/Tokyo")
        // New York in December is UTC-5: 14 hours behind Tokyo.
        let newYork = SendWindow(parsing: "09:00-17:00", timeZone: "America/New_York")!
        #expect(ConsolePages.window(newYork, in: tokyo, now: now).hasPrefix("23:00–07:00 "))
    }

    @Test func theBarShowsSettledOverEnqueuedRows() {
        let campaign = Campaign(
            id: "c0123456789ab", account: "a", name: "n", fromAddress: "a@example.com", subject: "s", html: nil, text: "t",
            list: "l", startAt: 0, createdAt: 0)
        let status = CampaignDesk.Status(
            campaign: campaign, state: "running", reason: nil, rows: 40, cursor: 0,
            statistics: ["queued": 18, "suppressed": 2, "delivered": 9, "bounced": 1, "delivered|gmail": 9, "bounced|gmail": 1])
        #expect(status.handled == 20 && status.settled == 12)
        #expect(status.sites == ["gmail": ["delivered": 9, "bounced": 1]])
        let bar = ConsolePages.progressBar(status, title: "<進捗>")
        #expect(bar.contains(#"class="handled" width="100""#) && bar.contains(#"class="settled" width="60""#))
        #expect(bar.contains("<title>&lt;進捗&gt; 12/40</title>"))
    }
}
