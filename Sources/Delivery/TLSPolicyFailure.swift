import SMTPProtocol

/// Why a host was not used under the TLS its destination requires (RFC 3207 §4, RFC 8461
/// §5, RFC 7672 §2.2). When every host fails this way the recipients are deferred with
/// `4.7.5`, never sent in clear or to an unauthenticated host.
enum TLSPolicyFailure: Error, Equatable, CustomStringConvertible {
    /// The host must not be used at all (not in the MTA-STS policy, TLSA lookup failed).
    case refused(TLSRefusal)
    /// TLS is mandatory and the host did not offer STARTTLS.
    case startTLSNotOffered(host: String, requirement: TLSRequirement)
    /// TLS is mandatory and the host answered STARTTLS with something other than `220`.
    case startTLSRefused(host: String, reply: SMTPReply, requirement: TLSRequirement)
    /// The handshake failed: the certificate was refused, or TLS broke.
    case handshakeFailed(host: String, requirement: TLSRequirement, detail: String)

    var description: String {
        switch self {
        case .refused(let refusal):
            return refusal.reason
        case .startTLSNotOffered(let host, .encrypted):
            return "TLS is required for this site and \(host) did not offer it"
        case .startTLSNotOffered(let host, let requirement):
            return "\(host) did not offer STARTTLS (TLS required by \(requirement.reason))"
        case .startTLSRefused(let host, let reply, let requirement):
            return "\(host) answered STARTTLS with \(reply.singleLineText) (TLS required by \(requirement.reason))"
        case .handshakeFailed(let host, let requirement, let detail):
            return "TLS with \(host) failed (\(requirement.reason) requires \(Self.authentication(requirement))): \(detail)"
        }
    }

    private static func authentication(_ requirement: TLSRequirement) -> String {
        switch requirement {
        case .opportunistic, .encrypted, .reported: return "any certificate"
        case .verified: return "a certificate from a trusted CA naming the MX host"
        case .dane: return "a certificate matching the TLSA records"
        }
    }
}
