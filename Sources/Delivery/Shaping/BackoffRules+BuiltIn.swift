import RelayCore

extension BackoffRules {
    /// The built-in rules for well-known throttle and block replies, most specific first.
    /// They name no `sites`, so they also apply to sites an operator configured under
    /// other names. `built_in_backoff_rules: false` turns them off; configured rules are
    /// tried before them.
    ///
    /// | name | code | enhanced | text | action |
    /// |---|---|---|---|---|
    /// | gmail-unusual-rate | 421 | 4.7.28 | | slow 0.5, 30m |
    /// | gmail-try-again-later | 421 | 4.7.0 | try again later, temporarily rate limited | slow 0.5, 15m |
    /// | yahoo-tss04 | 4xx | | `[TSS04]` (or `[TS04]`) | suspend_ip 30m |
    /// | outlook-busy-4.7.5xx | 451 | 4.7.5 | | slow 0.5, 15m |
    /// | outlook-busy-4.7.6xx | 451 | 4.7.6 | | slow 0.5, 15m |
    /// | too-many-connections | | | too many (concurrent) connections | slow 0.5, 10m |
    /// | throttle | 4xx | | rate, too many, throttl…, limit exceeded, try again later, too fast, busy — not about a mailbox, user, quota or greylisting | slow 0.5, 10m |
    /// | blocklisted | 5xx | | blocked, block list, blacklist, spamhaus, RBL, DNSBL, poor reputation, banned sending IP — not about a mailbox, user or recipient | suspend_ip 1h |
    public static let builtIn: [BackoffRuleSettings] = [
        // S: 421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating
        // S: 421-4.7.28 from your IP address. To protect our users from spam, mail sent from
        // S: 421 4.7.28 your IP address has been temporarily rate limited.
        BackoffRuleSettings(
            name: "gmail-unusual-rate", code: "421", enhanced: "4.7.28",
            action: .slow, factor: 0.5, duration: .minutes(30)),
        // S: 421-4.7.0 Try again later, closing connection. (EHLO)
        // S: 421 4.7.0 [192.0.2.1] … has been temporarily rate limited …
        BackoffRuleSettings(
            name: "gmail-try-again-later", code: "421", enhanced: "4.7.0",
            text: "try again later|temporarily rate limited",
            action: .slow, factor: 0.5, duration: .minutes(15)),
        // S: 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected
        //    volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes
        // Yahoo asks senders to stop and come back later, so pause the IP for Yahoo.
        BackoffRuleSettings(
            name: "yahoo-tss04", code: "4xx", text: #"\[TS?S04\]"#,
            action: .suspendIP, duration: .minutes(30)),
        // S: 451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714)
        // S: 451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.
        // Microsoft uses 4.7.500–4.7.699 for "try again later" throttling.
        BackoffRuleSettings(
            name: "outlook-busy-4.7.5xx", code: "451", enhanced: "4.7.5",
            action: .slow, factor: 0.5, duration: .minutes(15)),
        BackoffRuleSettings(
            name: "outlook-busy-4.7.6xx", code: "451", enhanced: "4.7.6",
            action: .slow, factor: 0.5, duration: .minutes(15)),
        // S: 421 4.7.0 Too many concurrent connections from your IP
        // S: 421 Too many connections, try again later
        BackoffRuleSettings(
            name: "too-many-connections", text: "too many (concurrent |simultaneous )?connections",
            action: .slow, factor: 0.5, duration: .minutes(10)),
        // S: 421 4.7.0 Rate limit exceeded, try again later
        // S: 450 4.7.1 Too many messages, please try again later   (Japanese carriers)
        // S: 451 4.3.2 System busy
        BackoffRuleSettings(
            name: "throttle", code: "4xx", text: BackoffRules.throttleText,
            action: .slow, factor: 0.5, duration: .minutes(10)),
        // S: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org
        // S: 550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. … part of their
        //    network is on our block list (S3150).
        // S: 550 5.7.606 Access denied, banned sending IP [192.0.2.1].
        BackoffRuleSettings(
            name: "blocklisted", code: "5xx", text: BackoffRules.blocklistText,
            action: .suspendIP, duration: .hours(1)),
    ]

    /// Throttle wording, unless the reply is about one mailbox or user (a full mailbox,
    /// `450 4.2.1 The user you are trying to contact is receiving mail at a rate that …`,
    /// `452 4.5.3 Too many recipients`) or greylisting: those concern one recipient or
    /// one message, not the sending IP's pace.
    static let throttleText =
        #"^(?!.*\b(?:quota|mailbox(?:es)?|storage|users?|recipients?|gr[ae]ylist\w*)\b)"#
        + #".*(?:\brate(?:\b|limit)|too many|throttl|limit exceeded|try again later|too fast|\bbusy\b)"#

    /// Block-list wording, unless the reply is about one mailbox, user or recipient
    /// (`550 5.7.1 Recipient address blocked`): suspending an IP is reserved for replies
    /// about the sending IP.
    static let blocklistText =
        #"^(?!.*\b(?:mailbox(?:es)?|users?|recipients?)\b)"#
        + #".*(?:\bblock(?:ed|[ -]?list(?:ed)?)\b|\bblacklist(?:ed)?\b|spamhaus|\brbl\b|\bdnsbl\b|poor reputation|banned sending ip)"#
}
