extension BounceRules {
    /// The shipped rules file, as `hikyaku bounce rules` prints it. Every wording quoted in
    /// it comes from the source named beside it; `BounceClassifierTests` checks each one.
    public static let shippedText = #"""
        # Hikyaku bounce classification rules (the shipped set: `hikyaku bounce rules`).
        #
        # To change them, copy this file, edit the copy and set `bounces.rules_file` to it:
        # the copy replaces these rules, it does not add to them. Workers read it at start.
        #
        #   status <code> <class> [soft|hard] [refine]
        #   text "<pattern>" <class> [soft|hard]
        #
        # <code>     class.subject.detail (RFC 3463 §2); class 4, 5 or X (either); subject and
        #            detail a number, a range (20-29) or * (any).
        # <pattern>  found anywhere in the reply, ignoring case; runs of white space count as
        #            one space; * matches any run of characters; \" and \\ for " and \.
        # <class>    invalid_recipient mailbox_full message_too_large content_block
        #            policy_authentication ip_reputation throttled dns_failure tls_required other
        #
        # The first status rule matching the reply's enhanced code decides. When there is
        # none, or it says `refine` (a generic code such as X.7.1), the first text rule that
        # matches decides instead; failing both, the class is `other`.
        #
        # Severity: a 5xx reply is hard and a 4xx one soft (RFC 5321 §4.2.1) unless the
        # deciding rule says otherwise. mailbox_full and throttled are soft whatever the
        # code: the address exists and a later message may pass (Amazon SES counts a full
        # mailbox as a transient bounce; Gmail and the Japanese carriers answer 552 for
        # it). Such a recipient is still `bounced` — the relay does not retry a 5xx — but a
        # soft bounce never adds the address to a suppression list.

        # ---- Enhanced status codes (RFC 3463; IANA "SMTP Enhanced Status Codes") ----

        # X.1 addressing
        status X.1.1     invalid_recipient               # bad destination mailbox address
        status X.1.2     invalid_recipient               # bad destination system address (no such domain)
        status X.1.3     invalid_recipient               # bad destination mailbox address syntax
        status X.1.6     invalid_recipient               # destination mailbox has moved
        status X.1.10    invalid_recipient               # recipient address has null MX (RFC 7505 §3)
        status X.1.7-8   policy_authentication  refine   # bad sender's mailbox or system address
        status X.1.*     other  refine                   # X.1.0 and the rest: the wording decides

        # X.2 mailbox
        status 4.2.1     throttled  soft  refine         # Gmail's "receiving mail at a rate" (below)
        status 5.2.1     invalid_recipient  refine       # mailbox disabled, not accepting messages
        status X.2.2     mailbox_full  soft              # mailbox full
        status X.2.3     message_too_large               # message length exceeds administrative limit
        status X.2.*     other  refine

        # X.3 mail system
        status X.3.2     throttled  soft  refine         # system not accepting network messages
        status X.3.4     message_too_large               # message too big for system
        status X.3.*     other  refine

        # X.4 network and routing
        status X.4.3     dns_failure  refine             # directory (DNS) server failure
        status X.4.4     dns_failure  refine             # unable to route: no MX, no address
        status X.4.5     throttled  soft                 # mail system congestion
        status X.4.*     other  refine                   # no answer, bad connection, expired (X.4.7)

        # X.5 protocol
        status X.5.3     throttled  soft  refine         # too many recipients
        status X.5.*     other  refine                   # Outlook answers 5.5.0 for unknown users

        # X.6 content and media
        status X.6.*     other  refine

