import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: STARTTLS")
struct ServerTLSTests {
    @Test func advertisedOnlyBeforeTLS() throws {
        var plain = ServerScript(Configs.submission())
        #expect(try #require(plain.send("EHLO client").reply).lines.contains("STARTTLS"))
        var implicit = ServerScript(Configs.submission(), isTLS: true)
        #expect(try !#require(implicit.send("EHLO client").reply).lines.contains("STARTTLS"))
        var unavailable = ServerScript(Configs.allowListed())
        #expect(try !#require(unavailable.send("EHLO client").reply).lines.contains("STARTTLS"))
    }

    @Test func upgradeForgetsTheSession() throws {
        var script = ServerScript(Configs.submission())
        script.run([
            ("EHLO client", .reply(250)),
            ("STARTTLS", .startTLS),
        ])
        #expect(script.machine.framerMode == .command)
        #expect(!script.machine.isTLS)
        script.machine.tlsEstablished()
        #expect(script.machine.isTLS)
        #expect(script.machine.heloName == nil)
        // RFC 3207 §4.2: the client must EHLO again.
        script.run([("MAIL FROM:<a@example.com>", .reply(503, "5.5.1"))])
        let ehlo = try #require(script.send("EHLO client").reply)
        #expect(!ehlo.lines.contains("STARTTLS"))
        #expect(ehlo.lines.contains("AUTH PLAIN LOGIN"))
        script.run([
            ("STARTTLS", .reply(503, "5.5.1")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
        ])
    }

    @Test func refusedWithArgumentsInATransactionBeforeEHLOOrWhenUnavailable() {
        var script = ServerScript(Configs.submission())
        script.run([
            ("STARTTLS", .reply(503, "5.5.1")),
            ("EHLO client", .reply(250)),
            ("STARTTLS now", .reply(501, "5.5.4")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("STARTTLS", .reply(503, "5.5.1")),
            ("RSET", .reply(250)),
            ("STARTTLS", .startTLS),
        ])
        var unavailable = ServerScript(Configs.allowListed())
        unavailable.run([
            ("EHLO client", .reply(250)),
            ("STARTTLS", .reply(502, "5.5.1")),
        ])
    }

    @Test func authenticationBeforeTLSIsForgotten() {
        var script = ServerScript(Configs.submission { $0.allowAuthWithoutTLS = true })
        script.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN \(b64("\u{0}alice\u{0}secret"))", .checkCredentials(username: "alice", password: "secret", mechanism: "PLAIN")),
        ])
        script.check(script.machine.credentialsChecked(.success("alice")), .reply(235, "2.7.0"))
        #expect(script.machine.authenticatedUser == "alice")
        script.run([("STARTTLS", .startTLS)])
        script.machine.tlsEstablished()
        #expect(script.machine.authenticatedUser == nil)
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(530, "5.7.0")),
        ])
    }

    @Test func linesWhileTLSIsStartingCloseTheConnection() {
        // The handler must not feed lines before tlsEstablished(); if it does, we close.
        var script = ServerScript(Configs.submission())
        script.run([
            ("EHLO client", .reply(250)),
            ("STARTTLS", .startTLS),
            ("MAIL FROM:<evil@example.com>", .close(421)),
        ])
    }
}
