/// The `dkim` check, one per selector: `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1)
/// publishes the key the relay signs with.
///
/// Keys are compared by their `p=` value with whitespace removed (a zone may fold it)
/// and their `k=` type (default `rsa`), not as whole strings: tag order, spacing and
/// optional tags may differ.
enum DKIMCheck {
    /// A key record's parts that matter for verification (RFC 6376 §3.6.1).
    struct KeyRecord: Sendable, Hashable {
        /// `p=` without whitespace; empty means the key was revoked.
        var publicKey: String
        /// `k=`, default `rsa`.
        var keyType: String
        /// `t=y`: the domain is testing DKIM and verifiers may ignore failures.
        var isTesting: Bool

        init?(parsing text: String) {
            guard let tags = TagList(parsing: text), let key = tags["p"] else { return nil }
            if let version = tags["v"], version != "DKIM1" { return nil }
            self.publicKey = key.removingWhitespace()
            self.keyType = (tags["k"] ?? "rsa").lowercased()
            self.isTesting = (tags["t"] ?? "").split(separator: ":").contains { $0.trimmingWhitespace() == "y" }
        }
    }

    /// Why a `--dkim-selector NAME=RECORD` cannot be checked; nil when it can.
    static func problem(with selector: DKIMSelector) -> String? {
        guard !selector.selector.isEmpty,
            selector.selector.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ label in
                !label.isEmpty && label.count <= 63
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            })
        else { return "'\(selector.selector)' is not a DKIM selector (letters, digits, -, _ and dots)" }
        guard let key = KeyRecord(parsing: selector.record), !key.publicKey.isEmpty else {
            return "the record for selector '\(selector.selector)' has no p= key (expected e.g. v=DKIM1; k=rsa; p=MIIBIjAN…)"
        }
        return nil
    }

    static func check(_ expected: DKIMSelector, domain: String, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> CheckResult {
        let name = "\(DNSSnapshot.normalized(expected.selector))._domainkey.\(domain)"
        let publish = RecordFix(name: name, type: "TXT", value: expected.record)
        func result(_ status: CheckStatus, _ finding: String, fix: RecordFix? = nil) -> CheckResult {
            CheckResult(name: "dkim", target: expected.selector, status: status, finding: finding, fix: fix)
        }
        guard let wanted = KeyRecord(parsing: expected.record), !wanted.publicKey.isEmpty else {
            return result(.fail, "the relay's record for selector \(expected.selector) has no p= key")
        }
        let answer = try dns.answer(name, .txt)
        if let failure = answer.failure {
            return result(.fail, "TXT lookup of \(name) failed: \(failure)")
        }
        let texts = answer.texts
        if texts.isEmpty {
            return result(.fail, "no DKIM key at \(name): receivers cannot verify the relay's signatures", fix: publish)
        }
        let keys = texts.compactMap(KeyRecord.init(parsing:))
        if keys.isEmpty {
            return result(.fail, "the TXT record at \(name) is not a DKIM key record (no valid p= tag)", fix: publish)
        }
        let matching = keys.filter { $0.publicKey == wanted.publicKey && $0.keyType == wanted.keyType }
        guard let match = matching.first else {
            if keys.allSatisfy({ $0.publicKey.isEmpty }) {
                return result(.fail, "the key at \(name) is revoked (empty p=, RFC 6376 §3.6.1)", fix: publish)
            }
            if keys.contains(where: { $0.publicKey == wanted.publicKey }) {
                return result(.fail, "the key at \(name) has k=\(keys[0].keyType), the relay signs with k=\(wanted.keyType)", fix: publish)
            }
            return result(.fail, "the key published at \(name) is not the relay's key (p= differs): signatures will fail", fix: publish)
        }
        if keys.count > 1 {
            return result(
                .warn, "\(keys.count) key records at \(name); verifiers may pick any (RFC 6376 §3.6.2.2): remove all but the relay's")
        }
        if match.isTesting {
            return result(.warn, "the relay's key is published at \(name) with t=y (testing): verifiers may treat signatures as unsigned")
        }
        return result(.pass, "the relay's \(match.keyType) key is published at \(name)")
    }

    /// The check when no selector was given.
    static func notChecked(domain: String) -> CheckResult {
        CheckResult(
            name: "dkim", status: .warn,
            finding: "no DKIM selector given (--dkim-selector NAME=RECORD), so DKIM for \(domain) was not checked")
    }
}

extension DKIMSelector {
    /// Why this selector and record cannot be checked (a bad selector name, no `p=`), or nil.
    public var problem: String? { DKIMCheck.problem(with: self) }
}
