/// Bounces in the formats that predate RFC 3464 (or ignore it), read from their text: an
/// introductory phrase starts the section that names the failed recipients, a phrase
/// such as "original message follows" ends it. The phrases are the MTAs' own wording;
/// the list was drawn up from the formats flufl.bounce recognises and from the MTAs' sources.
struct PlainTextFormat {
    enum Style {
        /// Every address in the section.
        case anyAddress
        /// Only addresses written `<addr>:` at the start of a line (qmail's QSBMF, old
        /// Postfix, Yahoo).
        case angleColon
        /// AOL: one screen name or address per line (a bare name is `@aol.com`).
        case aolNames
        /// Only the addresses on the intro line itself (the text below names others).
        case introLine
    }

    let name: String
    let intros: [String]
    let style: Style
    /// Whether the intro alone makes the message a bounce; weaker phrases ("user unknown")
    /// count only in a message from a mailer daemon or with a bounce's subject.
    let strong: Bool
    /// `delayed` for warnings ("will keep trying"), else `failed`.
    var action = "failed"

    /// Phrases that end every format's recipient section: the quoted original starts.
    static let ends = [
        "original message follows", "original message -----", "-----original message", "copy of the message", "copy of your message",
        "returned message follows", "returned mail follows", "start of returned message", "message headers follow",
        "original message headers", "headers of the original", "transcript of session follows", "forwarded message",
        "---- begin included message", "below this line", "original message details", "included is a copy",
        "message text follows", "--- the header", "end of message", "msexch:", "error detail", "the header of the original",
        "your message reads", "old message:", "---- original message", "received: from", "return-path:",
    ]

    static let all: [PlainTextFormat] = [
        PlainTextFormat(
            name: "llnl", intros: ["which your message was addressed,"], style: .introLine, strong: true),
        PlainTextFormat(
            name: "text-warning",
            intros: [
                "transient non-fatal errors", "this is a warning message only", "will keep trying", "will continue to try",
                "delivery attempts will continue", "has not yet been delivered", "warning: message still undelivered",
                "message delivery has been delayed", "delivery has been delayed", "is still being retried",
                "this is just a warning", "message has not been delivered yet", "delivery to the following recipients has been delayed",
                "could not be delivered yet", "not been delivered for", "has been postponed", "delivery of email to this address",
            ],
            style: .anyAddress, strong: true, action: "delayed"),
        PlainTextFormat(
            name: "qmail",
            intros: [
                "this is the qmail-send program", "hi. this is the", "hi. the mta program at", "this is the mail delivery agent at",
                "unfortunately, your mail was not delivered", "your mail message to the following", "we're sorry. there's a problem",
                "check your send e-mail address",
            ],
            style: .angleColon, strong: true),
        PlainTextFormat(
            name: "postfix-old",
            intros: [
                "the postfix program", "the bns postfix program", "the keftamail program", "the smtp_gateway program",
                "i'm sorry to have to inform you that your message could not", "i'm afraid i wasn't able to deliver", "failure reason:",
            ],
            style: .angleColon, strong: true),
        PlainTextFormat(
            name: "yahoo",
            intros: ["sorry, we were unable to deliver your message to the following address", "message from yahoo"],
            style: .angleColon, strong: true),
        PlainTextFormat(
            name: "aol", intros: ["mail to the following recipients could not be delivered"], style: .aolNames, strong: true),
        PlainTextFormat(
            name: "sendmail-old",
            intros: ["the following addresses had permanent fatal errors", "the following addresses had"],
            style: .anyAddress, strong: true),
        PlainTextFormat(
            name: "exim",
            intros: [
                "this message was created automatically by mail delivery software", "the following address(es) failed",
                "the following addresses failed",
            ],
            style: .anyAddress, strong: true),
        PlainTextFormat(
            name: "exchange",
            intros: [
                "delivery has failed to these recipients or groups", "did not reach the following recipient",
                "your message did not reach some or all of the intended recipients", "delivery to the following recipients failed",
                "delivery to the following recipient failed", "delivery to the following recipients was aborted",
                "delivery to the following recipient has been delayed", "message could not be delivered to some recipients",
                "could not be delivered to the following recipient", "delivery has failed",
            ],
            style: .anyAddress, strong: true),
        PlainTextFormat(
            name: "domino",
            intros: ["was not delivered to:", "your message was not delivered", "delivery failure report", "was not delivered to"],
            style: .anyAddress, strong: true),
        PlainTextFormat(
            name: "groupwise",
            intros: [
                "the message that you sent was undeliverable to the following", "undeliverable to the following",
                "the following recipients did not receive this message", "the following recipient(s) could not be reached",
                "this message was undeliverable due to the following reason",
            ],
            style: .anyAddress, strong: true),
        PlainTextFormat(
            name: "text-other",
            intros: [
                "here is your list of failed recipients", "failed addresses follow", "the following addresses did not receive a copy",
                "intended recipient:", "undeliverable address:", "could not be delivered to the following user",
                "unable to deliver message to the following address", "a message that you sent could not be delivered",
                "a message that you sent was rejected", "your message could not be delivered",
                "your message has encountered delivery problems",
                "this is the deliver program at", "this is the email server at", "the following address failed",
                "could not deliver message to the following recipient", "message not delivered to the following",
                "wasn't able to deliver the following message", "this is a delivery failure notification message",
                "sorry, unable to deliver your message to", "a message could not be delivered to", "unable to deliver message to",
                "failed recipients", "this is the machine generated message from mail service", "message from interscan e-mail viruswall",
                "was automatically rejected", "error-for:", "invalid final delivery userid", "message could not be delivered",
                "could not be delivered to", "user mailbox exceeds allowed size", "delivery failed", "undeliverable to",
                "was undeliverable", "no such user", "user unknown", "unknown user", "mailbox is full", "mailbox full",
                "mailbox unavailable", "recipient address rejected", "permanent error", "does not exist", "not a valid mailbox",
                "addressee unknown", "no mailbox here", "delevery to the following recipients",
                "cannot be delivered to the following address", "the following mail could not be delivered",
            ],
            style: .anyAddress, strong: false),
        // A list of `<addr>:` lines with no phrase before it (Sina, and many a qmail
        // derivative): only in a message from a mailer daemon or with a bounce's subject.
        PlainTextFormat(name: "text-other", intros: [""], style: .angleColon, strong: false),
    ]
}

