import RelayCore
import Secrets

/// The envelope sender a message is sent with when its account has a return-path domain
/// (VERP, "variable envelope return path"): `b-<token>@<return-path domain>`, one per
/// recipient, so a bounce that comes back to it — even a non-standard one that names no
/// recipient — says which message and which recipient failed.
///
///     MAIL FROM:<b-eyazg3r5dpuhqkcorj3aaaaaqiv3vuo67tu5tvij@bounces.example.com>
///
/// The token is 25 bytes, written as 40 characters of lower-case base32 (RFC 4648 §6, no
/// padding; read in either case, since some MTAs change the case of a local part):
///
/// | bytes | what |
/// |---|---|
/// | 1 | key byte: the first byte of SHA-256 of the signing key's id (the key file's `key <id>`) |
/// | 11 | the queue id's 88 bits (48-bit time, 40 random) |
/// | 3 | the recipient's index in the message's recipient index (`hk:rix:<queue id>`) |
/// | 2 | account tag: the first two bytes of SHA-256 of the account name |
/// | 8 | HMAC-SHA256 of the 17 bytes before, truncated to 64 bits |
///
/// `b-` + 40 = 42 octets, within the 64-octet local part of RFC 5321 §4.5.3.1.1. The HMAC
/// key is `SecretKeyring.hmacKey(purpose: "verp")` (HKDF from the key file); the key
/// byte lets a verifier try the one key (or, on a 1-in-256 collision, the few) that
/// signed it, so tokens made before a key rotation still verify while the old key is in
/// the file. Nothing random goes in: a retry of the same recipient sends the same address.
public struct VERPToken: Sendable, Hashable, CustomStringConvertible {
    public let queueID: QueueID
    /// The recipient's position in the message's recipient index (0-based).
    public let recipientIndex: Int
    /// The first two bytes of SHA-256 of the account name, for the listener to check
    /// against the index's `a` field.
    public let accountTag: UInt16
    /// The id of the key that signed it (after `verify`), or that will sign it (the
    /// keyring's newest, after `init`) — nil until one of the two.
    public let keyID: String?

    /// What a local part starts with.
    public static let prefix = "b-"
    static let byteCount = 25
    static let macCount = 8
    /// `b-` and 40 base32 characters.
    public static let localPartLength = prefix.utf8.count + (byteCount * 8 + 4) / 5
    /// The largest index 3 bytes hold (far above any `max_recipients`).
    public static let maximumRecipientIndex = 0xFF_FFFF
    static let purpose = "verp"

    public init(queueID: QueueID, recipientIndex: Int, account: String) {
        self.init(queueID: queueID, recipientIndex: recipientIndex, accountTag: Self.accountTag(account), keyID: nil)
    }

    init(queueID: QueueID, recipientIndex: Int, accountTag: UInt16, keyID: String?) {
        self.queueID = queueID
        self.recipientIndex = recipientIndex
        self.accountTag = accountTag
        self.keyID = keyID
    }

    public static func accountTag(_ account: String) -> UInt16 {
        let digest = TokenCrypto.sha256(Array(account.utf8))
        return UInt16(digest[0]) << 8 | UInt16(digest[1])
    }

    /// Whether the token was made for `account` (a 1-in-65536 chance for any other).
    public func matches(account: String) -> Bool { accountTag == Self.accountTag(account) }

    static func keyByte(_ keyID: String) -> UInt8 { TokenCrypto.sha256(Array(keyID.utf8))[0] }

