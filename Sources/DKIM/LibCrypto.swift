import COpenSSLCrypto

// The few OpenSSL 3 EVP calls DKIM needs, wrapped so the rest of the module never sees a
// raw pointer. Everything here is synchronous CPU work (no I/O), safe to call from any
// thread; an RSA-2048 signature takes about a millisecond, so callers that sign at high
// rates may want to keep it off an event loop.

/// An owned OpenSSL key (`EVP_PKEY`), private half included.
///
/// OpenSSL 3 lets several threads sign with one `EVP_PKEY` at the same time as long as
/// each uses its own `EVP_PKEY_CTX` and nobody modifies the key (openssl-threads(7)).
/// Nothing here modifies a key after it is made, and every signature gets a fresh
/// context, hence `@unchecked Sendable`.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// A new random key: RSA with `rsaBits` bits, or Ed25519.
    static func generate(_ algorithm: DKIMAlgorithm, rsaBits: Int32 = 2048) throws -> EVPKey {
        let typeName = algorithm == .rsaSHA256 ? "RSA" : "ED25519"
        guard let context = EVP_PKEY_CTX_new_from_name(nil, typeName, nil) else {
            throw LibCrypto.failure("EVP_PKEY_CTX_new_from_name(\(typeName))")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw LibCrypto.failure("EVP_PKEY_keygen_init") }
        if algorithm == .rsaSHA256 {
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, rsaBits) == 1 else {
                throw LibCrypto.failure("EVP_PKEY_CTX_set_rsa_keygen_bits")
            }
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else { throw LibCrypto.failure("EVP_PKEY_generate") }
        return EVPKey(taking: key)
    }

    /// Reads an unencrypted private key from PEM text (PKCS#8 `BEGIN PRIVATE KEY`, or the
    /// traditional `BEGIN RSA PRIVATE KEY`). Fails with OpenSSL's reason if it cannot.
    static func read(pem: String) -> Result<EVPKey, DKIMError> {
        var pem = pem
        return pem.withUTF8 { bytes -> Result<EVPKey, DKIMError> in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(clamping: bytes.count)) else {
                return .failure(LibCrypto.failure("BIO_new_mem_buf"))
            }
            defer { BIO_free(bio) }
            // A password callback that refuses: without one, OpenSSL would prompt on the
            // controlling terminal for an encrypted key, which would hang a server.
            let refusePassword: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
                _, _, _, _ in -1
            }
            guard let key = PEM_read_bio_PrivateKey(bio, nil, refusePassword, nil) else {
                return .failure(LibCrypto.failure("PEM_read_bio_PrivateKey"))
            }
            return .success(EVPKey(taking: key))
        }
    }

    /// Whether this is a key of the given OpenSSL type name ("RSA", "ED25519").
    func isA(_ typeName: String) -> Bool {
        EVP_PKEY_is_a(pointer, typeName) == 1
    }

    /// OpenSSL's name for the key type ("RSA", "EC", "ED448", …), for error messages.
    var typeName: String {
        EVP_PKEY_get0_type_name(pointer).map { String(cString: $0) } ?? "unknown"
    }

    /// The key size in bits (the modulus for RSA, 253 for Ed25519).
    var bits: Int {
        Int(EVP_PKEY_get_bits(pointer))
    }

    /// The private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    func pkcs8PEM() throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw LibCrypto.failure("BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw LibCrypto.failure("PEM_write_bio_PrivateKey")
        }
        let pending = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(clamping: pending)) }
        guard read == pending else { throw LibCrypto.failure("BIO_read") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The public key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), as RFC 6376 §3.6.1
    /// publishes RSA keys.
    func subjectPublicKeyInfo() throws -> [UInt8] {
        let length = i2d_PUBKEY(pointer, nil)
        guard length > 0 else { throw LibCrypto.failure("i2d_PUBKEY") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(pointer, &cursor)
        }
        guard written == length else { throw LibCrypto.failure("i2d_PUBKEY") }
        return der
    }

    /// The raw public key (32 bytes for Ed25519, RFC 8032 §5.1.5), as RFC 8463 §4
    /// publishes Ed25519 keys.
    func rawPublicKey() throws -> [UInt8] {
        var length = 0
        guard EVP_PKEY_get_raw_public_key(pointer, nil, &length) == 1 else {
            throw LibCrypto.failure("EVP_PKEY_get_raw_public_key")
        }
        var raw = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_get_raw_public_key(pointer, &raw, &length) == 1 else {
            throw LibCrypto.failure("EVP_PKEY_get_raw_public_key")
        }
        return Array(raw.prefix(length))
    }

    /// Signs `data` with `EVP_DigestSign`: hashing it with `digestName` first (RSA:
    /// PKCS#1 v1.5 over SHA-256), or with no digest for Ed25519, which signs the bytes
    /// themselves (PureEdDSA, RFC 8032 §5.1.6).
    func sign(_ data: UnsafeRawBufferPointer, digestName: String?) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw LibCrypto.failure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        let initialised: Int32
        if let digestName {
            initialised = EVP_DigestSignInit_ex(context, nil, digestName, nil, nil, pointer, nil)
        } else {
            initialised = EVP_DigestSignInit_ex(context, nil, nil, nil, nil, pointer, nil)
        }
        guard initialised == 1 else { throw LibCrypto.failure("EVP_DigestSignInit_ex") }
        let input = data.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var length = 0
        guard EVP_DigestSign(context, nil, &length, input, data.count) == 1 else {
            throw LibCrypto.failure("EVP_DigestSign")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, input, data.count) == 1 else {
            throw LibCrypto.failure("EVP_DigestSign")
        }
        return Array(signature.prefix(length))
    }
}

