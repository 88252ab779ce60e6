/// The organizational domain of a name (RFC 7489 §3.2), approximated without the Public
/// Suffix List — the same rule as the delivery engine's registrable domain for MX hosts:
///
/// - the last two labels: `mail.example.com` → `example.com`;
/// - the last three when the top-level domain is a two-letter country code and the label
///   before it a common second level (`co`, `ne`, `or`, `ac`, `com`, …):
///   `news.example.co.jp` → `example.co.jp`;
/// - a name with fewer labels stays as it is.
///
/// It decides relaxed alignment (§3.1) and where to look for a DMARC record a subdomain
/// does not publish (§6.6.3). A private suffix such as `github.io` is not known here.
enum OrganizationalDomain {
    static let secondLevels: Set<String> = [
        "co", "ne", "or", "ac", "ad", "go", "ed", "gr", "lg",
        "com", "net", "org", "gov", "edu",
    ]

    static func of(_ name: String) -> String {
        let name = DNSSnapshot.normalized(name)
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count > 2 else { return name }
        let tld = labels[labels.count - 1]
        let second = labels[labels.count - 2]
        let keep = tld.count == 2 && Self.secondLevels.contains(String(second)) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }
}