        # X.7 security and policy
        status X.7.5     tls_required  refine            # cryptographic failure: the relay's own
                                                         # MTA-STS/DANE deferrals are 451 4.7.5
        status X.7.10    tls_required                    # encryption needed (RFC 8689 §5)
        status X.7.11    tls_required                    # encryption required (RFC 4954 §6)
        status X.7.30    tls_required                    # REQUIRETLS support required (RFC 8689)
        status X.7.13    invalid_recipient               # user account disabled
        status X.7.16    message_too_large               # too big for the priority (RFC 6710)
        status X.7.17-18 invalid_recipient               # mailbox / domain owner changed (RFC 7293)
        status X.7.20-27 policy_authentication           # DKIM, SPF, reverse DNS, DMARC (RFC 7372);
                                                         # sender has null MX (X.7.27, RFC 7505)
        status X.7.28    ip_reputation                   # mail flood detected; Gmail: unusual rate
        status X.7.29    policy_authentication           # ARC validation failure (RFC 8617)
        status X.7.1     content_block  refine           # delivery not authorized, message refused
        status X.7.*     other  refine                   # X.7.0 and the providers' own X.7.5xx

        # ---- Reply wording: the first match decides (order matters) ----

        # TLS
        text "TLS required"                          tls_required   # Gmail 421 4.7.0 "TLS required for RCPT domain"
        text "must issue a STARTTLS command first"   tls_required
        text "encryption required"                   tls_required

        # Sender authentication
        text "DMARC"                                 policy_authentication  # Gmail 5.7.26, Microsoft 5.7.509
        text "sender is unauthenticated"             policy_authentication  # Gmail, Yahoo 5.7.9 (2024 rules)
        text "does not pass SPF"                     policy_authentication
        text "SPF check failed"                      policy_authentication
        text "required authentication level"         policy_authentication  # Outlook 5.7.515
        text "does not have a PTR record"            policy_authentication  # Gmail 5.7.25
        text "reverse DNS"                           policy_authentication
        text "Sender address rejected"               policy_authentication  # Postfix: the envelope sender's domain
        text "553 * does not exist"                  policy_authentication  # SoftBank, J:COM 553 "<envelope-from domain> does not exist"

        # Sending IP reputation and block lists (before the recipient wordings: a block
        # answered with "mailbox unavailable" must not suppress the address)
        text "spamhaus"                              ip_reputation  # Outlook 5.7.1 "blocked using Spamhaus"; Apple
        text "on our block list"                     ip_reputation  # Outlook S3150/S3140 "part of their network is on our block list"
        text "(S3150)"                               ip_reputation
        text "(S3140)"                               ip_reputation
        text "[BL21]"                                ip_reputation  # Yahoo 553 5.7.1 "Connections will not be accepted from"
        text "[BL22]"                                ip_reputation
        text "[BL23]"                                ip_reputation
        text "permanently deferred"                  ip_reputation  # Yahoo [TSS09] "… will be permanently deferred"
        text "rate limited due to IP reputation"     ip_reputation  # Outlook 451 4.7.650
        text "banned sending IP"                     ip_reputation  # Outlook 5.7.606
        text "banned sender"                         ip_reputation  # Outlook 5.7.511
        text "traffic not accepted from this IP"     ip_reputation  # Outlook 5.7.708
        text "unusual rate of unsolicited mail"      ip_reputation  # Gmail 421 4.7.0 / 4.7.28
        text "IP not in whitelist"                   ip_reputation  # Gmail 421 4.7.0 (recipient domain allow-list)
        text "proofpoint.com/dnsbl"                  ip_reputation  # Apple 550 5.7.0 "Blocked - see …dnsbl-lookup"
        text "blocklist"                             ip_reputation
        text "blacklist"                             ip_reputation
        text "block list"                            ip_reputation
        text "client host * blocked"                 ip_reputation
        text "poor reputation"                       ip_reputation
        text "not authorized to send email directly" ip_reputation  # Gmail 550 5.7.1: use your provider's relay

