import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPCapabilities")
struct SMTPCapabilitiesTests {
    @Test func readsAnEHLOReply() {
        let reply = SMTPReply(
            code: 250,
            lines: [
                "mx.example.org at your service", "PIPELINING", "SIZE 35882577", "8BITMIME", "STARTTLS",
                "ENHANCEDSTATUSCODES", "CHUNKING", "SMTPUTF8", "auth plain login XOAUTH2",
            ])
        let capabilities = SMTPCapabilities(ehloReply: reply)
        #expect(capabilities.pipelining)
        #expect(capabilities.size == 35_882_577)
        #expect(capabilities.eightBitMIME)
        #expect(capabilities.startTLS)
        #expect(capabilities.enhancedStatusCodes)
        #expect(capabilities.chunking)
        #expect(capabilities.smtpUTF8)
        #expect(capabilities.authMechanisms == ["PLAIN", "LOGIN", "XOAUTH2"])
        #expect(capabilities.supports("pipelining"))
        #expect(!capabilities.supports("DSN"))
    }

    @Test func greetingLineIsNotAnExtension() {
        let capabilities = SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: ["PIPELINING"]))
        #expect(!capabilities.pipelining)
        #expect(capabilities == SMTPCapabilities())
    }

    @Test func oldAuthFormAndSizeZero() {
        let reply = SMTPReply(code: 250, lines: ["mx", "AUTH=PLAIN LOGIN", "AUTH PLAIN", "SIZE 0"])
        let capabilities = SMTPCapabilities(ehloReply: reply)
        #expect(capabilities.authMechanisms == ["PLAIN", "LOGIN"])
        #expect(capabilities.size == nil)
        #expect(capabilities.supports("SIZE"))
        #expect(!capabilities.pipelining && !capabilities.startTLS && !capabilities.smtpUTF8)
    }

    @Test func readsOurOwnEHLOReplyOffTheWire() throws {
        var machine = SMTPServerStateMachine(
            configuration: SMTPServerConfiguration(
                hostname: "mx.example.net", maxMessageSize: 12345, startTLSAvailable: true, authMechanisms: ["LOGIN", "PLAIN"]),
            isTLS: false)
        let action = machine.receiveLine(ByteBuffer(string: "EHLO client"))
        guard case .reply(let reply) = action else {
            Issue.record("expected a reply, got \(action)")
            return
        }
        var wire = ByteBuffer()
        reply.encode(into: &wire)
        var parser = SMTPReplyParser()
        parser.append(wire)
        let capabilities = SMTPCapabilities(ehloReply: try #require(try parser.next()))
        #expect(capabilities.pipelining && capabilities.eightBitMIME && capabilities.smtpUTF8)
        #expect(capabilities.enhancedStatusCodes && capabilities.startTLS && !capabilities.chunking)
        #expect(capabilities.size == 12345)
        // Not TLS yet: AUTH is not offered.
        #expect(capabilities.authMechanisms.isEmpty)
        #expect(capabilities.supports("HELP"))
    }
}