    /// The local part `b-<token>`, signed with the keyring's newest key. Throws when the
    /// queue id is not one this relay makes or the index is out of range.
    public func encode(keyring: SecretKeyring) throws(VERPError) -> String {
        guard let id = QueueIDBytes.encode(queueID) else {
            throw .notEncodable("'\(queueID)' is not a queue id of this relay (18 Crockford base32 digits)")
        }
        guard (0...Self.maximumRecipientIndex).contains(recipientIndex) else {
            throw .notEncodable("recipient index \(recipientIndex) is out of range 0…\(Self.maximumRecipientIndex)")
        }
        var bytes: [UInt8] = [Self.keyByte(keyring.newest.id)] + id
        bytes += [UInt8(recipientIndex >> 16 & 0xFF), UInt8(recipientIndex >> 8 & 0xFF), UInt8(recipientIndex & 0xFF)]
        bytes += [UInt8(accountTag >> 8), UInt8(accountTag & 0xFF)]
        bytes += TokenCrypto.hmacSHA256(key: keyring.hmacKey(purpose: Self.purpose), data: bytes).prefix(Self.macCount)
        return Self.prefix + Base32.encode(bytes)
    }

    /// The token of a local part made by `encode` with any key `keyring` holds. Checks,
    /// in order: the form (`b-`, length), the base32, the key, the MAC (compared in
    /// constant time). Any case is accepted.
    public static func verify(localPart: String, keyring: SecretKeyring) throws(VERPError) -> VERPToken {
        let utf8 = localPart.utf8
        guard utf8.count == localPartLength, utf8.prefix(2).map({ $0 | 0x20 }) == Array("b-".utf8) else { throw .notAToken }
        guard let bytes = Base32.decode(Substring(localPart).utf8.dropFirst(2)), bytes.count == byteCount else { throw .badEncoding }
        let signed = Array(bytes.prefix(byteCount - macCount))
        let mac = Array(bytes.suffix(macCount))
        let candidates = keyring.hmacKeysByID(purpose: purpose).filter { keyByte($0.keyID) == bytes[0] }
        guard !candidates.isEmpty else { throw .unknownKey }
        for (keyID, key) in candidates
        where TokenCrypto.constantTimeEqual(Array(TokenCrypto.hmacSHA256(key: key, data: signed).prefix(macCount)), mac) {
            let index = Int(bytes[12]) << 16 | Int(bytes[13]) << 8 | Int(bytes[14])
            return VERPToken(
                queueID: QueueIDBytes.decode(Array(bytes[1...11])), recipientIndex: index,
                accountTag: UInt16(bytes[15]) << 8 | UInt16(bytes[16]), keyID: keyID)
        }
        throw .badSignature
    }

    public var description: String {
        "VERPToken(\(queueID), recipient \(recipientIndex), account tag \(String(accountTag, radix: 16)))"
    }
}

/// A queue id's 18 Crockford base32 digits as its 88 bits (6 bytes of time, 5 of
/// randomness; see `QueueID.generate`), and back to the same digits.
enum QueueIDBytes {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func encode(_ id: QueueID) -> [UInt8]? {
        let digits = Array(id.rawValue.utf8)
        guard digits.count == 18 else { return nil }
        var time: UInt64 = 0
        var noise: UInt64 = 0
        for (position, digit) in digits.enumerated() {
            guard let value = alphabet.firstIndex(of: digit) else { return nil }
            if position < 10 { time = time << 5 | UInt64(value) } else { noise = noise << 5 | UInt64(value) }
        }
        // Ten digits hold 50 bits; the relay's ids use 48 (the first digit is at most 7).
        guard time >> 48 == 0 else { return nil }
        return (0..<6).reversed().map { UInt8(truncatingIfNeeded: time >> UInt64(8 * $0)) }
            + (0..<5).reversed().map { UInt8(truncatingIfNeeded: noise >> UInt64(8 * $0)) }
    }

    static func decode(_ bytes: [UInt8]) -> QueueID {
        precondition(bytes.count == 11)
        let time = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let noise = bytes[6..<11].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var digits = [UInt8](repeating: 0, count: 18)
        for position in 0..<10 { digits[position] = alphabet[Int(time >> UInt64(5 * (9 - position)) & 31)] }
        for position in 0..<8 { digits[10 + position] = alphabet[Int(noise >> UInt64(5 * (7 - position)) & 31)] }
        return QueueID(rawValue: String(decoding: digits, as: UTF8.self))
    }
}
