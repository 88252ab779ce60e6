import Campaigns
import Testing

@Suite struct CampaignIDTests {
    /// `c` and 12 characters: the console's Redis user may write `camp:` and exactly 13
    /// characters (RedisACL.campaignHash), the hash and not the keys below it.
    @Test func anIDIsThirteenCharacters() {
        for now: Int64 in [0, 1_700_000_000_000, 4_000_000_000_000] {
            let id = Campaign.newID(now: now)
            #expect(id.count == 13 && id.hasPrefix("c") && Campaign.isValidName(id), "\(id)")
        }
    }
}
