import RelayCore

/// Built-in receiving sites: documented *starting points* for the large mailbox
/// providers, applied whenever a destination's MX hosts match (a configured site of the
/// same name replaces a preset; `preset: <name>` in a configured site starts from one).
///
/// Limits are per egress IP and deliberately conservative: a throttled IP costs far more
/// than a slightly slower one. Providers rarely publish numbers; where they do, the doc
/// comment says where from, and otherwise the preset is a conservative starting point
/// to adjust from your own deferral rates (`hikyaku queue`, the `deferred` events).
/// Adaptive backoff (``BackoffRules``) slows or pauses further on the replies a
/// provider sends when it wants less.
///
/// | preset | conns/IP | msgs/conn | rate/IP | new conns/IP | TLS |
/// |---|---|---|---|---|---|
/// | gmail | 5 | 50 | 60/min burst 10 | 20/min | required |
/// | yahoo | 5 | 20 | 40/min burst 5 | 20/min | opportunistic |
/// | yahoo-japan | 3 | 20 | 30/min burst 5 | 10/min | opportunistic |
/// | outlook | 5 | 50 | 60/min burst 10 | 20/min | opportunistic |
/// | apple | 5 | 5 | 30/min burst 5 | 20/min | opportunistic |
/// | docomo | 2 | 10 | 20/min burst 2 | 6/min | opportunistic |
/// | au | 2 | 10 | 20/min burst 2 | 6/min | opportunistic |
/// | softbank | 2 | 10 | 20/min burst 2 | 6/min | opportunistic |
public enum SitePresets {
    /// Gmail and Google Workspace: every domain whose MX is `aspmx.l.google.com`,
    /// `gmail-smtp-in.l.google.com`, `smtp.google.com`, … (one site: they share servers).
    ///
    /// TLS is required: Google's sender guidelines (support.google.com/mail/answer/81126)
    /// list "use a TLS connection" among the requirements for all senders. Google
    /// publishes no connection or rate numbers; 50 messages per connection and few
    /// connections follow what established MTAs ship for Google (KumoMTA's shaping:
    /// 50 per connection, 5 connections), and the rate is a conservative starting
    /// point — adjust from your own deferral rates (`421 4.7.28` means too fast).
    public static let gmail = preset(
        "gmail", mx: ["*.google.com", "*.googlemail.com"],
        connections: 5, perConnection: 50, rate: "60/min burst 10",
        connectionRate: "20/min", tls: true)

    /// Yahoo and AOL (`mta5.am0.yahoodns.net`, `mx-aol.mail.gm0.yahoodns.net`).
    ///
    /// Yahoo's sender best practices (senders.yahooinc.com/best-practices) ask senders
    /// to keep connections few and short; 20 messages per connection is the figure Yahoo
    /// gave to KumoMTA for its shipped shaping. The rate is a conservative starting
    /// point; Yahoo answers `421 4.7.0 [TSS04]` when it wants less (a built-in rule
    /// pauses the IP).
    public static let yahoo = preset(
        "yahoo", mx: ["*.yahoodns.net"],
        connections: 5, perConnection: 20, rate: "40/min burst 5",
        connectionRate: "20/min", tls: false)

    /// Yahoo! JAPAN mail (`mx.mail.yahoo.co.jp`), a separate service from Yahoo Inc.
    ///
    /// No published numbers: a conservative starting point; adjust from your own
    /// deferral rates.
    public static let yahooJapan = preset(
        "yahoo-japan", mx: ["*.mail.yahoo.co.jp", "*.yahoo.co.jp"],
        connections: 3, perConnection: 20, rate: "30/min burst 5",
        connectionRate: "10/min", tls: false)

