import SMTPProtocol
import Testing

@Suite("SMTPBase64")
struct SMTPBase64Tests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"), ("Username:", "VXNlcm5hbWU6"), ("Password:", "UGFzc3dvcmQ6"),
        ("\u{0}alice\u{0}secret", "AGFsaWNlAHNlY3JldA=="),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(SMTPBase64.encode(plain) == encoded)
        #expect(SMTPBase64.decode(encoded) == Array(plain.utf8))
    }

    @Test func allByteValuesRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        for length in 0...bytes.count {
            #expect(SMTPBase64.decode(SMTPBase64.encode(bytes.prefix(length))) == Array(bytes.prefix(length)))
        }
    }

    @Test(arguments: ["Zg", "Zg=", "Zm9", "Z===", "Zg==Zg==", "Zm9v YmFy", "Zm9v\r\n", "Zh==", "Zm9=", "Zm!v", "=Zm9", "===="])
    func rejectsInvalid(text: String) {
        #expect(SMTPBase64.decode(text) == nil)
    }
}
