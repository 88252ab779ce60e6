import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPReply")
struct SMTPReplyTests {
    @Test func encodesSingleLine() {
        #expect(encoded(SMTPReply(250, "2.1.0", "Ok")) == "250 2.1.0 Ok\r\n")
        #expect(encoded(SMTPReply(code: 220, lines: ["mx.example ESMTP"])) == "220 mx.example ESMTP\r\n")
    }

    @Test func encodesMultiLineWithEnhancedCodeOnEveryLine() {
        let reply = SMTPReply(code: 550, enhancedStatus: EnhancedStatusCode(5, 7, 1), lines: ["first", "second", "last"])
        #expect(encoded(reply) == "550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 last\r\n")
        let plain = SMTPReply(code: 250, lines: ["mx Hello", "PIPELINING", "HELP"])
        #expect(encoded(plain) == "250-mx Hello\r\n250-PIPELINING\r\n250 HELP\r\n")
    }

    @Test func encodesEmptyText() {
        #expect(encoded(SMTPReply(code: 250, lines: [])) == "250\r\n")
        #expect(encoded(SMTPReply(code: 250, lines: [""])) == "250\r\n")
        // RFC 4954 §4: "334" SP [base64]
        #expect(encoded(SMTPReply(code: 334, lines: [""])) == "334 \r\n")
    }

    @Test func lineBreaksInTextCannotInjectLines() {
        let reply = SMTPReply(code: 250, lines: ["a\r\n250 injected", "b\nc\rd"])
        #expect(encoded(reply) == "250-a  250 injected\r\n250 b c d\r\n")
    }

    @Test func classification() {
        #expect(SMTPReply.ok.isPositive && !SMTPReply.ok.isTransientFailure && !SMTPReply.ok.isPermanentFailure)
        #expect(SMTPReply.startMailInput.isPositive && SMTPReply.startMailInput.isIntermediate)
        #expect(SMTPReply.tooManyRecipients.isTransientFailure && !SMTPReply.tooManyRecipients.isPositive)
        #expect(SMTPReply.relayDenied.isPermanentFailure && !SMTPReply.relayDenied.isTransientFailure)
    }

    @Test(arguments: [
        (SMTPReply.ok, "250 2.0.0 Ok"),
        (.serviceClosing, "221 2.0.0 Bye"),
        (.startMailInput, "354 End data with <CR><LF>.<CR><LF>"),
        (.syntaxError, "500 5.5.2 Syntax error, command unrecognized"),
        (.badSequence, "503 5.5.1 Bad sequence of commands"),
        (.relayDenied, "550 5.7.1 Relay access denied"),
        (.authenticationRequired, "530 5.7.0 Authentication required"),
        (.authSucceeded, "235 2.7.0 Authentication successful"),
        (.authFailed, "535 5.7.8 Authentication credentials invalid"),
        (.encryptionRequiredForAuth, "538 5.7.11 Encryption required for requested authentication mechanism"),
        (.messageTooLarge, "552 5.3.4 Message size exceeds fixed maximum message size"),
        (.tooManyRecipients, "452 4.5.3 Too many recipients"),
        (.lineTooLong, "500 5.5.6 Line too long"),
        (.localError, "451 4.3.0 Requested action aborted: local error in processing"),
        (.cannotVRFY, "252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery"),
        (.readyToStartTLS, "220 2.0.0 Ready to start TLS"),
        (.tooManyErrors, "421 4.7.0 Too many errors, closing connection"),
        (.noValidRecipients, "554 5.5.1 No valid recipients"),
    ])
    func catalogue(reply: SMTPReply, wire: String) {
        #expect(encoded(reply) == wire + "\r\n")
        #expect(reply.description == wire)
    }
}
