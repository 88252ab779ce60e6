import NIOCore

extension DNSResolver {
    /// The records of `type` at `name`, after following CNAMEs (RFC 1034 §3.6.2); empty
    /// when the name exists without records of that type (NODATA, RFC 2308 §2.2).
    ///
    /// The general lookup behind ``txt(_:)`` and ``ptr(_:)``, for callers that need the
    /// decoded RDATA itself (A, AAAA, MX, CNAME, SOA, TXT, PTR; other types come back
    /// empty because the decoder skips them).
    ///
    /// - Throws: ``DNSError`` — ``DNSError/Code/nameDoesNotExist`` for NXDOMAIN,
    ///   ``DNSError/Code/invalidName``, or a temporary failure.
    public func records(_ name: String, type: DNSRecordType) async throws -> [DNSResourceRecord] {
        let name = try DNSName(name)
        switch try await self.lookup(DNSQuestion(name: name, type: type)) {
        case .nameError:
            throw DNSError.nameDoesNotExist(name)
        case .noData:
            return []
        case .records(let records, _):
            return records
        }
    }

    /// The TLSA records at `name` (RFC 6698 §2), e.g. `_25._tcp.mx.example.com`, and
    /// whether the answer was authenticated (AD, only with
    /// ``DNSResolverConfiguration/requestDNSSEC``). DANE uses them only when it was (RFC 7672
    /// §2.2); an authenticated "no records" means the host does not use DANE.
    ///
    /// ```
    /// C: _25._tcp.mx.example.com. IN TLSA                       (DO, AD)
    /// S: AD  _25._tcp.mx.example.com. 300 IN TLSA 3 1 1 8cb0fc6c…
    /// ```
    public func tlsa(_ name: String) async throws -> (records: [TLSARecord], authenticated: Bool) {
        let dnsName = try DNSName(name)
        let answer = try await self.answer(DNSQuestion(name: dnsName, type: .tlsa))
        switch answer.result {
        case .nameError, .noData:
            return ([], answer.isAuthenticated)
        case .records(let records, _):
            return (
                records.compactMap { record in
                    guard case .tlsa(let tlsa) = record.data else { return nil }
                    return tlsa
                }, answer.isAuthenticated
            )
        }
    }

    /// The TXT records at `name` (RFC 1035 §3.3.14), one string per record.
    ///
    /// A record may hold several character-strings of at most 255 octets each; they are
    /// concatenated without any separator, as SPF (RFC 7208 §3.3) and DKIM (RFC 6376
    /// §3.6.2.2) require — a 2048-bit DKIM key does not fit one string. Octets that are
    /// not UTF-8 are replaced with U+FFFD.
    ///
    /// ```
    /// C: s1._domainkey.example.com. IN TXT
    /// S: s1._domainkey.example.com. 300 IN TXT "v=DKIM1; k=rsa; p=MIIBIjAN…" "…IDAQAB"
    /// ```
    ///
    /// - Throws: ``DNSError`` — ``DNSError/Code/nameDoesNotExist`` for NXDOMAIN,
    ///   ``DNSError/Code/invalidName``, or a temporary failure.
    public func txt(_ name: String) async throws -> [String] {
        try await self.records(name, type: .txt).compactMap { record in
            guard case .txt(let strings) = record.data else { return nil }
            return Self.joinedText(strings)
        }
    }

    /// The names the PTR records of an IP address point to (RFC 1035 §3.5, RFC 3596
    /// §2.5), without a trailing dot. A CNAME at the reverse name, as in classless
    /// delegation (RFC 2317), is followed.
    ///
    /// ```
    /// C: 10.2.0.192.in-addr.arpa. IN PTR
    /// S: 10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.
    /// ```
    ///
    /// - Parameter address: an IPv4 or IPv6 address in text form (`192.0.2.10`, `2001:db8::1`).
    /// - Throws: ``DNSError`` — ``DNSError/Code/invalidName`` when `address` is not an IP
    ///   address, ``DNSError/Code/nameDoesNotExist`` for NXDOMAIN (no reverse mapping),
    ///   or a temporary failure.
    public func ptr(_ address: String) async throws -> [String] {
        guard let bytes = Self.addressBytes(address), let name = DNSName(reverseOf: bytes) else {
            throw DNSError(.invalidName, "\"\(address)\" is not an IPv4 or IPv6 address")
        }
        return try await self.records(name.description, type: .ptr).compactMap { record in
            guard case .ptr(let target) = record.data else { return nil }
            return target.description
        }
    }

    /// The character-strings of one TXT record joined into one string (RFC 7208 §3.3).
    public static func joinedText(_ strings: [[UInt8]]) -> String {
        String(decoding: strings.joined(), as: UTF8.self)
    }

    /// The octets of a textual IPv4 (4) or IPv6 (16) address, or nil.
    static func addressBytes(_ text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default:
            return nil
        }
    }
}
