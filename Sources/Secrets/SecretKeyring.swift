/// The keys of the key file (`secrets.key_file`), and what they protect: secrets stored in
/// Redis (DKIM private keys) are sealed with AES-256-GCM, and HMAC secrets (VERP and
/// unsubscribe tokens, webhook signatures) are derived from them per purpose.
///
/// The file may hold several keys: the newest (last) seals, every one opens — so a new
/// key is added to the file on every node first, then `hikyaku secrets rotate` re-seals
/// what Redis holds, then the old key can go. Each sealed secret names its key:
///
///     hks1:<key id>:<base64 of nonce(12) ‖ ciphertext ‖ tag(16)>
///
/// A sealed secret is bound to its `context` (e.g. `dkim:example.com:sel1`, as AES-GCM
/// additional data), so one cannot be moved to another domain or selector in Redis and
/// still open. The key file's raw keys are never used directly: the sealing key and every
/// HMAC key are HKDF-SHA256 derivations (RFC 5869) with their own `info`.
public struct SecretKeyring: Sendable {
    public struct Key: Sendable, CustomStringConvertible {
        /// 8 hex digits, stored in each sealed secret.
        public let id: String
        let material: [UInt8]

        public init(id: String, material: [UInt8]) throws {
            guard material.count == Crypto.keyLength else {
                throw SecretsError(.keyFile, "key \(id) has \(material.count) bytes, not \(Crypto.keyLength)")
            }
            guard SecretKeyFile.isValidKeyID(id) else { throw SecretsError(.keyFile, "'\(id)' is not a key id (8 hex digits)") }
            self.id = id
            self.material = material
        }

        /// The id only, never the key.
        public var description: String { "Key(\(id))" }

        static func generate() throws -> Key {
            let id = try Crypto.randomBytes(4).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            return try Key(id: id, material: Crypto.randomBytes(Crypto.keyLength))
        }

        var sealingKey: [UInt8] { derive("seal") }

        func derive(_ info: String) -> [UInt8] {
            Crypto.hkdfSHA256(secret: material, salt: Array("hikyaku-secrets-v1".utf8), info: Array(info.utf8))
        }
    }

    /// Oldest first; the last one seals.
    public let keys: [Key]

    public init(keys: [Key]) throws {
        guard !keys.isEmpty else { throw SecretsError(.keyFile, "the key file holds no key") }
        self.keys = keys
    }

    public var newest: Key { keys[keys.count - 1] }

    static let prefix = "hks1:"

    /// Whether `text` is a sealed secret (else, for DKIM keys, a legacy plaintext PEM).
    public static func isSealed(_ text: String) -> Bool { text.hasPrefix(prefix) }

    /// The id of the key that sealed `text`, if it is sealed.
    public static func keyID(ofSealed text: String) -> String? {
        guard isSealed(text) else { return nil }
        let parts = text.dropFirst(prefix.count).split(separator: ":", maxSplits: 1)
        return parts.count == 2 ? String(parts[0]) : nil
    }

    public func seal(_ plaintext: [UInt8], context: String) throws -> String {
        let key = newest
        let sealed = try Crypto.seal(plaintext, key: key.sealingKey, aad: Array(context.utf8))
        return "\(Self.prefix)\(key.id):\(Base64.encode(sealed))"
    }

    public func open(_ text: String, context: String) throws -> [UInt8] {
        guard let id = Self.keyID(ofSealed: text) else { throw SecretsError(.cannotOpen, "not a sealed secret") }
        guard let key = keys.first(where: { $0.id == id }) else {
            throw SecretsError(
                .unknownKey, "sealed with key \(id), which the key file does not hold (keys: \(keys.map(\.id).joined(separator: ", ")))")
        }
        guard let bytes = Base64.decode(String(text.dropFirst(Self.prefix.count + id.count + 1))),
            let plaintext = try Crypto.open(bytes, key: key.sealingKey, aad: Array(context.utf8))
        else {
            throw SecretsError(
                .cannotOpen, "the sealed secret for \(context) does not open with key \(id): altered, or stored under another name")
        }
        return plaintext
    }

    /// The HMAC key for `purpose` (e.g. `verp`, `unsubscribe`, `webhook`), from the newest
    /// key: sign with this.
    public func hmacKey(purpose: String) -> [UInt8] {
        newest.derive("hmac:\(purpose)")
    }

    /// The HMAC keys for `purpose` from every key, newest first: a token signed before a
    /// rotation still verifies while its key is in the file.
    public func hmacKeys(purpose: String) -> [[UInt8]] {
        keys.reversed().map { $0.derive("hmac:\(purpose)") }
    }

    /// HMAC-SHA256 of `data` under `hmacKey(purpose:)`.
    public func hmac(_ data: [UInt8], purpose: String) -> [UInt8] {
        Crypto.hmacSHA256(key: hmacKey(purpose: purpose), data: data)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
