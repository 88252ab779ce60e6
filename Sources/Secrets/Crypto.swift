import COpenSSLCrypto

/// AES-256-GCM (NIST SP 800-38D), HMAC-SHA256 (RFC 2104), HKDF-SHA256 (RFC 5869) and random
/// bytes, on OpenSSL 3's libcrypto — the library the DKIM module already links.
enum Crypto {
    static let keyLength = 32
    static let nonceLength = 12
    static let tagLength = 16

    static func randomBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw SecretsError(.crypto, "RAND_bytes failed") }
        return bytes
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext` under `key`, authenticating `aad` too.
    static func seal(_ plaintext: [UInt8], key: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        precondition(key.count == keyLength)
        // A random 96-bit nonce per message: safe far beyond the number of secrets a relay
        // stores (SP 800-38D §8.3 bounds it at 2^32 messages per key).
        let nonce = try randomBytes(nonceLength)
        guard let context = EVP_CIPHER_CTX_new() else { throw SecretsError(.crypto, "EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length: Int32 = 0
        var total = 0
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
            throw SecretsError(.crypto, "EVP_EncryptInit_ex failed")
        }
        if !aad.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else { throw SecretsError(.crypto, "AAD failed") }
        }
        guard EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1 else {
            throw SecretsError(.crypto, "EVP_EncryptUpdate failed")
        }
        total = Int(length)
        let finished = ciphertext.withUnsafeMutableBufferPointer { buffer in
            EVP_EncryptFinal_ex(context, buffer.baseAddress! + total, &length)
        }
        guard finished == 1 else { throw SecretsError(.crypto, "EVP_EncryptFinal_ex failed") }
        total += Int(length)
        var tag = [UInt8](repeating: 0, count: tagLength)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else {
            throw SecretsError(.crypto, "EVP_CTRL_GCM_GET_TAG failed")
        }
        return nonce + ciphertext.prefix(total) + tag
    }

    /// The plaintext of `nonce ‖ ciphertext ‖ tag`, or nil when the tag does not verify
    /// (altered, another key, another `aad`).
    static func open(_ sealed: [UInt8], key: [UInt8], aad: [UInt8]) throws -> [UInt8]? {
        precondition(key.count == keyLength)
        guard sealed.count >= nonceLength + tagLength else { return nil }
        let nonce = Array(sealed.prefix(nonceLength))
        let ciphertext = Array(sealed.dropFirst(nonceLength).dropLast(tagLength))
        var tag = Array(sealed.suffix(tagLength))
        guard let context = EVP_CIPHER_CTX_new() else { throw SecretsError(.crypto, "EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
            throw SecretsError(.crypto, "EVP_DecryptInit_ex failed")
        }
        if !aad.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else { throw SecretsError(.crypto, "AAD failed") }
        }
        guard EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1 else { return nil }
        let total = Int(length)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1 else {
            throw SecretsError(.crypto, "EVP_CTRL_GCM_SET_TAG failed")
        }
        let verified = plaintext.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress! + total, &length)
        }
        guard verified == 1 else { return nil }
        return Array(plaintext.prefix(total))
    }

    static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &out, &length)
        return out
    }

    /// HKDF-SHA256 (RFC 5869 §2) with one block of output: 32 bytes.
    static func hkdfSHA256(secret: [UInt8], salt: [UInt8], info: [UInt8]) -> [UInt8] {
        let prk = hmacSHA256(key: salt.isEmpty ? [UInt8](repeating: 0, count: 32) : salt, data: secret)
        return hmacSHA256(key: prk, data: info + [0x01])
    }
}
