import Foundation
import Testing

@testable import Secrets

@Suite struct SecretKeyringTests {
    static func keyring(_ count: Int) throws -> SecretKeyring {
        try SecretKeyring(keys: (0..<count).map { _ in try SecretKeyring.Key.generate() })
    }

    @Test func aSealedSecretOpensAndShowsNoPlaintext() throws {
        let ring = try Self.keyring(1)
        let secret = Array("-----BEGIN PRIVATE KEY-----\nMC4CAQ…".utf8)
        let sealed = try ring.seal(secret, context: "dkim:a.example:s1")
        #expect(sealed.hasPrefix("hks1:\(ring.newest.id):"))
        #expect(!sealed.contains("PRIVATE KEY"))
        #expect(try ring.open(sealed, context: "dkim:a.example:s1") == secret)
        // A fresh nonce each time.
        #expect(try ring.seal(secret, context: "dkim:a.example:s1") != sealed)
    }

    @Test func anAlteredSecretOrAnotherContextDoesNotOpen() throws {
        let ring = try Self.keyring(1)
        let sealed = try ring.seal(Array("secret".utf8), context: "dkim:a.example:s1")
        #expect(throws: SecretsError.self) { try ring.open(sealed, context: "dkim:b.example:s1") }
        var bytes = Base64.decode(String(sealed.split(separator: ":")[2]))!
        for position in [0, 12, bytes.count - 1] {
            var tampered = bytes
            tampered[position] ^= 0x01
            let text = "hks1:\(ring.newest.id):\(Base64.encode(tampered))"
            #expect(throws: SecretsError.self) { try ring.open(text, context: "dkim:a.example:s1") }
        }
        bytes.removeLast()
        #expect(throws: SecretsError.self) { try ring.open("hks1:\(ring.newest.id):\(Base64.encode(bytes))", context: "dkim:a.example:s1") }
        #expect(throws: SecretsError.self) { try ring.open("-----BEGIN PRIVATE KEY-----", context: "x") }
    }

    @Test func afterRotationTheNewestSealsAndEveryKeyOpens() throws {
        let old = try Self.keyring(1)
        let sealedBefore = try old.seal(Array("k".utf8), context: "c")
        let rotated = try SecretKeyring(keys: old.keys + [SecretKeyring.Key.generate()])
        #expect(try rotated.open(sealedBefore, context: "c") == Array("k".utf8))
        let sealedAfter = try rotated.seal(Array("k".utf8), context: "c")
        #expect(SecretKeyring.keyID(ofSealed: sealedAfter) == rotated.newest.id)
        #expect(rotated.newest.id != old.newest.id)
        // Without the new key, what it sealed does not open — and says why.
        #expect { try old.open(sealedAfter, context: "c") } throws: { ($0 as? SecretsError)?.code == .unknownKey }
    }

    @Test func hmacKeysArePerPurposeStableAndSurviveRotation() throws {
        let ring = try Self.keyring(1)
        let verp = ring.hmacKey(purpose: "verp")
        #expect(verp.count == 32)
        #expect(verp == ring.hmacKey(purpose: "verp"))
        #expect(verp != ring.hmacKey(purpose: "unsubscribe"))
        #expect(verp != ring.keys[0].sealingKey)
        let rotated = try SecretKeyring(keys: ring.keys + [SecretKeyring.Key.generate()])
        #expect(rotated.hmacKey(purpose: "verp") != verp)
        #expect(rotated.hmacKeys(purpose: "verp") == [rotated.hmacKey(purpose: "verp"), verp])
    }

    /// RFC 5869 Appendix A.1 (first 32 bytes of the output).
    @Test func hkdfMatchesRFC5869() {
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt: [UInt8] = Array(0x00...0x0c)
        let info: [UInt8] = Array(0xf0...0xf9)
        let okm = Crypto.hkdfSHA256(secret: ikm, salt: salt, info: info)
        #expect(okm.map { String(format: "%02x", $0) }.joined() == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf")
    }

    @Test func theDescriptionShowsTheIDNotTheKey() throws {
        let key = try SecretKeyring.Key.generate()
        #expect(key.description == "Key(\(key.id))")
    }
}

@Suite struct SecretKeyFileTests {
    func temporaryPath() -> String {
        NSTemporaryDirectory() + "hk-keyfile-\(UInt64.random(in: 0...UInt64.max))"
    }

    @Test func generateWritesMode0600AndAppendAddsTheNewestKey() throws {
        let path = temporaryPath()
        defer { unlink(path) }
        let first = try SecretKeyFile.generate(path: path, append: false)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try SecretKeyFile.load(path: path).newest.id == first)
        #expect(throws: SecretsError.self) { try SecretKeyFile.generate(path: path, append: false) }
        let second = try SecretKeyFile.generate(path: path, append: true)
        let ring = try SecretKeyFile.load(path: path)
        #expect(ring.keys.map(\.id) == [first, second])
    }

    @Test func aKeyFileOthersCanReadIsRefused() throws {
        let path = temporaryPath()
        defer { unlink(path) }
        try SecretKeyFile.generate(path: path, append: false)
        for mode: mode_t in [0o640, 0o604, 0o660] {
            chmod(path, mode)
            #expect { try SecretKeyFile.load(path: path) } throws: { ($0 as? SecretsError)?.code == .permissions }
        }
        chmod(path, 0o400)
        #expect(throws: Never.self) { try SecretKeyFile.load(path: path) }
    }

    @Test func malformedKeyFilesAreRefusedWithTheLine() throws {
        let good = "key 0011aabb \(Base64.encode([UInt8](repeating: 7, count: 32)))"
        #expect(try SecretKeyFile.parse("# c\n\n\(good)\n", path: "f").keys.count == 1)
        for bad in [
            "", "# only a comment\n", "key 0011aabb c2hvcnQ=\n", "key XYZ \(Base64.encode([UInt8](repeating: 7, count: 32)))\n",
            "\(good)\n\(good)\n", "secret 0011aabb AAAA\n",
        ] {
            #expect(throws: SecretsError.self) { try SecretKeyFile.parse(bad, path: "f") }
        }
    }
}
