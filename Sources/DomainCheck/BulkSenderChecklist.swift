/// The checks for the Gmail and Yahoo sender requirements of February 2024 that DNS and
/// the relay's configuration can show, and their summary (`bulk-sender`).
///
/// The requirements for bulk senders (over ~5,000 messages a day to Gmail): SPF and DKIM
/// both pass; a DMARC record (`p=none` is enough); the From domain aligned with the SPF
/// or the DKIM domain; forward-confirmed reverse DNS for every sending IP; TLS; one-click
/// unsubscribe (RFC 8058) for marketing mail; a spam rate under 0.3%. The last two are
/// properties of the mail and its recipients, not of DNS.
enum BulkSenderChecklist {
    static func tls(enabled: Bool) -> CheckResult {
        if enabled {
            return CheckResult(
                name: "tls", status: .pass,
                finding: "the relay uses STARTTLS (RFC 3207) whenever the receiving server offers it (delivery.tls: opportunistic)")
        }
        return CheckResult(
            name: "tls", status: .fail,
            finding: "delivery.tls is disabled: Gmail and Yahoo require TLS; set delivery.tls: opportunistic")
    }

    static let unsubscribe = CheckResult(
        name: "unsubscribe", status: .info,
        finding: "add List-Unsubscribe and List-Unsubscribe-Post headers (RFC 8058) to bulk mail; this cannot be checked from DNS")

    /// `bulk-sender`: fails when a requirement fails, warns when one could not be
    /// established (DKIM without a selector), passes otherwise.
    static func summary(of checks: [CheckResult]) -> CheckResult {
        func statuses(_ name: String) -> [CheckStatus] { checks.filter { $0.name == name }.map(\.status) }
        func allPass(_ name: String) -> Bool {
            let s = statuses(name)
            return !s.isEmpty && s.allSatisfy { $0 == .pass }
        }
        let dkim = statuses("dkim")
        let dkimKnown = checks.contains { $0.name == "dkim" && $0.target != nil }
        let items: [(label: String, met: Bool?)] = [
            ("SPF pass", allPass("spf")),
            ("DKIM pass", dkimKnown ? dkim.allSatisfy { $0 == .pass } : nil),
            ("DMARC record", statuses("dmarc").allSatisfy { $0 == .pass || $0 == .warn } && !statuses("dmarc").isEmpty),
            ("From aligned", allPass("alignment")),
            ("FCrDNS for every IP", allPass("fcrdns")),
            ("TLS", allPass("tls")),
        ]
        let missing = items.filter { $0.met == false }.map(\.label)
        let unknown = items.filter { $0.met == nil }.map(\.label)
        if !missing.isEmpty {
            return CheckResult(
                name: "bulk-sender", status: .fail,
                finding: "Gmail/Yahoo 2024 bulk-sender requirements not met: \(missing.joined(separator: ", "))"
                    + (unknown.isEmpty ? "" : "; not checked: \(unknown.joined(separator: ", "))"))
        }
        if !unknown.isEmpty {
            return CheckResult(
                name: "bulk-sender", status: .warn,
                finding: "Gmail/Yahoo 2024 bulk-sender requirements met as far as checked; not checked: \(unknown.joined(separator: ", "))")
        }
        return CheckResult(
            name: "bulk-sender", status: .pass,
            finding:
                "Gmail/Yahoo 2024 bulk-sender requirements met: \(items.map(\.label).joined(separator: ", ")); also keep the spam rate under 0.3% and offer one-click unsubscribe"
        )
    }
}
