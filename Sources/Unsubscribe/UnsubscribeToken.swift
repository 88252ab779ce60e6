import RelayCore
import Secrets

/// What a one-click unsubscribe link stands for: "`recipient` no longer wants mail from
/// `account`" (and which campaign the link came in, for the event). Everything is inside
/// the signed token, so the `/u/` endpoint and the bounce listener need no per-message
/// record to honour it — a million-recipient campaign stores nothing for its links.
public struct UnsubscribeToken: Sendable, Hashable {
    public var account: String
    public var recipient: String
    public var campaign: String?
    /// The day the link was made, in days since 1970-01-01 UTC; validity counts from it.
    public var issuedDay: Int

    public init(account: String, recipient: String, campaign: String? = nil, issuedDay: Int) {
        self.account = account
        self.recipient = recipient
        self.campaign = campaign
        self.issuedDay = issuedDay
    }

    /// A token issued on the UTC day of `milliseconds` (since 1970).
    public init(account: String, recipient: String, campaign: String? = nil, nowMilliseconds: Int64) {
        self.init(
            account: account, recipient: recipient, campaign: campaign,
            issuedDay: Int(nowMilliseconds / UnsubscribeSigner.dayMilliseconds))
    }
}

/// Signs and verifies unsubscribe tokens: lower-case base32 (RFC 4648 §6, no padding), so
/// one text is safe both in a URL path (`https://…/u/TOKEN`) and in a mailto local part
/// (`u-TOKEN@…`, read in any case):
///
/// | bytes | what |
/// |---|---|
/// | 1 | key byte: the first byte of SHA-256 of the signing key's id (the key file's `key <id>`) |
/// | 1 | version 1 in the high nibble; bit 0 set when a campaign follows |
/// | 2 | issued day (days since 1970 UTC, big-endian; lasts until 2149) |
/// | n | account: length (LEB128) and UTF-8 |
/// | n | campaign, when bit 0 is set: length (LEB128) and UTF-8 |
/// | n | recipient: the UTF-8 up to the MAC |
/// | 8 | HMAC-SHA256 of everything before, truncated to 64 bits |
///
/// The HMAC key is `SecretKeyring.hmacKey(purpose: "unsubscribe")`; as with VERP tokens,
/// the key byte lets a verifier try only the key (or, on a 1-in-256 collision, the few)
/// that signed it, so links sent before a key rotation keep working while the old key is
/// in the file. A token is honoured through its issue day and `validity` after it.
///
/// Length: 13 bytes plus the three texts (14 with a campaign), ×8/5 in base32. The mailto
/// form must fit the 64-octet local part of RFC 5321 §4.5.3.1.1: `u-` + 62 characters
/// (38 bytes) leave 25 bytes for the texts, 24 with a campaign (e.g. account `acme`, campaign `c42`,
/// `taro@docomo.ne.jp`). Rather than keep a lookup record per recipient to shorten it, a
/// longer token drops the mailto form (`ListUnsubscribe`): the HTTPS one-click form is the
/// one receivers use (RFC 8058, and Gmail and Yahoo demand it); mailto is a fallback.
public struct UnsubscribeSigner: Sendable {
    public let keyring: SecretKeyring
    public let validity: ConfigDuration

    static let purpose = "unsubscribe"
    static let version: UInt8 = 0x10
    static let macCount = 8
    static let dayMilliseconds: Int64 = 86_400_000
    /// Key byte, version, day, account length, MAC: the least a token holds.
    static let minimumByteCount = 1 + 1 + 2 + 1 + macCount
    /// Longer texts are not tokens this relay writes for addresses (RFC 5321 limits a path
    /// to 256 octets); refused before any decoding work.
    public static let maximumLength = 1_600

    public init(keyring: SecretKeyring, validity: ConfigDuration) {
        self.keyring = keyring
        self.validity = validity
    }

    static func keyByte(_ keyID: String) -> UInt8 { TokenCrypto.sha256(Array(keyID.utf8))[0] }

    /// The token's text, signed with the keyring's newest key. The same token gives the
    /// same text (nothing random), so a retried message carries the same link.
    public func token(_ token: UnsubscribeToken) -> String {
        let day = UInt16(clamping: token.issuedDay)
        var bytes: [UInt8] = [Self.keyByte(keyring.newest.id), Self.version | (token.campaign == nil ? 0 : 1)]
        bytes += [UInt8(day >> 8), UInt8(day & 0xFF)]
        Self.appendField(Array(token.account.utf8), to: &bytes)
        if let campaign = token.campaign { Self.appendField(Array(campaign.utf8), to: &bytes) }
        bytes += Array(token.recipient.utf8)
        bytes += TokenCrypto.hmacSHA256(key: keyring.hmacKey(purpose: Self.purpose), data: bytes).prefix(Self.macCount)
        return Base32.encode(bytes)
    }

    /// The token `text` stands for, when a key of the keyring signed it and it has not
    /// expired at `nowMilliseconds`. Checks, in order: the form (base32, length, version),
    /// the key, the MAC (compared in constant time), the fields, the age. Any case is accepted.
    public func verify(_ text: String, nowMilliseconds: Int64) throws(UnsubscribeError) -> UnsubscribeToken {
        guard text.utf8.count <= Self.maximumLength, let bytes = Base32.decode(Substring(text).utf8),
            bytes.count >= Self.minimumByteCount, bytes[1] & 0xF0 == Self.version, bytes[1] & 0x0E == 0
        else { throw .malformed }
        let signed = Array(bytes.dropLast(Self.macCount))
        let mac = Array(bytes.suffix(Self.macCount))
        let candidates = keyring.hmacKeysByID(purpose: Self.purpose).filter { Self.keyByte($0.keyID) == bytes[0] }
        guard !candidates.isEmpty else { throw .unknownKey }
        guard
            candidates.contains(where: {
                TokenCrypto.constantTimeEqual(Array(TokenCrypto.hmacSHA256(key: $0.key, data: signed).prefix(Self.macCount)), mac)
            })
        else { throw .forged }
        let token = try Self.parse(signed)
        let expiry = (Int64(token.issuedDay) + 1) * Self.dayMilliseconds + validity.milliseconds
        guard nowMilliseconds < expiry else { throw .expired }
        return token
    }

    private static func parse(_ signed: [UInt8]) throws(UnsubscribeError) -> UnsubscribeToken {
        var position = 4
        let issuedDay = Int(signed[2]) << 8 | Int(signed[3])
        guard let account = readField(signed, &position) else { throw .malformed }
        var campaign: String?
        if signed[1] & 1 == 1 {
            guard let text = readField(signed, &position) else { throw .malformed }
            campaign = text
        }
        guard position < signed.count, let recipient = String(validating: signed[position...], as: UTF8.self) else {
            throw .malformed
        }
        return UnsubscribeToken(account: account, recipient: recipient, campaign: campaign, issuedDay: issuedDay)
    }

    /// A length as LEB128 (seven bits a byte, low first: one byte below 128) and the bytes.
    private static func appendField(_ field: [UInt8], to bytes: inout [UInt8]) {
        var length = field.count
        while length >= 0x80 {
            bytes.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
        bytes += field
    }

    private static func readField(_ bytes: [UInt8], _ position: inout Int) -> String? {
        var length = 0
        var shift = 0
        while true {
            guard position < bytes.count, shift <= 14 else { return nil }
            let byte = bytes[position]
            position += 1
            length |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        guard length <= bytes.count - position else { return nil }
        let field = bytes[position..<position + length]
        position += length
        return String(validating: field, as: UTF8.self)
    }
}
