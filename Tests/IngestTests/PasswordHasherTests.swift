import Ingest
import Testing

struct PasswordHasherTests {
    @Test func aHashVerifiesOnlyItsPassword() throws {
        let hash = try #require(PasswordHasher.hash("correct horse"))
        #expect(hash.hasPrefix("$y$"))
        #expect(PasswordHasher.verify("correct horse", hash: hash))
        #expect(!PasswordHasher.verify("correct horse ", hash: hash))
        #expect(!PasswordHasher.verify("", hash: hash))
    }

    @Test func hashesAreSalted() throws {
        #expect(try #require(PasswordHasher.hash("same")) != (try #require(PasswordHasher.hash("same"))))
    }

    @Test func acceptsOpenSSLSHA512CryptHashes() {
        // openssl passwd -6 -salt abcdefgh secret
        let hash = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."
        #expect(PasswordHasher.verify("secret", hash: hash))
        #expect(!PasswordHasher.verify("Secret", hash: hash))
    }

    @Test func malformedHashesNeverVerify() {
        #expect(!PasswordHasher.verify("x", hash: "plaintext"))
        #expect(!PasswordHasher.verify("", hash: ""))
    }
}
