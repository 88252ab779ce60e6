import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: errors")
struct ServerErrorTests {
    @Test func syntaxErrorsDoNotEndTheSession() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("FOO", .reply(500, "5.5.2")),
            ("EHLO", .reply(501, "5.5.4")),
            ("EHLO client", .reply(250)),
            ("MAIL FROM:a@example.com", .reply(501, "5.1.7")),
            ("MAIL FROM:<a@example.com> X=1", .reply(555, "5.5.4")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@exa mple.org>", .reply(501, "5.1.3")),
            ("EXPN staff", .reply(502, "5.5.1")),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
    }

    @Test func tenthBadCommandCloses() {
        var script = ServerScript(Configs.allowListed())
        script.run([("EHLO client", .reply(250))])
        let bad = ["FOO", "MAIL FROM:x", "RCPT TO:<a@b.c>", "DATA", "EXPN x", "BAR", "MAIL FROM:<a@b.c> Y=1", "HELO", "VRFY"]
        for line in bad {
            let action = script.send(line)
            #expect(!action.closes, "\(line) closed early")
            #expect(action.reply?.isPermanentFailure == true, "\(line): \(action)")
        }
        script.run([("BAZ", .close(421, "4.7.0"))])
        #expect(script.machine.isClosed)
        // Nothing more is accepted.
        script.run([("NOOP", .close(421))])
    }

    @Test func goodCommandsDoNotResetTheCount() {
        var script = ServerScript(Configs.allowListed { $0.badCommandLimit = 3 })
        script.run([
            ("FOO", .reply(500)),
            ("NOOP", .reply(250)),
            ("FOO", .reply(500)),
            ("NOOP", .reply(250)),
            ("FOO", .close(421, "4.7.0")),
        ])
    }

    @Test func failedAuthenticationsCountAsBadCommands() {
        var script = ServerScript(Configs.submission { $0.badCommandLimit = 3 }, isTLS: true)
        script.run([("EHLO client", .reply(250))])
        for attempt in 1...3 {
            script.run([
                (
                    "AUTH PLAIN \(b64("\u{0}alice\u{0}guess\(attempt)"))",
                    .checkCredentials(username: "alice", password: "guess\(attempt)", mechanism: "PLAIN")
                )
            ])
            let action = script.machine.credentialsChecked(.failure)
            script.check(action, attempt < 3 ? .reply(535, "5.7.8") : .close(421, "4.7.0"))
        }
    }

    @Test func longLinesCount() {
        var script = ServerScript(Configs.allowListed { $0.badCommandLimit = 2 })
        script.check(script.machine.receiveLineTooLong(), .reply(500, "5.5.6"))
        script.check(script.machine.receiveLineTooLong(), .close(421, "4.7.0"))
    }

    @Test func httpRequestClosesAtOnce() {
        var script = ServerScript(Configs.allowListed())
        script.run([("GET / HTTP/1.1", .close(421, "4.7.0"))])
        #expect(script.machine.isClosed)
    }

    @Test func eventsOutOfOrderCloseTheConnection() {
        var data = SMTPServerStateMachine(configuration: Configs.allowListed(), isTLS: false)
        #expect(data.dataEnded(DataSummary()).closes)
        var queued = SMTPServerStateMachine(configuration: Configs.allowListed(), isTLS: false)
        #expect(queued.messageQueued(.queued("x")).closes)
        var credentials = SMTPServerStateMachine(configuration: Configs.allowListed(), isTLS: false)
        #expect(credentials.credentialsChecked(.success("x")).closes)
        #expect(credentials.authenticatedUser == nil)

        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)), ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)), ("DATA", .startData),
            ("this line should have been data", .close(421)),
        ])
    }
}
