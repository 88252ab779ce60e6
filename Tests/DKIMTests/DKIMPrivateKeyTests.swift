import Foundation
import Testing

@testable import DKIM

struct DKIMPrivateKeyTests {
    /// The p= value of a record, decoded.
    func publicKey(in record: String) throws -> [UInt8] {
        let p = try #require(record.components(separatedBy: "; ").first { $0.hasPrefix("p=") })
        return try #require(Data(base64Encoded: String(p.dropFirst(2)))).map { $0 }
    }

    @Test(arguments: DKIMAlgorithm.allCases)
    func aGeneratedKeyRoundTripsThroughPEM(algorithm: DKIMAlgorithm) throws {
        let key = try DKIMPrivateKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        #expect(key.pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(key.pem.hasSuffix("-----END PRIVATE KEY-----\n"))
        let again = try DKIMPrivateKey(pem: key.pem)
        #expect(again.algorithm == algorithm)
        #expect(again.dnsRecord() == key.dnsRecord())
        #expect(again == key)
        #expect(try DKIMPrivateKey.generate(algorithm) != key)
    }

    @Test func anRSARecordPublishesA2048BitSubjectPublicKeyInfo() throws {
        let key = try DKIMPrivateKey.generate(.rsaSHA256)
        let record = key.dnsRecord()
        #expect(record.hasPrefix("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"))
        let der = try publicKey(in: record)
        #expect(der.count == 294)  // SEQUENCE { rsaEncryption, BIT STRING { 2048-bit n, e } }
        #expect(key.description == "DKIMPrivateKey(rsa-sha256, 2048 bits)")
    }

    @Test func anEd25519RecordPublishesTheRaw32ByteKey() throws {
        let key = try DKIMPrivateKey.generate(.ed25519SHA256)
        #expect(key.dnsRecord().hasPrefix("v=DKIM1; k=ed25519; p="))
        #expect(try publicKey(in: key.dnsRecord()).count == 32)
        #expect(key.description == "DKIMPrivateKey(ed25519-sha256)")
    }

    @Test func theRFC8463KeyGivesTheRFC8463Record() throws {
        let key = try DKIMPrivateKey(pem: KeyFixtures.rfc8463Ed25519)
        #expect(key.algorithm == .ed25519SHA256)
        #expect(key.dnsRecord() == "v=DKIM1; k=ed25519; p=\(KeyFixtures.rfc8463Ed25519PublicKey)")
    }

    @Test func aTraditionalRSAKeyIsReadAndStoredAsPKCS8() throws {
        let key = try DKIMPrivateKey(pem: KeyFixtures.rsa1024PKCS1)
        #expect(key.algorithm == .rsaSHA256)
        #expect(key.dnsRecord() == "v=DKIM1; k=rsa; p=\(KeyFixtures.rsa1024SubjectPublicKeyInfo)")
        #expect(key.pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try DKIMPrivateKey(pem: key.pem).dnsRecord() == key.dnsRecord())
    }

    @Test func theDescriptionShowsNoKeyMaterial() throws {
        let key = try DKIMPrivateKey(pem: KeyFixtures.rsa1024PKCS1)
        #expect("\(key)" == "DKIMPrivateKey(rsa-sha256, 1024 bits)")
    }

    @Test(arguments: [
        ("", "not a PEM private key"),
        ("garbage", "not a PEM private key"),
        ("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n", "not a PEM private key"),
        (KeyFixtures.rsa1024PublicKeyPEM, "public key"),
        (KeyFixtures.encryptedEd25519, "encrypted"),
        (
            KeyFixtures.rsa1024PKCS1.replacingOccurrences(
                of: "-----BEGIN RSA PRIVATE KEY-----\n",
                with: "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,2CD4A4151B45C0006F9DFFB29B0A5D25\n\n"),
            "encrypted"
        ),
        (KeyFixtures.rsa512, "512 bits"),
    ])
    func unusableKeysAreRefusedSayingWhy(pem: String, detail: String) throws {
        let error = try #require(throws: DKIMError.self) { try DKIMPrivateKey(pem: pem) }
        #expect(error.code == .invalidKey)
        #expect(error.detail.contains(detail), "\(error.detail)")
    }

    @Test(arguments: [(KeyFixtures.ecP256, "EC"), (KeyFixtures.ed448, "ED448")])
    func otherKeyTypesAreUnsupported(pem: String, typeName: String) throws {
        let error = try #require(throws: DKIMError.self) { try DKIMPrivateKey(pem: pem) }
        #expect(error.code == .unsupportedKey)
        #expect(error.detail.contains("a \(typeName) key cannot sign DKIM"), "\(error.detail)")
    }
}
