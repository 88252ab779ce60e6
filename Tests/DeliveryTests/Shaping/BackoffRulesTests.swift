import SMTPProtocol
import Testing

@testable import Delivery
@testable import RelayCore

@Suite struct BackoffRulesTests {
    let builtIn = BackoffRules(settings: DeliverySettings())

    struct Sample: Sendable, CustomTestStringConvertible {
        var reply: SMTPReply
        var rule: String?
        var testDescription: String { "\(reply) → \(rule ?? "none")" }

        init(_ code: Int, _ enhanced: String?, _ lines: [String], _ rule: String?) {
            reply = SMTPReply(code: code, enhancedStatus: enhanced.flatMap(EnhancedStatusCode.init), lines: lines)
            self.rule = rule
        }
    }

    /// Replies as receivers send them, and the built-in rule each should trigger.
    static let samples: [Sample] = [
        Sample(
            421, "4.7.28",
            [
                "Gmail has detected an unusual rate of unsolicited mail originating",
                "from your IP address. To protect our users from spam, mail sent from",
                "your IP address has been temporarily rate limited.",
            ], "gmail-unusual-rate"),
        Sample(421, "4.7.0", ["Try again later, closing connection. (EHLO)"], "gmail-try-again-later"),
        Sample(
            421, "4.7.0",
            [
                "[192.0.2.1] Our system has detected an unusual rate of unsolicited mail",
                "originating from your IP address. … has been temporarily rate limited.",
            ], "gmail-try-again-later"),
        Sample(
            421, "4.7.0",
            [
                "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
            ], "yahoo-tss04"),
        Sample(421, nil, ["[TS04] Messages from 192.0.2.1 temporarily deferred"], "yahoo-tss04"),
        Sample(451, "4.7.500", ["Server busy. Please try again later from [192.0.2.1]. (S77714)"], "outlook-busy-4.7.5xx"),
        Sample(
            451, "4.7.650", ["The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation."], "outlook-busy-4.7.6xx"),
        Sample(421, nil, ["Too many concurrent connections from this IP"], "too-many-connections"),
        Sample(421, "4.7.0", ["Too many connections from 192.0.2.1"], "too-many-connections"),
        Sample(421, "4.7.0", ["Too many connections, try again later"], "gmail-try-again-later"),  // order decides
        Sample(421, "4.7.0", ["Rate limit exceeded, slow down"], "throttle"),
        Sample(450, "4.7.1", ["Too many messages, please try again later"], "throttle"),
        Sample(421, nil, ["Please try again later"], "throttle"),
        Sample(451, "4.3.2", ["System busy"], "throttle"),
        Sample(452, nil, ["Connection throttled"], "throttle"),
        Sample(451, nil, ["Ratelimit: sending too fast"], "throttle"),
        Sample(554, "5.7.1", ["Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"], "blocklisted"),
        Sample(
            550, "5.7.1",
            [
                "Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider",
                "since part of their network is on our block list (S3150).",
            ], "blocklisted"),
        Sample(550, "5.7.606", ["Access denied, banned sending IP [192.0.2.1]."], "blocklisted"),
        Sample(554, nil, ["192.0.2.1 is listed in an RBL"], "blocklisted"),
        Sample(550, nil, ["Your IP has a poor reputation"], "blocklisted"),
        // Not throttling: positive replies, one recipient's trouble, greylisting, other words.
        Sample(250, "2.0.0", ["OK, rate noted, too many thanks"], nil),
        Sample(
            450, "4.2.1",
            [
                "The user you are trying to contact is receiving mail at a rate that",
                "prevents additional messages from being delivered.",
            ], nil),
        Sample(452, "4.5.3", ["Too many recipients"], nil),
        Sample(452, "4.2.2", ["The email account that you tried to reach is over quota. Storage limit exceeded."], nil),
        Sample(451, "4.7.1", ["Greylisted, please try again later"], nil),
        Sample(450, nil, ["Requested mail action not taken: mailbox busy"], nil),
        Sample(451, "4.3.0", ["Temporary failure; a separate accurate message follows"], nil),
        Sample(421, "4.3.2", ["Service not available, closing transmission channel"], nil),
        Sample(421, "4.7.0", ["TLS required for RCPT domain, closing connection."], nil),
        Sample(550, "5.1.1", ["The email account that you tried to reach does not exist."], nil),
        Sample(550, "5.7.1", ["Recipient address blocked"], nil),
        Sample(550, "5.7.1", ["Message rejected: too many bad words"], nil),
    ]

