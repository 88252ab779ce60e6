/// A DKIM signing key: the private key as PEM text, and the algorithm it signs with.
///
/// ```
/// let key = try DKIMPrivateKey.generate(.ed25519SHA256)
/// store(key.pem)                                    // keep it secret
/// print(key.dnsRecord())                            // publish at <selector>._domainkey.<domain>
/// let again = try DKIMPrivateKey(pem: loadedPEM)    // later, from storage
/// ```
///
/// ``pem`` is always unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`, RFC 5958), whatever
/// PEM form the key was read from. ``description`` never shows key material, so a key that
/// ends up in a log line or an error message leaks nothing.
public struct DKIMPrivateKey: Sendable, Equatable, CustomStringConvertible {
    /// The smallest RSA key accepted: RFC 8301 §3.2 — signers MUST use at least 1024 bits
    /// (and SHOULD use 2048, which ``generate(_:)`` does).
    public static let minimumRSABits = 1024
    /// The size of the RSA keys ``generate(_:)`` makes.
    public static let generatedRSABits = 2048

    /// The private key, unencrypted PKCS#8 PEM. Secret.
    public let pem: String
    /// What this key signs with.
    public let algorithm: DKIMAlgorithm
    /// The parsed key, kept so that signing does not parse PEM per message.
    let key: EVPKey
    private let record: String
    private let bits: Int

    /// A new random key: RSA-2048 for ``DKIMAlgorithm/rsaSHA256``, Ed25519 for
    /// ``DKIMAlgorithm/ed25519SHA256``.
    public static func generate(_ algorithm: DKIMAlgorithm) throws -> DKIMPrivateKey {
        try DKIMPrivateKey(key: EVPKey.generate(algorithm, rsaBits: Int32(generatedRSABits)), algorithm: algorithm)
    }

    /// Reads a private key from PEM text and works out its algorithm from the key type.
    ///
    /// Accepts unencrypted PKCS#8 (`BEGIN PRIVATE KEY`) holding an RSA or Ed25519 key, and
    /// the traditional `BEGIN RSA PRIVATE KEY` (PKCS#1). Throws ``DKIMError/Code/invalidKey``
    /// for anything that is not such a key — with what it is instead (encrypted, a public
    /// key, too short, not PEM) — and ``DKIMError/Code/unsupportedKey`` for other key types.
    public init(pem: String) throws {
        // PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY", or a traditional key's "Proc-Type: 4,ENCRYPTED".
        if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") || pem.contains("Proc-Type: 4,ENCRYPTED") {
            throw DKIMError(
                .invalidKey,
                "the PEM private key is encrypted; store it unencrypted "
                    + "(openssl pkey -in encrypted.pem -out key.pem)")
        }
        if !pem.contains("PRIVATE KEY-----"), pem.contains("PUBLIC KEY-----") {
            throw DKIMError(.invalidKey, "this PEM text is a public key; DKIM signing needs the private key")
        }
        let key: EVPKey
        switch EVPKey.read(pem: pem) {
        case .success(let parsed):
            key = parsed
        case .failure(let error):
            throw DKIMError(
                .invalidKey,
                "not a PEM private key: expected '-----BEGIN PRIVATE KEY-----' (PKCS#8) "
                    + "or '-----BEGIN RSA PRIVATE KEY-----' (\(error.detail))")
        }
        let algorithm: DKIMAlgorithm
        if key.isA("RSA") {
            guard key.bits >= Self.minimumRSABits else {
                throw DKIMError(
                    .invalidKey,
                    "the RSA key has \(key.bits) bits; RFC 8301 §3.2 requires at least "
                        + "\(Self.minimumRSABits) (generate a \(Self.generatedRSABits)-bit key)")
            }
            algorithm = .rsaSHA256
        } else if key.isA("ED25519") {
            algorithm = .ed25519SHA256
        } else {
            throw DKIMError(
                .unsupportedKey,
                "a \(key.typeName) key cannot sign DKIM; use an RSA key (rsa-sha256, "
                    + "RFC 6376) or an Ed25519 key (ed25519-sha256, RFC 8463)")
        }
        try self.init(key: key, algorithm: algorithm)
    }

    private init(key: EVPKey, algorithm: DKIMAlgorithm) throws {
        self.key = key
        self.algorithm = algorithm
        self.bits = key.bits
        self.pem = try key.pkcs8PEM()
        // RFC 6376 §3.6.1: p= is the base64 of the DER SubjectPublicKeyInfo for RSA;
        // RFC 8463 §4: for Ed25519 it is the base64 of the bare 32-byte public key.
        let publicKey = algorithm == .rsaSHA256 ? try key.subjectPublicKeyInfo() : try key.rawPublicKey()
        self.record = "v=DKIM1; k=\(algorithm.keyType); p=\(LibCrypto.base64(publicKey))"
    }

    /// The TXT record value to publish at `<selector>._domainkey.<domain>`:
    ///
    /// - RSA: `v=DKIM1; k=rsa; p=<base64 of the DER SubjectPublicKeyInfo>` (RFC 6376 §3.6.1)
    /// - Ed25519: `v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte public key>` (RFC 8463 §4)
    ///
    /// An RSA-2048 record is about 410 characters, more than the 255 one DNS
    /// character-string holds (RFC 1035 §3.3.14): zone files and DNS providers must split it
    /// into several strings of one TXT record, which verifiers concatenate (RFC 6376 §3.6.2.2).
    public func dnsRecord() -> String {
        record
    }

    /// The algorithm (and RSA size), never key material: "DKIMPrivateKey(rsa-sha256, 2048 bits)".
    public var description: String {
        switch algorithm {
        case .rsaSHA256: return "DKIMPrivateKey(\(algorithm.rawValue), \(bits) bits)"
        case .ed25519SHA256: return "DKIMPrivateKey(\(algorithm.rawValue))"
        }
    }

    public static func == (lhs: DKIMPrivateKey, rhs: DKIMPrivateKey) -> Bool {
        lhs.pem == rhs.pem
    }

    /// The signature over `data` (RFC 6376 §3.7's header hash input):
    ///
    /// - rsa-sha256: RSASSA-PKCS1-v1_5 over SHA-256(data) (RFC 6376 §3.3.1).
    /// - ed25519-sha256: PureEdDSA Ed25519 over the 32-byte SHA-256(data) — RFC 8463 §3
    ///   signs the hash, not the data itself, so the hash is computed here and then
    ///   handed to Ed25519 as the message.
    func signature(over data: [UInt8]) throws -> [UInt8] {
        switch algorithm {
        case .rsaSHA256:
            return try data.withUnsafeBytes { try key.sign($0, digestName: "SHA256") }
        case .ed25519SHA256:
            let digest = try SHA256Hasher.hash(data)
            return try digest.withUnsafeBytes { try key.sign($0, digestName: nil) }
        }
    }
}