/// Reads the failed recipients of a plain-text bounce.
struct PlainTextBounce {
    /// Addresses never reported as failed: the bounce's own sender and recipient, and
    /// mailer-daemon/postmaster mailboxes named in the text.
    var excluded: Set<String>
    /// Whether the message looks like a bounce from its sender or subject.
    var bounceSignal: Bool

    static let maxSectionLines = 400

    func recipients(in text: String) -> [FailedRecipient] {
        recipientsAndIntro(in: text).recipients
    }

    /// The recipients found, and whether an intro phrase of a strong format was seen (a
    /// bounce even when it names no address).
    func recipientsAndIntro(in text: String) -> (recipients: [FailedRecipient], sawIntro: Bool) {
        let lines = Array(text.lines.prefix(20_000))
        // Lower-cased, runs of white space as one space: the phrases match however wrapped
        // or padded ("undeliverable  to").
        let lowered = lines.map { Self.normalized($0.prefix(1000)) }
        var sawIntro = false
        for format in PlainTextFormat.all where format.strong || bounceSignal {
            guard let start = lowered.firstIndex(where: { line in format.intros.contains { $0.isEmpty || line.has($0) } }) else { continue }
            sawIntro = true
            // The address may stand just above the phrase ("Your message to:\n  x@y\nhas not
            // yet been delivered"): look back a few lines, not past a quoted original.
            var from = start
            if format.style == .anyAddress {
                while from > 0, start - from < 3, !PlainTextFormat.ends.contains(where: { lowered[from - 1].has($0) }),
                    !Self.isHeaderLike(lowered[from - 1])
                {
                    from -= 1
                }
            }
            let found = extract(format, lines: lines, lowered: lowered, from: from, intro: start)
            if !found.isEmpty { return (found, true) }
        }
        return ([], sawIntro)
    }

    static func normalized(_ line: Substring) -> String {
        var result = String.UnicodeScalarView()
        var lastWasSpace = true
        for scalar in line.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\u{A0}" {
                if !lastWasSpace { result.append(" ") }
                lastWasSpace = true
            } else {
                result.append(("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar)
                lastWasSpace = false
            }
        }
        return String(result)
    }

