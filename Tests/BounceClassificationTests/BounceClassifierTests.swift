import BounceClassification
import RelayCore
import Testing

/// The shipped rules over replies real servers send (sources: the providers' own reference
/// pages, and note.com/sendmagic for docomo, au and SoftBank), and over the relay's own
/// failure wordings.
@Suite struct BounceClassifierTests {
    static let classifier = BounceClassifier(rules: .shipped)

    struct Case: Sendable, CustomTestStringConvertible {
        var reply: String
        var bounceClass: BounceClass
        var severity: BounceSeverity
        var testDescription: String { String(reply.prefix(60)) }
        init(_ reply: String, _ bounceClass: BounceClass, _ severity: BounceSeverity) {
            self.reply = reply
            self.bounceClass = bounceClass
            self.severity = severity
        }
    }

    static let gmail: [Case] = [
        Case(
            "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser - gsmtp",
            .invalidRecipient, .hard),
        Case(
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address",
            .invalidRecipient, .hard),
        Case(
            "550 5.2.1 The email account that you tried to reach is disabled. https://support.google.com/mail/?p=DisabledUser",
            .invalidRecipient, .hard),
        Case(
            "450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later time.",
            .throttled, .soft),
        Case(
            "450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.",
            .throttled, .soft),
        Case("452 4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to", .mailboxFull, .soft),
        Case(
            "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Please contact the administrator of example.com domain",
            .policyAuthentication, .hard),
        Case(
            "550 5.7.26 Your email has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
            .policyAuthentication, .hard),
        Case(
            "550 5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.",
            .contentBlock, .hard),
        Case(
            "421 4.7.0 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily blocked.",
            .ipReputation, .soft),
        Case("421 4.7.0 IP not in whitelist for RCPT domain, closing connection.", .ipReputation, .soft),
        Case("421 4.7.0 TLS required for RCPT domain, closing connection.", .tlsRequired, .soft),
        Case(
            "550 5.7.27 The sender address <a@example.com> is not accepted: the domain has a null MX record", .policyAuthentication, .hard),
        Case(
            "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your SPF domain [example.com]",
            .ipReputation,
            .soft),
        Case("550 5.7.25 The IP address sending this message does not have a PTR record setup", .policyAuthentication, .hard),
        Case("552 5.3.4 Your message exceeded Google's message size limits.", .messageTooLarge, .hard),
        Case("421 4.4.5 Server busy, try again later.", .throttled, .soft),
    ]

