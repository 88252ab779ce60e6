import RelayCore

/// What the AUTH lockout counts failures against (see `AccountStore.authFailed`).
///
/// - The client address — an IPv6 client by its /64: one subscriber, one LAN or one
///   server usually gets a whole /64 (RFC 6177, RFC 7421), so counting single addresses
///   would let it rotate through 2^64 of them. An IPv4-mapped IPv6 address
///   (`::ffff:192.0.2.1`) counts as the IPv4 address.
/// - The user name, bounded by ``SMTPLimits/authUsernameLength`` before anything reaches
///   Redis (the state machine refuses longer ones).
///
/// A user name locked out by failures from elsewhere still logs in from an address (by
/// the same key) where it logged in successfully within `accounts.auth_known_address_ttl`:
/// a guesser cannot lock the real user out of their usual place.
public enum AuthLockout {
    /// The key the failures of `clientIP` count under: the IPv4 address, or the IPv6 /64
    /// as `2001:db8:1:2::/64`. Anything unparsable counts as one `unknown`.
    public static func addressKey(for clientIP: String?) -> String {
        guard let clientIP, let bytes = IPNetwork.parseAddress(clientIP) else { return "unknown" }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12..<16].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
