import SMTPProtocol
import Testing

/// The opening of a client session: greeting, EHLO/HELO, STARTTLS (RFC 5321 §3.1, §3.2,
/// §4.1.4; RFC 3207 §4).
@Suite struct ClientSessionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var attemptStartTLS = true
        var requireTLS = false
        var script: [String: [SMTPReply]]
        var sent: [String]
        var expected: SMTPClientAction
        var isTLS = false
        var testDescription: String { name }
    }

    static let ok = reply("220 mx.example.org ESMTP")
    static let cases: [Case] = [
        Case(
            name: "plain EHLO", script: ["GREETING": [ok], "EHLO": [ehloReply("8BITMIME")]],
            sent: ["EHLO"], expected: .ready(SMTPCapabilities(ehloReply: ehloReply("8BITMIME")))),
        Case(
            name: "multiline greeting", script: ["GREETING": [reply("220-mx.example.org|220-no UCE|220 ESMTP")], "EHLO": [ehloReply()]],
            sent: ["EHLO"], expected: .ready(SMTPCapabilities())),
        Case(
            name: "554 greeting refuses the session", script: ["GREETING": [reply("554 5.7.1 go away")]],
            sent: [], expected: .fail(.refused(reply("554 5.7.1 go away")), quit: false)),
        Case(
            name: "421 greeting", script: ["GREETING": [reply("421 4.3.2 busy")]],
            sent: [], expected: .fail(.refused(reply("421 4.3.2 busy")), quit: false)),
        Case(
            name: "EHLO unknown: HELO", script: ["GREETING": [ok], "EHLO": [reply("500 5.5.1 what")], "HELO": [reply("250 mx")]],
            sent: ["EHLO", "HELO"], expected: .ready(SMTPCapabilities())),
        Case(
            name: "EHLO and HELO refused", script: ["GREETING": [ok], "EHLO": [reply("502 no")], "HELO": [reply("550 5.7.1 not you")]],
            sent: ["EHLO", "HELO"], expected: .fail(.refused(reply("550 5.7.1 not you")), quit: false)),
        Case(
            name: "421 to EHLO: no HELO", script: ["GREETING": [ok], "EHLO": [reply("421 4.7.0 closing")]],
            sent: ["EHLO"], expected: .fail(.refused(reply("421 4.7.0 closing")), quit: false)),
        Case(
            name: "STARTTLS then EHLO again",
            script: [
                "GREETING": [ok], "EHLO": [ehloReply("STARTTLS", "PIPELINING"), ehloReply("SIZE 1000")],
                "STARTTLS": [reply("220 2.0.0 go ahead")],
            ],
            sent: ["EHLO", "STARTTLS", "TLS", "EHLO"], expected: .ready(SMTPCapabilities(ehloReply: ehloReply("SIZE 1000"))), isTLS: true),
        Case(
            name: "STARTTLS offered, no TLS context", attemptStartTLS: false, script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS")]],
            sent: ["EHLO"], expected: .ready(SMTPCapabilities(ehloReply: ehloReply("STARTTLS")))),
        Case(
            name: "STARTTLS refused, opportunistic",
            script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS")], "STARTTLS": [reply("454 4.7.0 no TLS")]],
            sent: ["EHLO", "STARTTLS"], expected: .ready(SMTPCapabilities(ehloReply: ehloReply("STARTTLS")))),
        Case(
            name: "STARTTLS refused, required", requireTLS: true,
            script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS")], "STARTTLS": [reply("454 4.7.0 no TLS")]],
            sent: ["EHLO", "STARTTLS"], expected: .fail(.startTLSRefused(reply("454 4.7.0 no TLS")), quit: false)),
        Case(
            name: "STARTTLS not offered, required", requireTLS: true, script: ["GREETING": [ok], "EHLO": [ehloReply("PIPELINING")]],
            sent: ["EHLO"], expected: .fail(.startTLSNotOffered, quit: true)),
        Case(
            name: "required, offered, but no TLS context", attemptStartTLS: false, requireTLS: true,
            script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS")]],
            sent: ["EHLO"], expected: .fail(.startTLSNotOffered, quit: true)),
        Case(
            name: "421 to STARTTLS", script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS")], "STARTTLS": [reply("421 4.3.0 bye")]],
            sent: ["EHLO", "STARTTLS"], expected: .fail(.refused(reply("421 4.3.0 bye")), quit: false)),
        Case(
            name: "EHLO over TLS unknown: HELO", requireTLS: true,
            script: [
                "GREETING": [ok], "EHLO": [ehloReply("STARTTLS"), reply("500 no")], "STARTTLS": [reply("220 go")],
                "HELO": [reply("250 mx")],
            ],
            sent: ["EHLO", "STARTTLS", "TLS", "EHLO", "HELO"], expected: .ready(SMTPCapabilities()), isTLS: true),
        Case(
            name: "421 to EHLO over TLS",
            script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS"), reply("421 4.7.0 bye")], "STARTTLS": [reply("220 go")]],
            sent: ["EHLO", "STARTTLS", "TLS", "EHLO"], expected: .fail(.refused(reply("421 4.7.0 bye")), quit: false), isTLS: true),
        Case(
            name: "STARTTLS is not sent twice",
            script: ["GREETING": [ok], "EHLO": [ehloReply("STARTTLS"), ehloReply("STARTTLS")], "STARTTLS": [reply("220 go")]],
            sent: ["EHLO", "STARTTLS", "TLS", "EHLO"], expected: .ready(SMTPCapabilities(ehloReply: ehloReply("STARTTLS"))), isTLS: true),
    ]

    @Test(arguments: cases)
    func opening(_ test: Case) {
        var machine = SMTPClientStateMachine(
            configuration: .init(
                heloName: "relay.example.com", attemptStartTLS: test.attemptStartTLS,
                requireTLS: test.requireTLS))
        var server = ScriptedServer(test.script)
        let action = server.drive(&machine)
        #expect(action == test.expected)
        #expect(server.sent == test.sent)
        #expect(machine.isTLS == test.isTLS)
        if case .ready = action { #expect(machine.isReady) } else { #expect(!machine.isUsable) }
    }

    @Test func ehloCarriesTheHeloName() {
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "out1.example.com"))
        #expect(machine.receive(reply("220 mx")) == .send([.ehlo("out1.example.com")]))
        #expect(machine.receive(reply("502 5.5.1 no")) == .send([.helo("out1.example.com")]))
    }

    @Test func tlsPhaseIsKnownUntilTheSecondEHLO() {
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        _ = machine.receive(reply("220 mx"))
        _ = machine.receive(ehloReply("STARTTLS", "PIPELINING"))
        #expect(!machine.isNegotiatingTLS)
        #expect(machine.receive(reply("220 go")) == .startTLS)
        #expect(machine.isNegotiatingTLS)
        #expect(machine.tlsEstablished() == .send([.ehlo("relay")]))
        // RFC 3207 §4.2: what was learnt in clear is forgotten.
        #expect(machine.capabilities == SMTPCapabilities())
        #expect(machine.isNegotiatingTLS)
        _ = machine.receive(ehloReply("SIZE 100"))
        #expect(!machine.isNegotiatingTLS)
        #expect(!machine.capabilities.pipelining && machine.capabilities.size == 100)
    }

    @Test func aLostConnectionDuringTheOpeningEndsTheSession() {
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        _ = machine.receive(reply("220 mx"))
        #expect(machine.connectionFailed() == nil)
        #expect(!machine.isUsable)
        #expect(machine.quit() == .close)
    }

    @Test(arguments: [reply("250 2.0.0 hello?"), reply("421 4.3.2 shutting down")])
    func aReplyNobodyAskedForIsAProtocolError(_ unsolicited: SMTPReply) {
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        _ = machine.receive(reply("220 mx"))
        _ = machine.receive(ehloReply())
        #expect(machine.receive(unsolicited) == .fail(.unexpectedReply(unsolicited, after: "nothing"), quit: false))
        #expect(!machine.isUsable)
    }

    @Test func quitExchange() {
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        _ = machine.receive(reply("220 mx"))
        _ = machine.receive(ehloReply())
        #expect(machine.quit() == .send([.quit]))
        #expect(machine.receive(reply("221 2.0.0 bye")) == .close)
        #expect(!machine.isUsable)
    }

    @Test func failureDescriptionsKeepTheReply() {
        #expect(SMTPSessionFailure.refused(reply("554 5.7.1 go away")).description == "554 5.7.1 go away")
        #expect(SMTPSessionFailure.refused(reply("554 5.7.1 go away")).reply?.enhancedStatus == EnhancedStatusCode(5, 7, 1))
        #expect(SMTPSessionFailure.startTLSNotOffered.reply == nil)
    }
}