    static let microsoft: [Case] = [
        Case(
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [PU1APC01FT044.eop-APC01.prod.protection.outlook.com]",
            .invalidRecipient, .hard),
        Case(
            "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1",
            .ipReputation, .hard),
        Case(
            "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
            .ipReputation, .hard),
        Case("451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.", .ipReputation, .soft),
        Case(
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM12FT032.eop-nam12.prod.protection.outlook.com]",
            .invalidRecipient, .hard),
        Case("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", .invalidRecipient, .hard),
        Case("554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException", .mailboxFull, .soft),
        Case("550 5.7.606 Access denied, banned sending IP [192.0.2.1]", .ipReputation, .hard),
        Case(
            "421 4.3.2 The maximum number of concurrent connections has exceeded a limit, closing transmission channel", .throttled, .soft),
        Case(
            "550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject.",
            .policyAuthentication, .hard),
    ]

    static let yahoo: [Case] = [
        Case(
            "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
            .ipReputation, .hard),
        Case(
            "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
            .throttled, .soft),
        Case(
            "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1001.mail.gq1.yahoo.com",
            .invalidRecipient, .hard),
        Case("552 1 Requested mail action aborted, mailbox not found", .invalidRecipient, .hard),
        Case("554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes", .contentBlock, .hard),
        Case("554 30 Sorry, your message size exceeds 41943040 bytes.", .messageTooLarge, .hard),
        Case(
            "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
            .ipReputation, .hard),
        Case(
            "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.",
            .policyAuthentication, .hard),
    ]

    /// Yahoo! JAPAN and the three carriers: their MTAs rarely send enhanced codes.
    static let japan: [Case] = [
        Case(
            "554 delivery error: dd This user doesn't have a yahoo.co.jp account (someone@yahoo.co.jp) [-5] - mta7149.mail.djm.ynwp.yahoo.co.jp",
            .invalidRecipient, .hard),
        Case(
            "554 delivery error: dd This account has been disabled or discontinued [#102]. - mta1001.mail.djm.ynwp.yahoo.co.jp",
            .invalidRecipient, .hard),
        Case("550 Unknown user someone@docomo.ne.jp", .invalidRecipient, .hard),
        Case("552 Too much mail data someone@docomo.ne.jp", .mailboxFull, .soft),
        Case("500 Line Too Long", .other, .hard),
        Case("smtp; 550 Unknown user someone@docomo.ne.jp (in reply to end of DATA command)", .contentBlock, .hard),
        Case("550 <someone@ezweb.ne.jp>: User unknown", .invalidRecipient, .hard),
        Case("554 <some!one@ezweb.ne.jp>: Relay access denied", .other, .hard),
        Case("550 Invalid recipient: <someone@i.softbank.jp>", .invalidRecipient, .hard),
        Case("553 sender.example does not exist", .policyAuthentication, .hard),
        Case("550 5.1.1 <someone@example.jp>... User Unknown", .invalidRecipient, .hard),
        Case("552 5.2.2 <someone@example.jp>... Mailbox Full", .mailboxFull, .soft),
    ]

    /// Other servers, and the relay's own failure wordings (`Sources/Delivery`).
    static let others: [Case] = [
        Case("550 5.1.1 <someone@icloud.com>: user does not exist", .invalidRecipient, .hard),
        Case("550 5.7.0 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.1", .ipReputation, .hard),
        Case("Sorry, no mailbox here by that name. (#5.1.1)", .invalidRecipient, .hard),
        Case(
            "450 4.2.0 <someone@example.org>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/", .throttled,
            .soft),
        Case("450 4.1.8 <app@example.com>: Sender address rejected: Domain not found", .policyAuthentication, .soft),
        Case("554 5.7.1 <someone@example.org>: Relay access denied", .other, .hard),
        Case(
            "5.1.1 smtp; 550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
            .invalidRecipient, .hard),
        Case("556 5.1.10 Recipient domain example.org does not accept mail (null MX, RFC 7505)", .invalidRecipient, .hard),
        Case("550 5.1.2 Recipient domain example.invalid does not exist (NXDOMAIN)", .invalidRecipient, .hard),
        Case("451 4.4.3 DNS lookup for example.org failed: timed out", .dnsFailure, .soft),
        Case(
            "554 5.4.4 No usable mail exchanger for example.org: mx [10.0.0.1] is private, which workers do not connect to", .dnsFailure,
            .hard),
        Case("451 4.7.5 TLS is required for this site and mx.example.org did not offer it", .tlsRequired, .soft),
        Case("451 4.4.1 Could not reach any mail exchanger: mx.example.org [192.0.2.25]: connection refused", .other, .soft),
        Case("451 4.4.2 Connection to mx.example.org lost: EOF", .other, .soft),
        Case("554 5.4.6 Mail loop: the message arrived with 31 Received: header fields, more than 30 (RFC 5321 §6.3)", .other, .hard),
        Case("550 5.0.0 Bounced by operator", .other, .hard),
        Case("530 5.7.11 Must issue a STARTTLS command first", .tlsRequired, .hard),
        Case("421 4.7.0 Try again later, closing connection.", .other, .soft),
    ]

    @Test(arguments: gmail + microsoft + yahoo + japan + others)
    func classifies(_ example: Case) {
        let (bounceClass, severity) = Self.classifier.classify(reply: example.reply)
        #expect(bounceClass == example.bounceClass)
        #expect(severity == example.severity)
    }

    @Test func theTableCoversEveryProviderAndEveryClass() {
        let all = Self.gmail + Self.microsoft + Self.yahoo + Self.japan + Self.others
        #expect(all.count >= 40)
        #expect(Set(all.map(\.bounceClass)) == Set(BounceClass.allCases))
        for carrier in ["docomo.ne.jp", "ezweb.ne.jp", "softbank.jp", "yahoo.co.jp"] {
            #expect(Self.japan.contains { $0.reply.contains(carrier) }, "no example for \(carrier)")
        }
    }

    @Test func aDefinitiveStatusCodeIsNotOverriddenByWording() {
        // 5.1.1 decides even when the text mentions spam.
        #expect(Self.classifier.classify(reply: "550 5.1.1 unknown user (spam trap)") == (.invalidRecipient, .hard))
        // A generic 5.7.1 is refined by it.
        #expect(Self.classifier.classify(reply: "550 5.7.1 blocked using Spamhaus") == (.ipReputation, .hard))
        #expect(Self.classifier.classify(reply: "550 5.7.1 Delivery not authorized") == (.contentBlock, .hard))
    }

    @Test func severityFollowsTheCodeWhenNoRuleSaysOtherwise() {
        #expect(Self.classifier.classify(reply: "450 4.1.1 mailbox temporarily unknown").1 == .soft)
        #expect(Self.classifier.classify(reply: "4.1.1 from a DSN status").1 == .soft)
        #expect(Self.classifier.classify(reply: "5.1.1 from a DSN status").1 == .hard)
        #expect(Self.classifier.classify(reply: "").1 == .hard)
        #expect(Self.classifier.classify(reply: "").0 == .other)
    }

    @Test func addressesAndVersionsAreNotReadAsStatusCodes() {
        // 192.0.2.1 contains 2.0.2 and 0.2.1; neither is a status code.
        #expect(Self.classifier.classify(reply: "connect to 192.0.2.1 timed out").0 == .other)
        #expect(Self.classifier.classify(reply: "host 10.5.1.1.example said no").0 == .other)
    }

    @Test func aHugeReplyIsReadOnlyToTheLimit() {
        let reply = "550 5.7.1 " + String(repeating: "x", count: 100_000) + " spamhaus"
        #expect(Self.classifier.classify(reply: reply) == (.contentBlock, .hard))
        let multibyte = "550 " + String(repeating: "あ", count: 3000)
        #expect(Self.classifier.classify(reply: multibyte).0 == .other)
    }

    @Test func everyShippedRuleIsReachable() throws {
        // No text rule is shadowed by an identical earlier one.
        let patterns = BounceRules.shipped.textRules.map { $0.pattern.lowercased() }
        #expect(Set(patterns).count == patterns.count)
        #expect(BounceRules.shipped.statusRules.count > 30)
        #expect(BounceRules.shipped.textRules.count > 60)
    }
}
