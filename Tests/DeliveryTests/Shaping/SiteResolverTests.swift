import Foundation
import RelayCore
import Testing

@testable import Delivery

@Suite struct SiteResolverTests {
    let builtIn = ShapingSettings.builtIn

    @Test func aPresetSiteHasThePresetsShapingOverTheDefaults() {
        let site = SiteResolver(settings: DeliverySettings()).site(forDomain: "gmail.com", mxHosts: ["gmail-smtp-in.l.google.com"])
        #expect(site.name == "gmail")
        #expect(site.shaping == SitePresets.gmail.shaping.over(builtIn))
        #expect(site.tlsRequired)
        #expect(site.maxConnectionsPerIP == 5)
        #expect(site.maxMessagesPerConnection == 50)
        #expect(site.ratePerIP == GCRA(intervalMicros: 1_000_000, burst: 10))
        #expect(site.rate == nil, "no site-wide rate unless configured")
    }

    @Test func hostsAreComparedWithoutCaseOrTrailingDot() {
        let resolver = SiteResolver(settings: DeliverySettings())
        #expect(resolver.site(forDomain: "example.com", mxHosts: ["ASPMX.L.GOOGLE.COM."]).name == "gmail")
    }

    @Test func theBareProviderDomainIsNotUnderItsPattern() {
        let resolver = SiteResolver(settings: DeliverySettings())
        #expect(resolver.site(forDomain: "example.com", mxHosts: ["google.com"]).name == "mx:google.com")
    }

    @Test func theFirstMXHostThatMatchesAnySiteDecides() {
        var settings = DeliverySettings()
        settings.sites = [SiteSettings(name: "backup-provider", mx: ["*.backup.example"])]
        let resolver = SiteResolver(settings: settings)
        // The primary MX matches nothing; the second is Google's; the third is configured.
        let site = resolver.site(forDomain: "example.com", mxHosts: ["mx.example.com", "aspmx.l.google.com", "mx.backup.example"])
        #expect(site.name == "gmail")
        #expect(resolver.site(forDomain: "example.com", mxHosts: ["mx.backup.example", "aspmx.l.google.com"]).name == "backup-provider")
        #expect(resolver.site(forDomain: "example.com", mxHosts: ["mx01.mail.icloud.com", "aspmx.l.google.com"]).name == "apple")
    }

    @Test func withoutAMatchTheSiteIsThePrimaryMXsRegistrableDomain() {
        var settings = DeliverySettings()
        settings.defaultShaping = ShapingSettings(maxMessagesPerConnection: 7, rate: Rate(count: 1000, period: .hours(1)))
        let resolver = SiteResolver(settings: settings)
        let site = resolver.site(forDomain: "customer.example", mxHosts: ["MX2.Mail.Example.NET", "mx.other.example"])
        #expect(site.name == "mx:example.net")
        #expect(site.shaping == settings.defaultShaping.over(builtIn))
        #expect(site.maxMessagesPerConnection == 7)
        #expect(site.maxConnectionsPerIP == 10)
        #expect(site.tlsRequired == false)
        #expect(site.rate == GCRA(intervalMicros: 3_600_000, burst: 1))
        #expect(resolver.site(forDomain: "a.example", mxHosts: ["mx.example.co.jp"]).name == "mx:example.co.jp")
    }

