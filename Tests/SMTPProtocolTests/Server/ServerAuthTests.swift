import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: AUTH")
struct ServerAuthTests {
    static let plainAlice = b64("\u{0}alice\u{0}s3cret")

    @Test func notOfferedNorAcceptedWithoutTLS() throws {
        var script = ServerScript(Configs.submission())
        let ehlo = try #require(script.send("EHLO client").reply)
        #expect(!ehlo.lines.contains { $0.hasPrefix("AUTH") })
        script.run([
            ("AUTH PLAIN \(Self.plainAlice)", .reply(538, "5.7.11")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(530, "5.7.0")),
        ])
    }

    @Test func offeredWithoutTLSWhenAllowed() throws {
        var script = ServerScript(Configs.submission { $0.allowAuthWithoutTLS = true })
        let ehlo = try #require(script.send("EHLO client").reply)
        #expect(
            ehlo.lines == [
                "submit.example.net Hello client", "PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8",
                "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH PLAIN LOGIN", "HELP",
            ])
        script.run([("AUTH PLAIN \(Self.plainAlice)", .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN"))])
    }

    @Test func plainWithInitialResponseThenRelay() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(530, "5.7.0")),
            ("AUTH PLAIN \(Self.plainAlice)", .reply(503, "5.5.1")),  // not inside a transaction
            ("RSET", .reply(250)),
            ("AUTH PLAIN \(Self.plainAlice)", .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN")),
        ])
        #expect(script.machine.authenticatedUser == nil)
        script.check(script.machine.credentialsChecked(.success("alice")), .reply(235, "2.7.0"))
        #expect(script.machine.authenticatedUser == "alice")
        script.run([
            ("AUTH PLAIN \(Self.plainAlice)", .reply(503, "5.5.1")),
            ("MAIL FROM:<a@example.com> AUTH=<>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250, "2.1.5")),
            ("DATA", .startData),
        ])
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 5)) else {
            Issue.record("expected enqueue")
            return
        }
        #expect(transaction.authenticatedUser == "alice")
        #expect(transaction.isTLS)
        #expect(transaction.protocolName == "ESMTPSA")
    }

    @Test func plainViaContinuation() throws {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([("EHLO client", .reply(250))])
        let challenge = try #require(script.send("AUTH PLAIN").reply)
        #expect(encoded(challenge) == "334 \r\n")
        #expect(script.machine.framerMode == .authResponse)
        script.run([(Self.plainAlice, .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN"))])
        #expect(script.machine.framerMode == .command)
    }

    @Test func plainWithAuthorizationIdentity() {
        var same = ServerScript(Configs.submission(), isTLS: true)
        same.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN \(b64("alice\u{0}alice\u{0}pw"))", .checkCredentials(username: "alice", password: "pw", mechanism: "PLAIN")),
        ])
        var other = ServerScript(Configs.submission(), isTLS: true)
        other.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN \(b64("admin\u{0}alice\u{0}pw"))", .reply(535, "5.7.8")),
        ])
    }

    @Test func malformedPlainMessages() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN =", .reply(501, "5.5.2")),  // empty message
            ("AUTH PLAIN \(b64("alice\u{0}pw"))", .reply(501, "5.5.2")),  // one NUL
            ("AUTH PLAIN \(b64("\u{0}\u{0}pw"))", .reply(501, "5.5.2")),  // empty authcid
            ("AUTH PLAIN \(b64("\u{0}alice\u{0}"))", .reply(535, "5.7.8")),  // empty password
            ("AUTH PLAIN \(SMTPBase64.encode([0, 0x61, 0, 0xFF]))", .reply(501, "5.5.2")),  // not UTF-8
            ("AUTH PLAIN not-base64!", .reply(501, "5.5.2")),
        ])
    }

    @Test func loginExchange() throws {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([("EHLO client", .reply(250))])
        #expect(encoded(try #require(script.send("AUTH LOGIN").reply)) == "334 VXNlcm5hbWU6\r\n")
        #expect(script.machine.framerMode == .authResponse)
        #expect(encoded(try #require(script.send(b64("alice")).reply)) == "334 UGFzc3dvcmQ6\r\n")
        #expect(script.machine.framerMode == .authResponse)
        script.run([(b64("pässword"), .checkCredentials(username: "alice", password: "pässword", mechanism: "LOGIN"))])
        script.check(script.machine.credentialsChecked(.failure), .reply(535, "5.7.8"))
        #expect(script.machine.authenticatedUser == nil)
        // A new attempt is allowed after a failure.
        script.run([
            ("AUTH LOGIN \(b64("alice"))", .reply(334)),
            (b64("right"), .checkCredentials(username: "alice", password: "right", mechanism: "LOGIN")),
        ])
        script.check(script.machine.credentialsChecked(.success("alice")), .reply(235, "2.7.0"))
    }

    /// A user name over 256 octets is refused before any credential check (so it never
    /// becomes a lockout key); 256 still goes to the check.
    @Test(arguments: [("PLAIN", 257), ("LOGIN", 257), ("PLAIN", 9000), ("LOGIN", 9000)])
    func overlongUserNameFailsWithoutACheck(mechanism: String, length: Int) throws {
        let name = String(repeating: "u", count: length)
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([("EHLO client", .reply(250))])
        if mechanism == "PLAIN" {
            script.run([("AUTH PLAIN \(b64("\u{0}\(name)\u{0}pw"))", .reply(535, "5.7.8"))])
        } else {
            script.run([("AUTH LOGIN", .reply(334)), (b64(name), .reply(535, "5.7.8"))])
        }
        #expect(script.machine.framerMode == .command)
        let longest = String(repeating: "u", count: SMTPLimits.authUsernameLength)
        script.run([
            ("AUTH PLAIN \(b64("\u{0}\(longest)\u{0}pw"))", .checkCredentials(username: longest, password: "pw", mechanism: "PLAIN"))
        ])
    }

    @Test func cancelAndBadBase64() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("AUTH LOGIN", .reply(334)),
            ("*", .reply(501, "5.7.0")),
            ("NOOP", .reply(250)),
            ("AUTH LOGIN", .reply(334)),
            (b64("alice"), .reply(334)),
            ("*", .reply(501, "5.7.0")),
            ("AUTH PLAIN", .reply(334)),
            ("%%%", .reply(501, "5.5.2")),
            ("NOOP", .reply(250)),
            ("AUTH PLAIN *", .reply(501, "5.7.0")),
        ])
        #expect(script.machine.framerMode == .command)
    }

    @Test func sequenceAndMechanismRules() {
        var script = ServerScript(Configs.submission { $0.authMechanisms = ["plain", "CRAM-MD5"] }, isTLS: true)
        script.run([
            ("AUTH PLAIN \(Self.plainAlice)", .reply(503, "5.5.1")),  // before EHLO
            ("HELO client", .reply(250)),
            ("AUTH PLAIN \(Self.plainAlice)", .reply(503, "5.5.1")),  // AUTH is an EHLO extension
        ])
        let ehlo = script.send("EHLO client").reply
        #expect(ehlo?.lines.contains("AUTH PLAIN") == true)
        script.run([
            ("AUTH LOGIN", .reply(504, "5.5.4")),
            ("AUTH CRAM-MD5", .reply(504, "5.5.4")),  // not implemented, so not offered
            ("AUTH GSSAPI", .reply(504, "5.5.4")),
        ])
        var none = ServerScript(Configs.allowListed(), isTLS: true)
        none.run([("EHLO client", .reply(250)), ("AUTH PLAIN \(Self.plainAlice)", .reply(502, "5.5.1"))])
    }

    @Test func temporaryFailure() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN \(Self.plainAlice)", .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN")),
        ])
        script.check(script.machine.credentialsChecked(.temporaryFailure), .reply(454, "4.7.0"))
        script.run([("MAIL FROM:<a@example.com>", .reply(250)), ("RCPT TO:<b@example.org>", .reply(530))])
    }

    @Test func lineTooLongDuringAuthAbandonsTheExchange() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([("EHLO client", .reply(250)), ("AUTH PLAIN", .reply(334))])
        script.check(script.machine.receiveLineTooLong(), .reply(500, "5.5.6"))
        #expect(script.machine.framerMode == .command)
        script.run([("NOOP", .reply(250))])
    }

    @Test func linesWhileCredentialsAreCheckedCloseTheConnection() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN \(Self.plainAlice)", .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN")),
            ("MAIL FROM:<a@example.com>", .close(421)),
        ])
    }

    @Test func descriptionNeverShowsThePassword() {
        let action = SMTPServerAction.checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN")
        #expect(!action.description.contains("s3cret"))
        #expect(action.description.contains("alice"))
    }

    @Test(arguments: [
        (false, false, "ESMTP"), (true, false, "ESMTPS"), (false, true, "ESMTPA"), (true, true, "ESMTPSA"),
    ])
    func protocolNames(tls: Bool, authenticated: Bool, expected: String) {
        var script = ServerScript(
            Configs.submission {
                $0.allowAuthWithoutTLS = true
                $0.clientIsAllowListed = true
            }, isTLS: tls)
        script.run([("EHLO client", .reply(250))])
        if authenticated {
            script.run([("AUTH PLAIN \(Self.plainAlice)", .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN"))])
            script.check(script.machine.credentialsChecked(.success("alice")), .reply(235))
        }
        script.run([("MAIL FROM:<a@example.com>", .reply(250)), ("RCPT TO:<b@example.org>", .reply(250)), ("DATA", .startData)])
        #expect(script.machine.protocolName == expected)
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 1)) else {
            Issue.record("expected enqueue")
            return
        }
        #expect(transaction.protocolName == expected)
        #expect(transaction.isTLS == tls)
        #expect(transaction.authenticatedUser == (authenticated ? "alice" : nil))
    }
}
