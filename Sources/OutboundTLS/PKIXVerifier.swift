import COpenSSLCrypto

/// Verifies a presented chain against a CA bundle and a host name with libcrypto, without
/// failing any handshake: for MTA-STS `testing` policies, whose point is to report what
/// `enforce` would refuse (RFC 8461 §5) while delivering as usual.
public final class PKIXVerifier: @unchecked Sendable {
    // Read-only after init; OpenSSL allows concurrent verifications against one store.
    private let store: OpaquePointer

    /// Loads the PEM bundle at `caFile`; nil if it cannot be read.
    public init?(caFile: String) {
        guard let store = X509_STORE_new() else { return nil }
        guard X509_STORE_load_file(store, caFile) == 1 else {
            X509_STORE_free(store)
            return nil
        }
        self.store = store
    }

    deinit { X509_STORE_free(store) }

    /// nil when `chain` (leaf first, DER) chains to the bundle and its leaf names `host`;
    /// else OpenSSL's reason.
    public func problem(chain: [[UInt8]], host: String) -> String? {
        guard let leafDER = chain.first, let leaf = X509Chain.parse(leafDER) else { return "no certificate presented" }
        defer { X509_free(leaf) }
        guard let untrusted = OPENSSL_sk_new_null() else { return "out of memory" }
        var parsed: [OpaquePointer] = []
        defer {
            OPENSSL_sk_free(untrusted)
            parsed.forEach { X509_free($0) }
        }
        for der in chain.dropFirst() {
            guard let certificate = X509Chain.parse(der) else { return "unparsable certificate in the chain" }
            parsed.append(certificate)
            OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate))
        }
        guard let context = X509_STORE_CTX_new() else { return "out of memory" }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf, untrusted) == 1,
            let parameters = X509_STORE_CTX_get0_param(context),
            X509_VERIFY_PARAM_set1_host(parameters, host, host.utf8.count) == 1
        else { return "cannot set up verification" }
        if X509_verify_cert(context) == 1 { return nil }
        return String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context))))
    }
}