    @Test(arguments: samples)
    func builtInRulesRecogniseWellKnownReplies(_ sample: Sample) {
        #expect(builtIn.match(sample.reply, site: "gmail")?.name == sample.rule)
    }

    @Test func builtInActions() throws {
        let byName = Dictionary(uniqueKeysWithValues: BackoffRules.builtIn.map { ($0.name ?? "", $0) })
        #expect(byName.count == BackoffRules.builtIn.count, "every built-in rule has its own name")
        let expected: [String: (BackoffRuleSettings.Action, ConfigDuration)] = [
            "gmail-unusual-rate": (.slow, .minutes(30)),
            "gmail-try-again-later": (.slow, .minutes(15)),
            "yahoo-tss04": (.suspendIP, .minutes(30)),
            "outlook-busy-4.7.5xx": (.slow, .minutes(15)),
            "outlook-busy-4.7.6xx": (.slow, .minutes(15)),
            "too-many-connections": (.slow, .minutes(10)),
            "throttle": (.slow, .minutes(10)),
            "blocklisted": (.suspendIP, .hours(1)),
        ]
        #expect(Set(byName.keys) == Set(expected.keys))
        for (name, (action, duration)) in expected {
            let rule = try #require(byName[name])
            #expect(rule.action == action, "\(name)")
            #expect(rule.duration == duration, "\(name)")
            if action == .slow {
                #expect(rule.factor == 0.5, "\(name)")
            }
        }
    }

    @Test(arguments: BackoffRules.builtIn)
    func builtInRulesPassTheConfigurationCheck(_ rule: BackoffRuleSettings) throws {
        try rule.validate(key: "built-in")
        #expect(rule.sites == nil)
    }

    @Test func configuredRulesComeFirstAndBuiltInOnesCanBeTurnedOff() {
        let mine = BackoffRuleSettings(name: "mine", code: "421", action: .suspendSite, duration: .minutes(5))
        let reply = SMTPReply(421, "4.7.28", "unusual rate")
        var settings = DeliverySettings()
        settings.backoffRules = [mine]
        #expect(BackoffRules(settings: settings).match(reply, site: "gmail")?.name == "mine")
        #expect(BackoffRules(settings: settings).rules == [mine] + BackoffRules.builtIn)

        settings.backoffRules = []
        settings.builtInBackoffRules = false
        let none = BackoffRules(settings: settings)
        #expect(none.rules.isEmpty)
        #expect(none.match(reply, site: "gmail") == nil)
    }

    @Test(arguments: [
        ("421", 421, true), ("421", 451, false),
        ("4xx", 450, true), ("4xx", 554, false), ("4XX", 421, true),
        ("45x", 451, true), ("45x", 421, false), ("4x1", 451, true), ("4x1", 452, false),
        ("5xx", 550, true), ("42", 421, false), ("4211", 421, false),
    ])
    func codeIsExactOrAClass(pattern: String, code: Int, matches: Bool) {
        let rules = BackoffRules(rules: [BackoffRuleSettings(code: pattern, action: .slow, duration: .minutes(1))])
        #expect((rules.match(SMTPReply(code, nil, "whatever"), site: "s") != nil) == matches)
    }

