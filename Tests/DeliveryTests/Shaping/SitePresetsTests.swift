import Testing

@testable import Delivery
@testable import RelayCore

@Suite struct SitePresetsTests {
    @Test func thePresetsAreTheDocumentedOnesInOrder() {
        #expect(SitePresets.all.map(\.name) == ["gmail", "yahoo", "yahoo-japan", "outlook", "apple", "docomo", "au", "softbank"])
    }

    @Test(arguments: SitePresets.all)
    func everyPresetIsAValidSiteWithEveryLimitSet(_ preset: SiteSettings) throws {
        try preset.validate(key: "preset")
        #expect(preset.preset == nil)
        let shaping = preset.shaping
        let connections = try #require(shaping.maxConnectionsPerIP)
        let perConnection = try #require(shaping.maxMessagesPerConnection)
        let rate = try #require(shaping.ratePerIP)
        let connectionRate = try #require(shaping.connectionRatePerIP)
        #expect(shaping.tlsRequired != nil)
        #expect((1...10).contains(connections), "presets are conservative")
        #expect(rate.count > 0 && rate.burst >= 1)
        // Opening connections at the allowed pace must let the message rate through.
        let messagesPerHourByConnections =
            Double(connectionRate.count) * 3_600_000 / Double(connectionRate.period.milliseconds) * Double(perConnection)
        let messagesPerHour = Double(rate.count) * 3_600_000 / Double(rate.period.milliseconds)
        #expect(messagesPerHourByConnections >= messagesPerHour)
    }

    @Test func presetNamesCanBeLookedUp() {
        #expect(SitePresets.named("yahoo-japan")?.mx == ["*.mail.yahoo.co.jp", "*.yahoo.co.jp"])
        #expect(SitePresets.named("gmail") == SitePresets.gmail)
        #expect(SitePresets.named("Gmail") == nil)
        #expect(SitePresets.named("hotmail") == nil)
    }

    @Test func gmailRequiresTLS() {
        #expect(SitePresets.gmail.shaping.tlsRequired == true)
        #expect(SitePresets.gmail.mx == ["*.google.com", "*.googlemail.com"])
    }

    @Test func japaneseCarriersGetFewerConnectionsThanTheBigProviders() throws {
        let carriers = [SitePresets.docomo, SitePresets.au, SitePresets.softbank]
        let fewest = try #require(
            [SitePresets.gmail, SitePresets.yahoo, SitePresets.outlook].compactMap(\.shaping.maxConnectionsPerIP).min())
        for carrier in carriers {
            #expect(try #require(carrier.shaping.maxConnectionsPerIP) < fewest)
        }
    }

    /// Real MX host names of each provider land on its preset.
    @Test(arguments: [
        ("gmail.com", "gmail-smtp-in.l.google.com", "gmail"),
        ("example-workspace.com", "aspmx.l.google.com", "gmail"),
        ("new-workspace.example", "smtp.google.com", "gmail"),
        ("googlemail.com", "alt1.gmail-smtp-in.l.googlemail.com", "gmail"),
        ("yahoo.com", "mta5.am0.yahoodns.net", "yahoo"),
        ("aol.com", "mx-aol.mail.gm0.yahoodns.net", "yahoo"),
        ("yahoo.co.jp", "mx.mail.yahoo.co.jp", "yahoo-japan"),
        ("outlook.com", "outlook-com.olc.protection.outlook.com", "outlook"),
        ("contoso.example", "contoso-example.mail.protection.outlook.com", "outlook"),
        ("contoso.example", "contoso-example.r-v1.mx.microsoft", "outlook"),
        ("icloud.com", "mx01.mail.icloud.com", "apple"),
        ("docomo.ne.jp", "mfsmax.docomo.ne.jp", "docomo"),
        ("ezweb.ne.jp", "lsean.ezweb.ne.jp", "au"),
        ("au.com", "mx.au.com", "au"),
        ("softbank.ne.jp", "mx.softbank.ne.jp", "softbank"),
        ("i.softbank.jp", "mx.i.softbank.jp", "softbank"),
        ("t.vodafone.ne.jp", "mx.t.vodafone.ne.jp", "softbank"),
    ])
    func providerMXHostsResolveToTheirPreset(domain: String, mx: String, preset: String) {
        let resolver = SiteResolver(settings: DeliverySettings())
        #expect(resolver.site(forDomain: DomainName(rawValue: domain), mxHosts: [mx]).name.rawValue == preset)
    }

    /// RelayCore validates preset names without knowing the presets: its list must be theirs.
    @Test func relayCoreKnowsEveryPresetName() {
        #expect(SitePresets.all.map(\.name) == SiteSettings.presetNames)
    }

    @Test func unknownPresetNamesAreReported() {
        var settings = DeliverySettings()
        settings.sites = [SiteSettings(name: "g", mx: [], preset: "gmail"), SiteSettings(name: "x", mx: [], preset: "gmial")]
        let error = #expect(throws: ConfigurationError.self) { try settings.validatePresetNames() }
        #expect(error?.key == "delivery.sites[1].preset")
        #expect(error?.problem.contains("'gmial' is not a preset") == true)
        settings.sites.removeLast()
        #expect(throws: Never.self) { try settings.validatePresetNames() }
    }
}
