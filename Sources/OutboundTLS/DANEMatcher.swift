import COpenSSLCrypto
import DNSResolver

/// Checks a server's certificate chain against the usable TLSA records of its MX host
/// (RFC 7672 §3, RFC 6698 §2.1):
///
/// - DANE-EE (usage 3): the leaf certificate (selector 0) or its SubjectPublicKeyInfo
///   (selector 1) matches, exactly (matching type 0), by SHA-256 (1) or SHA-512 (2).
///   Names, dates and issuers are not checked (RFC 7672 §3.1.1).
/// - DANE-TA (usage 2): a certificate of the presented chain matches, the leaf chains up
///   to it (signatures checked by OpenSSL with it as the only trust anchor), and the leaf
///   names the MX host (RFC 7672 §3.2.2).
///
/// PKIX-TA and PKIX-EE (usages 0 and 1) are not usable for SMTP (RFC 7672 §3.1.3), nor are
/// unknown selectors or matching types; records that are all unusable leave the host
/// without DANE authentication (§3: TLS still mandatory).
public struct DANEMatcher: Sendable, Hashable {
    /// The TLSA name the records came from (`_25._tcp.mx.example.com`), for messages.
    public var name: String
    /// The MX host: the name a DANE-TA leaf must carry.
    public var host: String
    public var records: [TLSARecord]

    public init(name: String, host: String, records: [TLSARecord]) {
        self.name = name
        self.host = host
        self.records = records
    }

    /// The records DANE for SMTP can use (RFC 7672 §3.1).
    public static func usable(_ records: [TLSARecord]) -> [TLSARecord] {
        records.filter {
            ($0.usage == TLSARecord.daneEE || $0.usage == TLSARecord.daneTA) && $0.selector <= 1 && $0.matchingType <= 2
        }
    }

    /// nil when the chain (leaf first, DER) matches one record; else why not.
    public func mismatch(chain: [[UInt8]]) -> String? {
        guard let leaf = chain.first else { return "the server presented no certificate" }
        for record in records where record.usage == TLSARecord.daneEE {
            if Self.matches(record, certificate: leaf) { return nil }
        }
        for record in records where record.usage == TLSARecord.daneTA {
            for (index, certificate) in chain.enumerated() where Self.matches(record, certificate: certificate) {
                if X509Chain.verify(leaf: leaf, intermediates: Array(chain[1..<max(1, index)]), anchor: certificate, host: host) {
                    return nil
                }
            }
        }
        return "the certificate of \(host) matches none of the TLSA records at \(name)"
    }

    static func matches(_ record: TLSARecord, certificate der: [UInt8]) -> Bool {
        let selected: [UInt8]?
        switch record.selector {
        case 0: selected = der
        case 1: selected = X509Chain.subjectPublicKeyInfo(der)
        default: selected = nil
        }
        guard let selected else { return false }
        switch record.matchingType {
        case 0: return selected == record.data
        case 1: return Digests.sha256(selected) == record.data
        case 2: return Digests.sha512(selected) == record.data
        default: return false
        }
    }
}

/// SHA-2 digests from libcrypto.
enum Digests {
    static func sha256(_ bytes: [UInt8]) -> [UInt8]? { digest(bytes, EVP_sha256(), 32) }
    static func sha512(_ bytes: [UInt8]) -> [UInt8]? { digest(bytes, EVP_sha512(), 64) }

    private static func digest(_ bytes: [UInt8], _ md: OpaquePointer?, _ length: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: length)
        var size: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { EVP_Digest(input.baseAddress, input.count, $0.baseAddress, &size, md, nil) }
        }
        return ok == 1 && Int(size) == length ? out : nil
    }
}

/// The few X.509 operations DANE needs, on DER, with libcrypto.
enum X509Chain {
    static func parse(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &pointer, buffer.count)
        }
    }

    /// The DER SubjectPublicKeyInfo of a DER certificate.
    static func subjectPublicKeyInfo(_ der: [UInt8]) -> [UInt8]? {
        guard let certificate = parse(der) else { return nil }
        defer { X509_free(certificate) }
        guard let key = X509_get_X509_PUBKEY(certificate) else { return nil }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509_PUBKEY(key, &out)
        guard length > 0, let out else { return nil }
        defer { CRYPTO_free(out, #file, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Whether `leaf` chains to `anchor` through `intermediates` (signatures and validity
    /// dates) and names `host` (RFC 7672 §3.2.2: the TA vouches for names, so they count).
    static func verify(leaf: [UInt8], intermediates: [[UInt8]], anchor: [UInt8], host: String) -> Bool {
        guard let leafCertificate = parse(leaf) else { return false }
        defer { X509_free(leafCertificate) }
        guard let anchorCertificate = parse(anchor) else { return false }
        defer { X509_free(anchorCertificate) }
        guard let store = X509_STORE_new() else { return false }
        defer { X509_STORE_free(store) }
        guard X509_STORE_add_cert(store, anchorCertificate) == 1 else { return false }
        // The anchor may be an intermediate, not a self-signed root (RFC 7671 §5.2.2).
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        guard let untrusted = OPENSSL_sk_new_null() else { return false }
        var parsed: [OpaquePointer] = []
        defer {
            OPENSSL_sk_free(untrusted)
            parsed.forEach { X509_free($0) }
        }
        for der in intermediates {
            guard let certificate = parse(der) else { return false }
            parsed.append(certificate)
            OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate))
        }
        guard let context = X509_STORE_CTX_new() else { return false }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leafCertificate, untrusted) == 1 else { return false }
        guard let parameters = X509_STORE_CTX_get0_param(context) else { return false }
        guard X509_VERIFY_PARAM_set1_host(parameters, host, host.utf8.count) == 1 else { return false }
        return X509_verify_cert(context) == 1
    }
}