    private static func isHeaderLike(_ lower: String) -> Bool {
        ["from:", "to:", "cc:", "reply-to:", "sender:", "return-path:", "subject:"].contains { lower.hasPrefix($0) }
    }

    private func extract(_ format: PlainTextFormat, lines: [Substring], lowered: [String], from start: Int, intro: Int) -> [FailedRecipient]
    {
        var found: [FailedRecipient] = []
        var seen: Set<String> = []
        var index = start
        let end = format.style == .introLine ? intro + 1 : min(lines.count, intro + Self.maxSectionLines)
        while index < end {
            let line = lines[index]
            let lower = lowered[index]
            if index > intro, PlainTextFormat.ends.contains(where: { lower.has($0) }) { break }
            if lower.hasPrefix("mail from:") || lower.has("mail from:<") || lower.hasPrefix("from:") || lower.hasPrefix("reply-to:") {
                index += 1
                continue
            }
            var addresses = candidates(format, line: line, lower: lower)
            addresses = addresses.filter { !excluded.contains(TextScan.lowercasedASCII($0.address)) && !Self.isDaemon($0.address) }
            for (address, offset) in addresses where !seen.contains(TextScan.lowercasedASCII(address)) {
                seen.insert(TextScan.lowercasedASCII(address))
                let diagnostic = diagnosticText(lines: lines, line: index, after: offset, seen: seen, end: end)
                found.append(
                    FailedRecipient(
                        recipient: address, status: TextScan.status(fromDiagnostic: diagnostic), diagnostic: diagnostic,
                        action: format.action, format: format.name))
                if found.count >= ReportFields.maxRecipients { return found }
            }
            index += 1
        }
        return found
    }

    private func candidates(_ format: PlainTextFormat, line: Substring, lower: String) -> [(address: String, end: Int)] {
        switch format.style {
        case .anyAddress, .introLine:
            return TextScan.addresses(in: line)
        case .angleColon:
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("<"), let close = trimmed.firstIndex(of: ">"),
                trimmed.index(after: close) < trimmed.endIndex, trimmed[trimmed.index(after: close)] == ":"
            else { return [] }
            let inside = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            return TextScan.addresses(in: inside).prefix(1).map { ($0.address, line.unicodeScalars.count) }
        case .aolNames:
            let word = line.trimmed
            guard !word.isEmpty, !word.has(" "), !word.has("\t"), !lower.has("could not be delivered") else { return [] }
            if word.has("@") { return TextScan.addresses(in: Substring(word)) }
            guard word.utf8.count <= 64,
                word.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "_")
                })
            else { return [] }
            return [(word + "@aol.com", line.unicodeScalars.count)]
        }
    }

    /// The reason given for an address: the rest of its line, else the lines below it up
    /// to an empty line or the next new address (at most three lines).
    private func diagnosticText(lines: [Substring], line: Int, after offset: Int, seen: Set<String>, end: Int) -> String? {
        let scalars = Array(lines[line].unicodeScalars)
        let rest = String(String.UnicodeScalarView(scalars[min(offset, scalars.count)...])).trimming(" \t:>)(,;.")
        if rest.utf8.count >= 8 { return String(rest.prefix(500)) }
        var collected: [String] = []
        var index = line + 1
        while index < end, collected.count < 3 {
            let text = lines[index].trimmed
            if text.isEmpty { break }
            let addresses = TextScan.addresses(in: lines[index])
            if addresses.contains(where: {
                !seen.contains(TextScan.lowercasedASCII($0.address)) && !excluded.contains(TextScan.lowercasedASCII($0.address))
            }) {
                break
            }
            collected.append(text.trimming("()"))
            index += 1
        }
        let joined = collected.joined(separator: " ")
        return joined.isEmpty ? nil : String(joined.prefix(500))
    }

    static func isDaemon(_ address: String) -> Bool {
        guard let at = address.lastIndex(of: "@") else { return false }
        let local = TextScan.lowercasedASCII(address[..<at])
        return local == "mailer" || local.has("daemon") || local.has("postmaster") || local.has("mail.delivery")
    }
}