        # Rate limits
        text "[TSS04]"                               throttled  soft  # Yahoo 421 4.7.0 "unexpected volume or user complaints"
        text "temporarily deferred"                  throttled  soft  # Yahoo [TSS0x] deferrals
        text "receiving mail at a rate"              throttled  soft  # Gmail 450 4.2.1
        text "receiving email at a rate"             throttled  soft
        text "receiving mail too quickly"            throttled  soft
        text "receiving email too quickly"           throttled  soft
        text "too many connections"                  throttled  soft
        text "too many concurrent"                   throttled  soft
        text "maximum number of concurrent connections" throttled soft  # Microsoft 421 4.3.2
        text "too many messages"                     throttled  soft  # J:COM 421 "Too many messages for this session"
        text "rate limit"                            throttled  soft
        text "server busy"                           throttled  soft  # Gmail 421 4.4.5, Microsoft 451 4.7.500
        text "greylist"                              throttled  soft

        # Content
        text "likely unsolicited mail"               content_block  # Gmail 550 5.7.1
        text "not accepted for policy reasons"       content_block  # Yahoo 554 5.7.9
        text "message content rejected"              content_block
        text "content rejected"                      content_block
        text "virus"                                 content_block
        text "spam"                                  content_block
        text "Relay access denied"                   other          # au 554: a malformed or non-au address (sendmagic)
        text "Message rejected"                      content_block  # filters' generic refusal

        # Size
        text "message size exceeds"                  message_too_large  # Yahoo 554 30 "Sorry, your message size exceeds"
        text "exceeded Google's message size limits" message_too_large  # Gmail 552 5.2.3 / 5.3.4
        text "message too large"                     message_too_large
        text "message too big"                       message_too_large
        text "exceeds size limit"                    message_too_large
        text "Line Too Long"                         other               # docomo 500: a line over 1000 octets (RFC 5321 §4.5.3.1.6)

        # Full mailboxes
        text "over quota"                            mailbox_full  soft  # Gmail 452 4.2.2 "is over quota"
        text "quota exceeded"                        mailbox_full  soft
        text "mailbox full"                          mailbox_full  soft
        text "mailbox is full"                       mailbox_full  soft
        text "Too much mail data"                    mailbox_full  soft  # docomo 552 (mailbox full, per sendmagic)
        text "insufficient storage"                  mailbox_full  soft

        # Unknown recipients. docomo, au and SoftBank also answer "Unknown user" at the end
        # of DATA when the recipient's own filter refuses the sender (note.com/sendmagic;
        # tuono034s.com): a DSN that says so is a filter, not a dead address.
        text "Unknown user * end of DATA"            content_block       # docomo/au receiving filter (DSN text)
        text "User unknown * end of DATA"            content_block
        text "Unknown user"                          invalid_recipient   # docomo 550 "Unknown user x@docomo.ne.jp"
        text "User unknown"                          invalid_recipient   # au 550 "<x@ezweb.ne.jp>: User unknown"; Sendmail
        text "Invalid recipient"                     invalid_recipient   # SoftBank 550 "Invalid recipient: <x@i.softbank.jp>"
        text "doesn't have a * account"              invalid_recipient   # Yahoo / Yahoo! JAPAN 554 "This user doesn't have a yahoo.co.jp account"
        text "has been disabled or discontinued"     invalid_recipient   # Yahoo inactive accounts
        text "mailbox not found"                     invalid_recipient   # Yahoo 552 1 "Requested mail action aborted, mailbox not found"
        text "mailbox unavailable"                   invalid_recipient   # Outlook 550 5.5.0 "Requested action not taken: mailbox unavailable"
        text "Recipient address rejected: Access denied" invalid_recipient # Outlook 550 5.4.1 (directory-based edge blocking)
        text "does not exist"                        invalid_recipient   # Gmail "The email account … does not exist"; Apple
        text "no such user"                          invalid_recipient
        text "no mailbox here by that name"          invalid_recipient   # qmail
        text "recipient not found"                   invalid_recipient
        text "user not found"                        invalid_recipient
        text "unknown or illegal alias"              invalid_recipient   # Apple 550 5.1.1

        # DNS
        text "Host or domain name not found"         dns_failure         # Postfix
        text "Name service error"                    dns_failure
        text "DNS lookup"                            dns_failure         # the relay's own 451 4.4.3
        text "Host not found"                        dns_failure
        """#
}
