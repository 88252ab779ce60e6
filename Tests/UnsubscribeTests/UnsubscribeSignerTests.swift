import RelayCore
import Secrets
import Testing

@testable import Unsubscribe

@Suite struct UnsubscribeSignerTests {
    static func key(_ id: String, _ fill: UInt8) throws -> SecretKeyring.Key {
        try SecretKeyring.Key(id: id, material: [UInt8](repeating: fill, count: 32))
    }

    static let old = try! key("0a1b2c3d", 1)
    static let new = try! key("9f8e7d6c", 2)
    static let signer = UnsubscribeSigner(keyring: try! SecretKeyring(keys: [old]), validity: .days(60))
    /// 2026-12-07 12:00 UTC.
    static let now: Int64 = 1_796_644_800_000
    static let today = Int(now / 86_400_000)

    static func sample(campaign: String? = "c42") -> UnsubscribeToken {
        UnsubscribeToken(account: "acme", recipient: "taro@docomo.ne.jp", campaign: campaign, issuedDay: today)
    }

    @Test(arguments: [
        UnsubscribeToken(account: "acme", recipient: "taro@docomo.ne.jp", campaign: "c42", issuedDay: today),
        UnsubscribeToken(account: "acme", recipient: "taro@docomo.ne.jp", campaign: nil, issuedDay: today),
        UnsubscribeToken(account: "a", recipient: "x@y", campaign: "", issuedDay: today - 59),
        UnsubscribeToken(account: "株式会社", recipient: "山田@例え.jp", campaign: "冬のお知らせ", issuedDay: today),
        UnsubscribeToken(
            account: String(repeating: "a", count: 200),
            recipient: String(repeating: "r", count: 64) + "@" + String(repeating: "d", count: 189),
            campaign: String(repeating: "c", count: 300), issuedDay: today),
    ])
    func aTokenVerifiesToWhatWasSigned(token: UnsubscribeToken) throws {
        let text = Self.signer.token(token)
        #expect(text == text.lowercased())
        // URL- and local-part-safe: only the base32 alphabet.
        #expect(text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x32...0x37).contains($0) })
        #expect(try Self.signer.verify(text, nowMilliseconds: Self.now) == token)
        #expect(try Self.signer.verify(text.uppercased(), nowMilliseconds: Self.now) == token)
    }

    @Test func theSameTokenGetsTheSameText() {
        #expect(Self.signer.token(Self.sample()) == Self.signer.token(Self.sample()))
        var other = Self.sample()
        other.recipient = "hanako@docomo.ne.jp"
        #expect(Self.signer.token(Self.sample()) != Self.signer.token(other))
    }

    @Test func everyTamperedByteIsRefused() throws {
        let bytes = try #require(Base32.decode(Substring(Self.signer.token(Self.sample())).utf8))
        for position in bytes.indices {
            for bit in [0, 7] {
                var tampered = bytes
                tampered[position] ^= 1 << bit
                #expect(throws: UnsubscribeError.self, "byte \(position) bit \(bit)") {
                    try Self.signer.verify(Base32.encode(tampered), nowMilliseconds: Self.now)
                }
            }
        }
        var key = bytes
        key[0] ^= 1
        #expect(throws: UnsubscribeError.unknownKey) { try Self.signer.verify(Base32.encode(key), nowMilliseconds: Self.now) }
        var body = bytes
        body[6] ^= 1
        #expect(throws: UnsubscribeError.forged) { try Self.signer.verify(Base32.encode(body), nowMilliseconds: Self.now) }
        #expect(throws: UnsubscribeError.forged) {
            try Self.signer.verify(Base32.encode(Array(bytes.dropLast())), nowMilliseconds: Self.now)
        }
    }

    @Test func aTokenOfAnotherKeyFileIsForged() throws {
        let text = Self.signer.token(Self.sample())
        let impostor = UnsubscribeSigner(keyring: try SecretKeyring(keys: [Self.key(Self.old.id, 9)]), validity: .days(60))
        #expect(throws: UnsubscribeError.forged) { try impostor.verify(text, nowMilliseconds: Self.now) }
    }

    @Test(arguments: [
        "", "a", "u-abc", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaa=", "ааааааа", String(repeating: "a", count: 2_000),
    ])
    func malformedTextsAreRefused(text: String) {
        #expect(throws: UnsubscribeError.malformed) { try Self.signer.verify(text, nowMilliseconds: Self.now) }
    }

    @Test func anotherVersionIsMalformed() throws {
        var bytes = try #require(Base32.decode(Substring(Self.signer.token(Self.sample())).utf8))
        bytes[1] = 0x21
        #expect(throws: UnsubscribeError.malformed) { try Self.signer.verify(Base32.encode(bytes), nowMilliseconds: Self.now) }
    }

    @Test func aTokenIsHonouredThroughItsDayAndTheValidityAfter() throws {
        let text = Self.signer.token(Self.sample())
        let endOfValidity = Int64(Self.today + 1 + 60) * 86_400_000
        #expect(try Self.signer.verify(text, nowMilliseconds: endOfValidity - 1) == Self.sample())
        #expect(throws: UnsubscribeError.expired) { try Self.signer.verify(text, nowMilliseconds: endOfValidity) }
        let long = UnsubscribeSigner(keyring: Self.signer.keyring, validity: .days(180))
        #expect(try long.verify(text, nowMilliseconds: endOfValidity) == Self.sample())
        #expect(UnsubscribeError.expired.isExpired && !UnsubscribeError.forged.isExpired)
    }

    @Test func tokensOfAnOldKeyVerifyAfterRotationAndNewOnesUseTheNewKey() throws {
        let before = Self.signer.token(Self.sample())
        let rotated = UnsubscribeSigner(keyring: try SecretKeyring(keys: [Self.old, Self.new]), validity: .days(60))
        #expect(try rotated.verify(before, nowMilliseconds: Self.now) == Self.sample())
        let after = rotated.token(Self.sample())
        #expect(after != before)
        #expect(try rotated.verify(after, nowMilliseconds: Self.now) == Self.sample())
        // Once the old key leaves the file, its links stop working; the new key's do not verify under the old file.
        let dropped = UnsubscribeSigner(keyring: try SecretKeyring(keys: [Self.new]), validity: .days(60))
        #expect(throws: UnsubscribeError.self) { try dropped.verify(before, nowMilliseconds: Self.now) }
        #expect(throws: UnsubscribeError.self) { try Self.signer.verify(after, nowMilliseconds: Self.now) }
    }

    @Test func tokensOfAnotherPurposeDoNotVerify() throws {
        // Same key file, the HMAC key of another purpose (e.g. VERP): a forged MAC.
        var bytes = try #require(Base32.decode(Substring(Self.signer.token(Self.sample())).utf8))
        let signed = Array(bytes.dropLast(8))
        bytes = signed + TokenCrypto.hmacSHA256(key: Self.signer.keyring.hmacKey(purpose: "verp"), data: signed).prefix(8)
        #expect(throws: UnsubscribeError.forged) { try Self.signer.verify(Base32.encode(bytes), nowMilliseconds: Self.now) }
    }
}
