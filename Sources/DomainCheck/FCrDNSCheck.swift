import DNSResolver

/// The `fcrdns` check, one per egress IP: forward-confirmed reverse DNS. The IP's PTR
/// record (RFC 1035 §3.5, RFC 3596 §2.5) names a host whose A/AAAA records include the
/// IP, and that host is the EHLO name the relay greets with from the IP (RFC 5321
/// §4.1.1.1; Gmail and Yahoo require both of bulk senders, many receivers of everyone).
enum FCrDNSCheck {
    static func check(_ egress: EgressAddress, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> CheckResult {
        let ip = egress.ip
        let helo = egress.heloName
        let family: DNSRecordType = ip.isIPv4 ? .a : .aaaa
        let reverse = ip.reverseName
        let ptrFix = RecordFix(name: reverse, type: "PTR", value: helo)
        func result(_ status: CheckStatus, _ finding: String, fix: RecordFix? = nil) -> CheckResult {
            CheckResult(name: "fcrdns", target: ip.description, status: status, finding: finding, fix: fix)
        }
        let answer = try dns.answer(reverse, .ptr)
        if let why = answer.failure {
            return result(.fail, "PTR lookup of \(ip) failed: \(why)")
        }
        let names = answer.pointers.map(DNSSnapshot.normalized)
        if names.isEmpty {
            return result(
                .fail, "\(ip) has no PTR record; ask whoever owns the address (your provider) to point it to \(helo)", fix: ptrFix)
        }
        var confirmed: [String] = []
        var elsewhere: [String] = []
        for name in names.prefix(10) {
            let forward = try dns.answer(name, family)
            let addresses = forward.addresses.compactMap { IPAddress(bytes: $0) }
            if addresses.contains(ip) {
                confirmed.append(name)
            } else {
                let shown = addresses.isEmpty ? "nothing" : addresses.map(\.description).joined(separator: ", ")
                elsewhere.append("\(name) → \(shown)")
            }
        }
        if confirmed.contains(helo) {
            let extra = names.count > 1 ? " (\(names.count) PTR records; one is enough)" : ""
            return result(.pass, "\(ip) → \(helo) → \(ip), the EHLO name\(extra)")
        }
        if confirmed.isEmpty {
            // The reverse name points somewhere that does not point back.
            let target = names.contains(helo) ? helo : names[0]
            return result(
                .fail,
                "PTR of \(ip) is \(names.joined(separator: ", ")), which does not resolve back to it (\(elsewhere.joined(separator: "; ")))",
                fix: RecordFix(name: target, type: family == .a ? "A" : "AAAA", value: ip.description))
        }
        // Forward-confirmed, but not the name the relay says in EHLO.
        let heloPointsHere = try dns.answer(helo, family).addresses.contains { IPAddress(bytes: $0) == ip }
        let also = heloPointsHere ? "" : " (and \(helo) \(family) \(ip))"
        return result(
            .fail,
            "PTR of \(ip) is \(confirmed[0]), but the relay greets as \(helo): set the PTR to \(helo)\(also), or set delivery.egress[].helo to \(confirmed[0])",
            fix: ptrFix)
    }
}
