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
            let address = value("final-recipient").flatMap(TextScan.fieldAddress) ?? value("original-recipient").flatMap(TextScan.fieldAddress)
            let action = value("action").map { TextScan.lowercasedASCII($0.trimmed) }
            let diagnostic = value("diagnostic-code").map(stripType)
            var status = value("status").flatMap { TextScan.enhancedStatus(in: $0) }
            if status == nil { status = TextScan.status(fromDiagnostic: diagnostic) }
            // Per-message groups have no recipient and no action or status.
            guard address != nil || action != nil || value("status") != nil else { continue }
            if address != nil { named += 1 }
            let failing: Bool
            switch action {
            case "failed", "delayed": failing = true
            case .some: failing = false
            // Action is required (RFC 3464 §2.3.3); without it the status class decides.
            case .none: failing = status?.first == "5" || status?.first == "4"
            }
            guard failing else { continue }
            result.append(
                FailedRecipient(
                    recipient: address, status: status, diagnostic: diagnostic,
                    action: action ?? (status?.first == "4" ? "delayed" : "failed"), remoteMTA: value("remote-mta").map(stripType)))
            if result.count >= maxRecipients { break }
        }
        return (result, named)
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
