import OutboundTLS

/// What one MX host must offer before mail goes to it, decided per host from the domain's
/// MTA-STS policy, the site's `tls_required` and (with DANE) the host's TLSA records.
/// DANE comes first where it applies (RFC 8461 §2: a DANE-protected MX ignores MTA-STS).
enum TLSRequirement: Sendable, Equatable {
    /// STARTTLS when offered, certificate not checked (RFC 7435).
    case opportunistic
    /// STARTTLS mandatory, certificate not checked (`tls_required` with `verify_tls_required: false`).
    case encrypted(because: String)
    /// STARTTLS mandatory, chain to the CA bundle and the MX host's name in the certificate.
    case verified(because: String)
    /// STARTTLS mandatory, certificate matching one of these TLSA records (RFC 7672 §3).
    case dane(DANEMatcher)
    /// An MTA-STS `testing` policy lists this host: opportunistic, but what `enforce` would
    /// refuse (no STARTTLS, a certificate that does not verify) is logged (RFC 8461 §5).
    case reported(domain: String)

    var isMandatory: Bool {
        switch self {
        case .opportunistic, .reported: return false
        case .encrypted, .verified, .dane: return true
        }
    }

    /// Why TLS is mandatory, for replies.
    var reason: String {
        switch self {
        case .opportunistic: return "opportunistic TLS"
        case .reported(let domain): return "the MTA-STS policy of \(domain) (testing)"
        case .encrypted(let why), .verified(let why): return why
        case .dane(let matcher): return "DANE (TLSA at \(matcher.name))"
        }
    }

    /// The decision for `host`, an MX of `domain`; nil with a reason when the host must not
    /// be used at all (an MTA-STS `enforce` policy that does not list it, RFC 8461 §4.1).
    static func decide(
        host: String, domain: String, policy: MTASTSPolicy?, dane: DANEMatcher?,
        siteRequiresTLS: Bool, verifySiteTLS: Bool
    ) -> Result<TLSRequirement, TLSRefusal> {
        if let dane { return .success(.dane(dane)) }
        if let policy, policy.mode == .enforce {
            guard policy.matches(host: host) else {
                let patterns = policy.mx.joined(separator: ", ")
                return .failure(TLSRefusal(reason: "MX \(host) is not listed in the MTA-STS policy of \(domain) (mx: \(patterns))"))
            }
            return .success(.verified(because: "the MTA-STS policy of \(domain)"))
        }
        if let policy, policy.mode == .testing, policy.matches(host: host), !siteRequiresTLS {
            return .success(.reported(domain: domain))
        }
        if siteRequiresTLS {
            return .success(
                verifySiteTLS
                    ? .verified(because: "this site's tls_required")
                    : .encrypted(because: "this site's tls_required"))
        }
        return .success(.opportunistic)
    }
}

/// An MX host that cannot be used under the destination's TLS policy: its reply is `4.7.5`.
struct TLSRefusal: Error, Equatable, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
