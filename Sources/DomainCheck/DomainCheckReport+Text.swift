/// The human report: one line per check — status, name (and selector or IP), finding
/// and, for a failure DNS can repair, the record to publish (`publish: NAME TYPE VALUE`,
/// a TXT value in quotes) — then the counts.
///
/// ```
/// Sending-domain check for example.com
/// PASS  spf                   authorises 192.0.2.10 (ip4:192.0.2.0/24); 0 of 10 DNS lookups
/// FAIL  dkim s1               no DKIM key at s1._domainkey.example.com: … — publish: s1._domainkey.example.com TXT "v=DKIM1; k=rsa; p=MIIB…"
/// 9 pass, 1 warn, 1 fail, 1 info
/// ```
extension DomainCheckReport {
    public var text: String {
        var lines = ["Sending-domain check for \(self.domain)"]
        let labels = self.checks.map { check in check.target.map { "\(check.name) \($0)" } ?? check.name }
        let width = min(40, labels.map(\.count).max() ?? 0)
        for (check, label) in zip(self.checks, labels) {
            var line = "\(check.status.rawValue.uppercased().padding(4))  \(label.padding(width))  \(check.finding)"
            if let fix = check.fix {
                // TXT values in quotes, as in a zone file; names and addresses bare.
                let value = fix.type == "TXT" ? "\"\(fix.value)\"" : fix.value
                line += " — publish: \(fix.name) \(fix.type) \(value)"
            }
            lines.append(line)
        }
        lines.append("\(self.summary.pass) pass, \(self.summary.warn) warn, \(self.summary.fail) fail, \(self.summary.info) info")
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
