/// The registrable domain ("organisational domain") of a host name, approximated
/// without a public-suffix list, to group MX hosts that no site pattern knows:
/// `mx1.mail.example.net` and `mx2.example.net` both belong to `example.net`.
///
/// - The last two labels: `mx.example.net` → `example.net`.
/// - The last three when the top-level domain is a two-letter country code and the
///   second-to-last label is a well-known second level under it (``secondLevels``):
///   `mx.example.co.jp` → `example.co.jp`, `smtp.example.ne.jp` → `example.ne.jp`,
///   `mail.example.com.au` → `example.com.au`.
/// - A host with fewer labels, or an IP address, stays as it is.
enum RegistrableDomain {
    /// Second-level labels under two-letter country codes that are public suffixes in
    /// most ccTLDs (`co.jp`, `ne.jp`, `or.jp`, `ac.uk`, `com.au`, `gov.br`, …).
    static let secondLevels: Set<String> = [
        "co", "ne", "or", "ac", "ad", "go", "ed", "gr", "lg",
        "com", "net", "org", "gov", "edu",
    ]

    /// The registrable domain of `host` (lower-cased, without a trailing dot).
    static func of(_ host: String) -> String {
        let host = MXPattern.normalized(host)
        if host.contains(":") || host.hasPrefix("[") {
            return host  // IPv6 or address literal
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            return host  // IPv4 address
        }
        guard labels.count > 2 else { return host }
        let tld = labels[labels.count - 1]
        let second = labels[labels.count - 2]
        let keep = tld.count == 2 && secondLevels.contains(String(second)) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }
}