    @Test func pipeliningTheNextMessageIsOnUnlessASiteTurnsItOff() throws {
        var settings = DeliverySettings()
        let yaml = Data(#"{"name": "fragile", "mx": ["mx.fragile.example"], "pipeline_next_message": false}"#.utf8)
        settings.sites = [try JSONDecoder().decode(SiteSettings.self, from: yaml)]
        let resolver = SiteResolver(settings: settings)
        #expect(resolver.site(forDomain: "a.example", mxHosts: ["mx.fragile.example"]).pipelinesNextMessage == false)
        #expect(resolver.site(forDomain: "b.example", mxHosts: ["mx.other.example"]).pipelinesNextMessage)
    }

    @Test func domainsHostedTogetherShareTheirMXSite() {
        let resolver = SiteResolver(settings: DeliverySettings())
        let first = resolver.site(forDomain: "one.example", mxHosts: ["mx1.hosting.example"])
        let second = resolver.site(forDomain: "two.example", mxHosts: ["mx2.hosting.example"])
        #expect(first == second)
    }

    @Test func withoutMXHostsTheSiteIsTheDomain() {
        let resolver = SiteResolver(settings: DeliverySettings())
        #expect(resolver.site(forDomain: "Example.ORG.", mxHosts: []).name == "domain:example.org")
        #expect(resolver.site(forDomain: "example.org", mxHosts: ["."]).name == "domain:example.org")
    }

    @Test func staticRoutesAreTheirOwnSite() {
        var settings = DeliverySettings()
        settings.defaultShaping = ShapingSettings(maxConnectionsPerIP: 3)
        let site = SiteResolver(settings: settings).site(forRoute: "Relay.Example.com")
        #expect(site.name == "route:relay.example.com")
        #expect(site.maxConnectionsPerIP == 3)
        #expect(site.maxMessagesPerConnection == 100)
    }

    @Test func aConfiguredSiteReplacesThePresetOfTheSameName() {
        var settings = DeliverySettings()
        settings.sites = [SiteSettings(name: "gmail", mx: ["*.mx.gmail-proxy.example"], shaping: ShapingSettings(maxConnectionsPerIP: 1))]
        let resolver = SiteResolver(settings: settings)
        #expect(resolver.site(forDomain: "gmail.com", mxHosts: ["gmail-smtp-in.l.google.com"]).name == "mx:google.com")
        let site = resolver.site(forDomain: "x.example", mxHosts: ["a.mx.gmail-proxy.example"])
        #expect(site.name == "gmail")
        #expect(site.shaping == ShapingSettings(maxConnectionsPerIP: 1).over(builtIn), "nothing of the replaced preset is kept")
    }

    @Test func aSiteNamingAPresetLayersSitePresetDefaultsAndBuiltIn() {
        var settings = DeliverySettings()
        settings.defaultShaping = ShapingSettings(rate: Rate(count: 5000, period: .hours(1)), tlsRequired: false)
        settings.sites = [SiteSettings(name: "google", mx: [], preset: "gmail", shaping: ShapingSettings(maxConnectionsPerIP: 2))]
        let site = SiteResolver(settings: settings).site(forDomain: "gmail.com", mxHosts: ["gmail-smtp-in.l.google.com"])
        #expect(site.name == "google", "a configured site is tried before the presets")
        #expect(site.maxConnectionsPerIP == 2)  // the site's own
        #expect(site.maxMessagesPerConnection == 50)  // the preset's
        #expect(site.tlsRequired)  // the preset's, over default_shaping
        #expect(site.shaping.rate == Rate(count: 5000, period: .hours(1)))  // default_shaping
        #expect(site.shaping.ratePerIP == SitePresets.gmail.shaping.ratePerIP)
    }

    @Test func aSiteWithItsOwnPatternsKeepsThemOverItsPresets() {
        var settings = DeliverySettings()
        settings.sites = [SiteSettings(name: "gmail", mx: ["*.smtp-in.example"], preset: "gmail")]
        let resolver = SiteResolver(settings: settings)
        #expect(resolver.site(forDomain: "a.example", mxHosts: ["b.smtp-in.example"]).maxMessagesPerConnection == 50)
        #expect(resolver.site(forDomain: "gmail.com", mxHosts: ["gmail-smtp-in.l.google.com"]).name == "mx:google.com")
    }

    @Test func configuredSitesAreTriedInOrderBeforePresets() {
        var settings = DeliverySettings()
        settings.sites = [
            SiteSettings(name: "google-l", mx: ["*.l.google.com"]),
            SiteSettings(name: "google-all", mx: ["*.google.com"]),
        ]
        let resolver = SiteResolver(settings: settings)
        #expect(resolver.site(forDomain: "gmail.com", mxHosts: ["gmail-smtp-in.l.google.com"]).name == "google-l")
        #expect(resolver.site(forDomain: "new.example", mxHosts: ["smtp.google.com"]).name == "google-all")
        #expect(resolver.site(forDomain: "gm.example", mxHosts: ["x.googlemail.com"]).name == "gmail")
    }

    @Test func anUnknownPresetContributesNothing() {
        var settings = DeliverySettings()
        settings.sites = [SiteSettings(name: "typo", mx: ["*.typo.example"], preset: "gmial")]
        let site = SiteResolver(settings: settings).site(forDomain: "a.example", mxHosts: ["mx.typo.example"])
        #expect(site.name == "typo")
        #expect(site.shaping == builtIn)
    }

    @Test func everyResolvedSiteHasItsLimitsSet() {
        var settings = DeliverySettings()
        settings.sites = [SiteSettings(name: "bare", mx: ["*.bare.example"])]
        let resolver = SiteResolver(settings: settings)
        let sites =
            [
                resolver.site(forDomain: "a.example", mxHosts: ["mx.bare.example"]),
                resolver.site(forDomain: "a.example", mxHosts: ["mx.unknown.example"]),
                resolver.site(forDomain: "a.example", mxHosts: []),
                resolver.site(forRoute: "relay.example"),
            ] + SitePresets.all.map { resolver.site(forDomain: "x.example", mxHosts: [$0.mx[0].replacing("*", with: "mx")]) }
        #expect(Set(sites.map(\.name)).count == sites.count)
        for site in sites {
            #expect(site.shaping.maxConnectionsPerIP != nil)
            #expect(site.shaping.maxMessagesPerConnection != nil)
            #expect(site.shaping.tlsRequired != nil)
        }
    }

    @Test func siteNamesNeverContainTheKeySeparator() {
        let resolver = SiteResolver(settings: DeliverySettings())
        #expect(resolver.site(forDomain: "a|b.example", mxHosts: []).name == "domain:a_b.example")
        #expect(resolver.site(forDomain: "x.example", mxHosts: ["mx.a|b example.net"]).name == "mx:a_b_example.net")
        #expect(resolver.site(forRoute: "relay|x").name == "route:relay_x")
    }
}
