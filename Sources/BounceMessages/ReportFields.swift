/// The machine-readable parts of reports: `message/delivery-status` (RFC 3464 §2) and
/// `message/feedback-report` (RFC 5965 §3).
enum ReportFields {
    /// Most recipients read from one report.
    static let maxRecipients = 1000

    /// The field groups of a report body, split at empty lines (RFC 3464 §2.1: the
    /// per-message group, then one group per recipient).
    static func groups(_ text: String) -> [MIMEHeader] {
        var groups: [MIMEHeader] = []
        var current: [Substring] = []
        func flush() {
            if !current.isEmpty { groups.append(MIMEHeader(parsing: Array(current.joined(separator: "\n").utf8)[...])) }
            current = []
        }
        for line in text.lines {
            if line.trimmed.isEmpty {
                flush()
                if groups.count > maxRecipients { break }
            } else {
                current.append(line)
            }
        }
        flush()
        return groups
    }

    /// The failed and delayed recipients of a `message/delivery-status` body. Groups are
    /// also split where a second `Final-Recipient` starts without an empty line before it,
    /// which some MTAs write.
    static func deliveryStatus(_ text: String) -> (recipients: [FailedRecipient], named: Int) {
        var records: [[(name: String, value: String)]] = []
        for group in groups(text) {
            var record: [(name: String, value: String)] = []
            for field in group.fields {
                let name = field.name.lowercased()
                let hasFinal = record.contains { $0.name == "final-recipient" }
                let hasOriginal = record.contains { $0.name == "original-recipient" }
                if (name == "final-recipient" && hasFinal) || (name == "original-recipient" && hasOriginal) {
                    records.append(record)
                    record = []
                }
                record.append((name, field.value))
            }
            records.append(record)
            if records.count > maxRecipients { break }
        }
        var result: [FailedRecipient] = []
        var named = 0
        for record in records {
            func value(_ name: String) -> String? { record.first { $0.name == name }?.value }
            // The original recipient is the address the relay sent to (RCPT TO); the final one
            // may be an alias's target, an X.400 name or an internal mailbox.
            let address = value("original-recipient").flatMap(mailAddress) ?? value("final-recipient").flatMap(mailAddress)
            let action = value("action").map(normalizedAction)
            let diagnostic = value("diagnostic-code").map(stripType)
            var status = value("status").flatMap { TextScan.enhancedStatus(in: $0) }
            if status == nil { status = TextScan.status(fromDiagnostic: diagnostic) ?? TextScan.status(fromDiagnostic: value("status")) }
            // Per-message groups have no recipient and no action or status.
            guard address != nil || action != nil || value("status") != nil else { continue }
            if address != nil { named += 1 }
            let failing: Bool
            switch action {
            case "failed", "delayed": failing = true
            case "delivered", "relayed", "expanded": failing = false
            // An action no RFC knows: the status class decides.
            case .some, .none: failing = status?.first == "5" || status?.first == "4"
            }
            guard failing else { continue }
            result.append(
                FailedRecipient(
                    recipient: address, status: status, diagnostic: diagnostic,
                    action: action == "failed" || action == "delayed" ? action : (status?.first == "4" ? "delayed" : "failed"),
                    remoteMTA: value("remote-mta").map(stripType)))
            if result.count >= maxRecipients { break }
        }
        return (result, named)
    }

    /// The address of an `rfc822;` (or type-less) recipient field when it is one.
    static func mailAddress(_ value: String) -> String? {
        if let semicolon = value.firstIndex(of: ";") {
            let type = TextScan.lowercasedASCII(value[..<semicolon].trimmed)
            guard type == "rfc822" || type == "utf-8" || type == "unknown" else { return nil }
        }
        guard let address = TextScan.fieldAddress(value), let at = address.lastIndex(of: "@") else { return nil }
        // The local part as the report writes it (even `david...`, which is not RFC 5322).
        guard at > address.startIndex, TextScan.isPlausible(local: "x", domain: String(address[address.index(after: at)...])) else {
            return nil
        }
        return address
    }

    /// RFC 3464 §2.3.3's action keyword; the variants MTAs write (`failure`, `error`,
    /// `failed (Bad destination mailbox address)`) as `failed`.
    static func normalizedAction(_ value: String) -> String {
        let word = TextScan.lowercasedASCII(value.trimmed.prefix { $0 != " " && $0 != "(" && $0 != ";" })
        switch word {
        case "failure", "error", "fail", "failed", "bounced", "undeliverable": return "failed"
        case "delay", "delayed", "deferred": return "delayed"
        default: return word
        }
    }

    /// The recipient of a message disposition notification (RFC 8098 §3.2) whose
    /// disposition is a failure (`deleted`, `denied`, `failed`: Dovecot's LDA reports a
    /// rejection so), else nil.
    static func failedDisposition(_ text: String) -> FailedRecipient? {
        var header = MIMEHeader()
        for group in groups(text) { header.fields += group.fields }
        let disposition = TextScan.lowercasedASCII(header.value("disposition") ?? "")
        guard let type = disposition.split(separator: ";").last?.trimmed,
            type.hasPrefix("deleted") || type.hasPrefix("denied") || type.hasPrefix("failed")
        else { return nil }
        let address = header.value("original-recipient").flatMap(mailAddress) ?? header.value("final-recipient").flatMap(mailAddress)
        return FailedRecipient(
            recipient: address, status: "5.0.0", diagnostic: header.value("failure")?.trimmed, action: "failed", format: "mdn")
    }

    /// A feedback report's fields (RFC 5965 §3.1-3.2).
    static func feedback(_ text: String) -> Complaint {
        var header = MIMEHeader()
        for group in groups(text) { header.fields += group.fields }
        let recipient = header.value("original-rcpt-to").flatMap(TextScan.fieldAddress)
        return Complaint(
            feedbackType: header.value("feedback-type").map { TextScan.lowercasedASCII($0.trimmed) },
            originalRecipient: recipient.flatMap(isRedacted) == true ? nil : recipient,
            originalMailFrom: header.value("original-mail-from").flatMap(TextScan.fieldAddress),
            arrivalDate: header.value("arrival-date") ?? header.value("received-date"),
            sourceIP: header.value("source-ip")?.trimmed,
            userAgent: header.value("user-agent")?.trimmed)
    }

    /// A redacted address (RFC 6590): no `@`, or `xxxx`/`redacted` in place of the local part.
    static func isRedacted(_ address: String) -> Bool {
        guard let at = address.lastIndex(of: "@") else { return true }
        let local = TextScan.lowercasedASCII(address[..<at])
        return local.isEmpty || local.has("redacted") || local.allSatisfy { $0 == "x" || $0 == "*" }
    }

    /// `smtp; 550 …` → `550 …`; `dns; mx.example.com` → `mx.example.com`.
    static func stripType(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value.trimmed }
        let type = value[..<semicolon]
        // A type is one token (RFC 3464 §2.1.2: "smtp", "dns", "x-unix", …).
        guard !type.isEmpty, type.utf8.count <= 20, !type.has(" ") else { return value.trimmed }
        return value[value.index(after: semicolon)...].trimmed
    }
}
