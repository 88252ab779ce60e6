import RelayCore
import Secrets
import Testing

@testable import ReturnPath

@Suite struct VERPTokenTests {
    static func key(_ id: String, _ fill: UInt8) throws -> SecretKeyring.Key {
        try SecretKeyring.Key(id: id, material: [UInt8](repeating: fill, count: 32))
    }

    static let old = try! key("0a1b2c3d", 1)
    static let new = try! key("9f8e7d6c", 2)
    static let ring = try! SecretKeyring(keys: [old])
    static let id = QueueID(rawValue: "01JDQ3T6Z8F0M4X2KP")

    static func bytes(of localPart: String) -> [UInt8] {
        Base32.decode(Substring(localPart).utf8.dropFirst(2))!
    }

    @Test(arguments: ["01JDQ3T6Z8F0M4X2KP", "000000000000000000", "7ZZZZZZZZZZZZZZZZZ", "0123456789ABCDEFGH"])
    func queueIDsRoundTripThroughTheirBytes(text: String) throws {
        let id = QueueID(rawValue: text)
        let bytes = try #require(QueueIDBytes.encode(id))
        #expect(bytes.count == 11)
        #expect(QueueIDBytes.decode(bytes) == id)
    }

    @Test func generatedQueueIDsRoundTrip() throws {
        for _ in 0..<200 {
            let id = QueueID.generate()
            #expect(QueueIDBytes.decode(try #require(QueueIDBytes.encode(id))) == id)
        }
    }

    @Test(arguments: ["8ZZZZZZZZZZZZZZZZZ", "01JDQ3T6Z8F0M4X2K", "01JDQ3T6Z8F0M4X2KU", "01jdq3t6z8f0m4x2kp"])
    func idsThisRelayDoesNotMakeAreNotEncoded(text: String) {
        #expect(throws: VERPError.self) {
            try VERPToken(queueID: QueueID(rawValue: text), recipientIndex: 0, account: "acme").encode(keyring: Self.ring)
        }
    }

    @Test(arguments: [0, 1, 2, 999, 65_536, VERPToken.maximumRecipientIndex])
    func aTokenVerifiesToWhatWasEncoded(index: Int) throws {
        let local = try VERPToken(queueID: Self.id, recipientIndex: index, account: "acme").encode(keyring: Self.ring)
        #expect(local.hasPrefix("b-"))
        // RFC 5321 §4.5.3.1.1: a local part has at most 64 octets.
        #expect(local.utf8.count == VERPToken.localPartLength)
        #expect(local.utf8.count <= 64)
        #expect(local == local.lowercased())
        let token = try VERPToken.verify(localPart: local, keyring: Self.ring)
        #expect(token.queueID == Self.id)
        #expect(token.recipientIndex == index)
        #expect(token.keyID == Self.old.id)
        #expect(token.matches(account: "acme"))
        #expect(!token.matches(account: "acme2"))
    }

    @Test func theIndexMustFitThreeBytes() {
        for index in [-1, VERPToken.maximumRecipientIndex + 1] {
            #expect(throws: VERPError.self) {
                try VERPToken(queueID: Self.id, recipientIndex: index, account: "acme").encode(keyring: Self.ring)
            }
        }
    }

    @Test func theSameRecipientGetsTheSameTokenOnEveryRetry() throws {
        let token = VERPToken(queueID: Self.id, recipientIndex: 3, account: "acme")
        #expect(try token.encode(keyring: Self.ring) == token.encode(keyring: Self.ring))
        let other = VERPToken(queueID: Self.id, recipientIndex: 4, account: "acme")
        #expect(try token.encode(keyring: Self.ring) != other.encode(keyring: Self.ring))
    }

    @Test func upperAndMixedCaseVerify() throws {
        let local = try VERPToken(queueID: Self.id, recipientIndex: 7, account: "acme").encode(keyring: Self.ring)
        for variant in [
            local.uppercased(), String(local.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element }),
        ] {
            #expect(try VERPToken.verify(localPart: variant, keyring: Self.ring).recipientIndex == 7)
        }
    }

    @Test func everyTamperedByteIsRefused() throws {
        let local = try VERPToken(queueID: Self.id, recipientIndex: 5, account: "acme").encode(keyring: Self.ring)
        let bytes = Self.bytes(of: local)
        #expect(bytes.count == 25)
        for position in bytes.indices {
            for bit in [0, 7] {
                var tampered = bytes
                tampered[position] ^= 1 << bit
                let forged = "b-" + Base32.encode(tampered)
                #expect(throws: VERPError.self, "byte \(position) bit \(bit)") {
                    try VERPToken.verify(localPart: forged, keyring: Self.ring)
                }
            }
        }
        // The first byte names the key: changing it finds no key; any other byte, a bad MAC.
        var first = bytes
        first[0] ^= 1
        #expect(throws: VERPError.unknownKey) { try VERPToken.verify(localPart: "b-" + Base32.encode(first), keyring: Self.ring) }
        var body = bytes
        body[5] ^= 1
        #expect(throws: VERPError.badSignature) { try VERPToken.verify(localPart: "b-" + Base32.encode(body), keyring: Self.ring) }
    }

    @Test(arguments: [
        "", "b-", "postmaster", "x-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "b-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "b-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "b-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        "b-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=", "b-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé",
    ])
    func malformedLocalPartsAreRefused(local: String) {
        #expect(throws: VERPError.self) { try VERPToken.verify(localPart: local, keyring: Self.ring) }
    }

    @Test func aTokenOfAnotherKeyFileIsRefused() throws {
        let local = try VERPToken(queueID: Self.id, recipientIndex: 1, account: "acme").encode(keyring: Self.ring)
        // Same key id, other material: the key byte matches, the MAC does not.
        let impostor = try SecretKeyring(keys: [Self.key(Self.old.id, 9)])
        #expect(throws: VERPError.badSignature) { try VERPToken.verify(localPart: local, keyring: impostor) }
    }

    @Test func afterARotationOldTokensVerifyAndNewOnesUseTheNewestKey() throws {
        let before = try VERPToken(queueID: Self.id, recipientIndex: 2, account: "acme").encode(keyring: Self.ring)
        let rotated = try SecretKeyring(keys: [Self.old, Self.new])
        let after = try VERPToken(queueID: Self.id, recipientIndex: 2, account: "acme").encode(keyring: rotated)
        #expect(after != before)
        #expect(Self.bytes(of: after)[0] == VERPToken.keyByte(Self.new.id))
        #expect(try VERPToken.verify(localPart: before, keyring: rotated).keyID == Self.old.id)
        #expect(try VERPToken.verify(localPart: after, keyring: rotated).keyID == Self.new.id)
        // Once the old key leaves the file, its tokens no longer verify.
        let retired = try SecretKeyring(keys: [Self.new])
        #expect(throws: VERPError.self) { try VERPToken.verify(localPart: before, keyring: retired) }
    }

    @Test func base32MatchesRFC4648Vectors() {
        // RFC 4648 §10, lower case and without padding.
        let vectors = ["": "", "f": "my", "fo": "mzxq", "foo": "mzxw6", "foob": "mzxw6yq", "fooba": "mzxw6ytb", "foobar": "mzxw6ytboi"]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(Substring(encoded).utf8) == Array(plain.utf8))
            #expect(Base32.decode(Substring(encoded.uppercased()).utf8) == Array(plain.utf8))
        }
        // Non-zero trailing bits: a second spelling of "f"; refused.
        #expect(Base32.decode(Substring("mz").utf8) == nil)
    }
}