    @Test(
        arguments: [
            ("4.7", "4.7.28", true), ("4.7", "4.2.1", false), ("4.7.5", "4.7.500", true),
            ("4.7.5", "4.7.5", true), ("4.7.5", "4.7.650", false), ("4.7.28", "4.7.28", true),
            ("4.7.28", "4.7.2", false), ("5", "5.7.1", true), ("4.7", nil, false),
        ] as [(String, String?, Bool)])
    func enhancedIsAPrefix(prefix: String, status: String?, matches: Bool) {
        let rules = BackoffRules(rules: [BackoffRuleSettings(enhanced: prefix, action: .slow, duration: .minutes(1))])
        #expect((rules.match(SMTPReply(451, status, "whatever"), site: "s") != nil) == matches)
    }

    @Test func textIsACaseInsensitiveRegexSearchedInAllLinesJoined() {
        let rules = BackoffRules(rules: [BackoffRuleSettings(text: #"first part second\b"#, action: .slow, duration: .minutes(1))])
        let split = SMTPReply(code: 421, lines: ["The FIRST part", "Second part"])
        #expect(rules.match(split, site: "s") != nil)
        #expect(rules.match(SMTPReply(code: 421, lines: ["first part seconds"]), site: "s") == nil)
        #expect(rules.match(SMTPReply(code: 421, lines: ["first part", "third"]), site: "s") == nil)
    }

    @Test func everyGivenFieldMustMatch() {
        let rule = BackoffRuleSettings(code: "421", enhanced: "4.7", text: "slow down", action: .slow, duration: .minutes(1))
        let rules = BackoffRules(rules: [rule])
        #expect(rules.match(SMTPReply(421, "4.7.0", "please slow down"), site: "s") == rule)
        #expect(rules.match(SMTPReply(450, "4.7.0", "please slow down"), site: "s") == nil)
        #expect(rules.match(SMTPReply(421, "4.3.0", "please slow down"), site: "s") == nil)
        #expect(rules.match(SMTPReply(421, "4.7.0", "please go away"), site: "s") == nil)
    }

    @Test func sitesRestrictARule() {
        let rule = BackoffRuleSettings(name: "jp", code: "450", action: .slow, duration: .minutes(1), sites: ["docomo", "au"])
        let rules = BackoffRules(rules: [rule])
        let reply = SMTPReply(450, nil, "try later")
        #expect(rules.match(reply, site: "docomo") == rule)
        #expect(rules.match(reply, site: "au") == rule)
        #expect(rules.match(reply, site: "gmail") == nil)
    }

    @Test func theFirstMatchingRuleWins() {
        let specific = BackoffRuleSettings(name: "specific", code: "421", text: "busy", action: .suspendIP, duration: .minutes(1))
        let general = BackoffRuleSettings(name: "general", code: "4xx", action: .slow, duration: .minutes(1))
        let rules = BackoffRules(rules: [specific, general])
        #expect(rules.match(SMTPReply(421, nil, "busy"), site: "s")?.name == "specific")
        #expect(rules.match(SMTPReply(421, nil, "closing"), site: "s")?.name == "general")
    }

    @Test func aRuleWhosePatternDoesNotCompileMatchesNothing() {
        let broken = BackoffRuleSettings(name: "broken", text: "(unclosed", action: .slow, duration: .minutes(1))
        let fine = BackoffRuleSettings(name: "fine", code: "421", action: .slow, duration: .minutes(1))
        let rules = BackoffRules(rules: [broken, fine])
        #expect(rules.match(SMTPReply(421, nil, "(unclosed"), site: "s")?.name == "fine")
    }

    @Test func positiveRepliesNeverMatch() {
        let rules = BackoffRules(rules: [BackoffRuleSettings(text: "ok", action: .slow, duration: .minutes(1))])
        #expect(rules.match(SMTPReply(250, "2.0.0", "ok"), site: "s") == nil)
        #expect(rules.match(SMTPReply(354, nil, "ok"), site: "s") == nil)
        #expect(rules.match(SMTPReply(421, nil, "ok"), site: "s") != nil)
    }
}