/// A streaming SHA-256 (FIPS 180-4), the hash of every DKIM algorithm Hikyaku signs with.
final class SHA256Hasher {
    static let digestLength = 32

    private let context: OpaquePointer

    init() throws {
        guard let context = EVP_MD_CTX_new() else { throw LibCrypto.failure("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex2(context, LibCrypto.sha256, nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw LibCrypto.failure("EVP_DigestInit_ex2(SHA256)")
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        // Cannot fail for SHA-256 on an initialised context.
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    func finish() throws -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.digestLength)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == Self.digestLength else {
            throw LibCrypto.failure("EVP_DigestFinal_ex")
        }
        return digest
    }

    /// SHA-256 of `bytes` in one call.
    static func hash(_ bytes: [UInt8]) throws -> [UInt8] {
        let hasher = try SHA256Hasher()
        hasher.update(bytes)
        return try hasher.finish()
    }
}

enum LibCrypto {
    /// SHA-256, fetched once: an explicit fetch spares OpenSSL 3 the implicit fetch (a
    /// locked lookup) that `EVP_sha256()` costs on every `EVP_DigestInit`.
    nonisolated(unsafe) static let sha256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    /// A ``DKIMError/Code/cryptoFailure`` naming the call that failed and OpenSSL's most
    /// specific queued reason (e.g. "PEM_read_bio_PrivateKey failed: error:…:no start
    /// line"). Clears this thread's error queue, so a stale error cannot be blamed on a
    /// later call.
    static func failure(_ call: String) -> DKIMError {
        let code = ERR_peek_last_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return DKIMError(.cryptoFailure, "\(call) failed") }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let reason = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return DKIMError(.cryptoFailure, "\(call) failed: \(reason)")
    }

    /// Base64 (RFC 4648 §4) without line breaks, as DKIM tags and DNS records carry it.
    static func base64(_ bytes: [UInt8]) -> String {
        let capacity = 4 * ((bytes.count + 2) / 3) + 1  // EVP_EncodeBlock writes a NUL after
        return bytes.withUnsafeBufferPointer { input in
            String(unsafeUninitializedCapacity: capacity) { output in
                Int(EVP_EncodeBlock(output.baseAddress, input.baseAddress, Int32(input.count)))
            }
        }
    }
}