    /// Outlook.com, Hotmail and Microsoft 365 (`*.mail.protection.outlook.com`,
    /// `*.olc.protection.outlook.com`, and the DANE-enabled `*.mx.microsoft`).
    ///
    /// Microsoft's sender policies (sendersupport.olc.protection.outlook.com/pm) publish
    /// no numbers; 50 messages per connection and few connections follow what
    /// established MTAs ship (KumoMTA: 50 per connection, 5 connections). The rate is a
    /// conservative starting point; `451 4.7.500–4.7.699` ("Server busy") means too fast.
    public static let outlook = preset(
        "outlook", mx: ["*.protection.outlook.com", "*.outlook.com", "*.hotmail.com", "*.mx.microsoft"],
        connections: 5, perConnection: 50, rate: "60/min burst 10",
        connectionRate: "20/min", tls: false)

    /// iCloud Mail (`mx01.mail.icloud.com`), including me.com and mac.com.
    ///
    /// Apple's postmaster information (support.apple.com/en-us/102322) asks for
    /// authentication and low complaint rates but publishes no numbers. Few messages per
    /// connection follows what established MTAs ship for iCloud (KumoMTA: 5); the rate is
    /// a conservative starting point; adjust from your own deferral rates.
    public static let apple = preset(
        "apple", mx: ["*.mail.icloud.com", "*.icloud.com"],
        connections: 5, perConnection: 5, rate: "30/min burst 5",
        connectionRate: "20/min", tls: false)

    /// NTT docomo mobile mail (`@docomo.ne.jp`, MX `mfsmax.docomo.ne.jp`).
    ///
    /// Japanese carriers limit mail per source IP strictly and answer `421`/`450`
    /// ("too many …", "Please try again later") early; docomo publishes no numbers for
    /// senders. A conservative starting point with very few connections; adjust from
    /// your own deferral rates.
    public static let docomo = preset(
        "docomo", mx: ["*.docomo.ne.jp"],
        connections: 2, perConnection: 10, rate: "20/min burst 2",
        connectionRate: "6/min", tls: false)

    /// KDDI au mobile mail (`@ezweb.ne.jp`, `@au.com`).
    ///
    /// Strict per-IP limits like the other Japanese carriers; no published numbers.
    /// A conservative starting point; adjust from your own deferral rates.
    public static let au = preset(
        "au", mx: ["*.ezweb.ne.jp", "*.au.com"],
        connections: 2, perConnection: 10, rate: "20/min burst 2",
        connectionRate: "6/min", tls: false)

    /// SoftBank mobile mail (`@softbank.ne.jp`, `@i.softbank.jp`, the former
    /// `@*.vodafone.ne.jp`).
    ///
    /// Strict per-IP limits like the other Japanese carriers; no published numbers.
    /// A conservative starting point; adjust from your own deferral rates.
    public static let softbank = preset(
        "softbank", mx: ["*.softbank.ne.jp", "*.vodafone.ne.jp", "*.softbank.jp"],
        connections: 2, perConnection: 10, rate: "20/min burst 2",
        connectionRate: "6/min", tls: false)

    /// Every preset, in the order their MX patterns are tried.
    public static let all: [SiteSettings] = [gmail, yahoo, yahooJapan, outlook, apple, docomo, au, softbank]

    /// The preset called `name` (`gmail`, `yahoo-japan`, …), if there is one.
    public static func named(_ name: String) -> SiteSettings? {
        all.first { $0.name == name }
    }

    private static func preset(
        _ name: String, mx: [String], connections: Int, perConnection: Int,
        rate: String, connectionRate: String, tls: Bool
    ) -> SiteSettings {
        guard let ratePerIP = Rate(parsing: rate), let connectionRatePerIP = Rate(parsing: connectionRate) else {
            preconditionFailure("preset \(name): invalid rate literal")
        }
        return SiteSettings(
            name: name, mx: mx,
            shaping: ShapingSettings(
                maxConnectionsPerIP: connections, maxMessagesPerConnection: perConnection,
                ratePerIP: ratePerIP, connectionRatePerIP: connectionRatePerIP, tlsRequired: tls))
    }
}
