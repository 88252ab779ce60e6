import Testing

@testable import Webhooks

struct WebhookSignatureTests {
    /// RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
    @Test func hmacMatchesRFC4231() {
        let mac = WebhookSignature.hmacSHA256(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        #expect(WebhookSignature.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// The signed text is `<timestamp>.<body>`; the vector was computed independently with
    /// `printf '1700000000.[{"event_id":"1-0"}]' | openssl dgst -sha256 -hmac whsec_test`.
    @Test func signatureOfTimestampDotBody() {
        let body = Array(#"[{"event_id":"1-0"}]"#.utf8)
        #expect(
            WebhookSignature.sign(secret: "whsec_test", timestamp: 1_700_000_000, body: body)
                == "v1=" + "43d35dbf5ce3ab4717cc8ec3c66dd2bec4b2f760ff966681b80b109b8d28943e")
    }

    @Test func oneV1PerSecretDuringARotation() {
        let body = Array("[]".utf8)
        let header = WebhookSignature.header(secrets: ["new", "old"], timestamp: 5, body: body)
        let parts = header.split(separator: ",").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[0] == WebhookSignature.sign(secret: "new", timestamp: 5, body: body))
        #expect(parts[1] == WebhookSignature.sign(secret: "old", timestamp: 5, body: body))
        #expect(parts[0] != parts[1])
    }

    @Test func newSecretsDiffer() {
        let a = WebhookSignature.newSecret()
        #expect(a.hasPrefix("whsec_") && a.count == 6 + 64)
        #expect(a != WebhookSignature.newSecret())
    }
}
