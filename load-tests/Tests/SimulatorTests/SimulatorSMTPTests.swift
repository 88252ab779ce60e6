import Foundation
import ProcessSpawn
import Testing

@testable import hikyaku_sim

/// The simulator in-process, driven over real sockets by Python (raw SMTP and smtplib) and
/// swaks. Each test has its own addresses, `127.0.<n>.x`.
@Suite struct SimulatorSMTPTests {
    @Test func smtplibMessageIsRecordedWithItsMessageIDSequenceAndSourceIP() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "one", "domains": ["one.sim"], "addresses": ["127.0.10.1"]},
                 {"name": "two", "domains": ["two.sim", "deux.sim"], "addresses": ["127.0.10.2"]}]
                """)
        let script = #"""
            import json, smtplib, sys
            from email.message import EmailMessage
            host, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
            m = EmailMessage()
            m["From"] = "sender@relay.test"
            m["To"] = "a@two.sim, b@deux.sim"
            m["Message-ID"] = "<seq-17@relay.test>"
            m["X-Loadtest-Seq"] = "17"
            m.set_content("hello\n.a line with a dot\n")
            with smtplib.SMTP(host, port, source_address=(source, 0)) as s:
                print(json.dumps(s.send_message(m, to_addrs=["a@two.sim", "b@deux.sim"])))
            """#
        let output = try await Subprocess.run(["python3", "-c", script, "127.0.10.2", "\(sim.port)", "127.0.10.50"])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "{}")

        let accepted = try sim.accepted()
        #expect(accepted.count == 1)
        let record = try #require(accepted.first)
        #expect(record["site"] as? String == "two")
        #expect(record["ip"] as? String == "127.0.10.50")
        #expect(record["mx"] as? String == "127.0.10.2")
        #expect(record["from"] as? String == "sender@relay.test")
        #expect(record["rcpt"] as? [String] == ["a@two.sim", "b@deux.sim"])
        #expect(record["message_id"] as? String == "<seq-17@relay.test>")
        #expect(record["seq"] as? String == "17")
        #expect(record["tls"] as? Bool == false)
        #expect((record["t"] as? Int ?? 0) > 1_600_000_000_000_000)
        #expect(try sim.refused().isEmpty)
        #expect(sim.simulator.sites[1].snapshot.acceptedRecipients == 2)
        #expect(sim.simulator.sites[0].snapshot.acceptedMessages == 0)
        await sim.stop()
    }

    @Test func pipelinedRepliesStayInOrderUnderLatencyAndSizeIsAfterDotUnstuffing() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "slow", "domains": ["slow.sim"], "addresses": ["127.0.11.1"],
                  "behaviours": {"unknown_users": {"pattern": "^nouser"}, "latency_ms": {"greeting": 20, "rcpt": 30, "data": 30}}}]
                """)
        let content = "Subject: x\r\nmessage-id:\r\n <folded@relay.test>\r\n\r\n..leading dot\r\nMessage-ID: <in-body@x>"
        let replies = try await SMTPDriver.run(
            host: "127.0.11.1", port: sim.port, source: "127.0.11.50",
            steps: [
                .command("EHLO client.test"),
                .send(["MAIL FROM:<s@relay.test>", "RCPT TO:<a@slow.sim>", "RCPT TO:<nouser@slow.sim>", "RCPT TO:<b@slow.sim>", "DATA"]),
                .data(content),
                .command("QUIT"),
            ])
        #expect(replies.count == 9)
        #expect(replies.first == "220 mx1.slow.sim ESMTP hikyaku-sim")
        #expect(
            Array(replies[2...6]) == [
                "250 2.1.0 Ok", "250 2.1.5 Ok", "550 5.1.1 No such user", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
            ])
        #expect(replies[7].hasPrefix("250 2.0.0 Ok: queued as "))
        #expect(replies[8] == "221 2.0.0 Bye")

        let record = try #require(try sim.accepted().first)
        #expect(record["rcpt"] as? [String] == ["a@slow.sim", "b@slow.sim"])
        #expect(record["message_id"] as? String == "<folded@relay.test>")
        #expect(record["seq"] is NSNull)
        // The last line's CRLF is content, the "." line is not; one dot of "..leading dot" goes.
        #expect(record["size"] as? Int == content.utf8.count + 2 - 1)
        #expect(replies[7].hasSuffix(record["id"] as! String))
        await sim.stop()
    }

    @Test func perIPRateAnswers421BeyondTheLimitAndClosesButOtherIPsStillSend() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "limited", "domains": ["limited.sim"], "addresses": ["127.0.12.1"],
                  "behaviours": {"per_ip_rate": {"count": 3, "period_seconds": 60, "reply": "421 4.7.28 rate limited"}}}]
                """)
        let message: [SMTPDriver.Step] = [
            .send(["MAIL FROM:<s@relay.test>", "RCPT TO:<a@limited.sim>", "RCPT TO:<b@limited.sim>", "DATA"]),
            .data("Subject: hi\r\n\r\nbody"),
        ]
        let replies = try await SMTPDriver.run(
            host: "127.0.12.1", port: sim.port, source: "127.0.12.50",
            steps: [.command("EHLO client.test")] + message + message + message + message)
        let accepted = ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"]
        for index in 0..<3 {
            let base = 2 + index * 5
            #expect(Array(replies[base..<base + 4]) == accepted)
            #expect(replies[base + 4].hasPrefix("250 2.0.0 Ok: queued as"))
        }
        #expect(Array(replies[17...]) == ["250 2.1.0 Ok", "421 4.7.28 rate limited", "closed"])

        let other = try await SMTPDriver.run(
            host: "127.0.12.1", port: sim.port, source: "127.0.12.51", steps: [.command("EHLO client.test")] + message)
        #expect(other.last?.hasPrefix("250 2.0.0 Ok: queued as") == true)

        #expect(try sim.accepted().count == 4)
        let refused = try sim.refused()
        #expect(refused.count == 1)
        #expect(refused.first?["reason"] as? String == "rate_limit")
        #expect(refused.first?["ip"] as? String == "127.0.12.50")
        #expect(refused.first?["reply"] as? String == "421 4.7.28 rate limited")
        #expect(sim.simulator.sites[0].snapshot.refused == [.rateLimit: 1])
        await sim.stop()
    }

    @Test func unknownUsersGet550MailboxFull452AndDataWithoutValidRecipients554() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "users", "domains": ["users.sim"], "addresses": ["127.0.13.1"],
                  "behaviours": {"unknown_users": {"pattern": "^nouser", "reply": "550 5.1.1 No such user"},
                                 "mailbox_full": {"pattern": "^full"}}}]
                """)
        // More refusals than the state machine's bad-command limit (10): policy refusals
        // must not count as bad commands.
        let unknown = (1...12).map { "RCPT TO:<nouser\($0)@users.sim>" }
        let replies = try await SMTPDriver.run(
            host: "127.0.13.1", port: sim.port, source: "127.0.13.50",
            steps: [
                .command("EHLO client.test"),
                .send(["MAIL FROM:<s@relay.test>"] + unknown + ["RCPT TO:<full@users.sim>", "DATA"]),
                .send(["MAIL FROM:<s@relay.test>", "RCPT TO:<ok@users.sim>", "DATA"]),
                .data("Subject: hi\r\n\r\nbody"),
                .command("QUIT"),
            ])
        #expect(replies[2] == "250 2.1.0 Ok")
        #expect(Array(replies[3..<15]) == Array(repeating: "550 5.1.1 No such user", count: 12))
        #expect(replies[15] == "452 4.2.2 Mailbox full")
        #expect(replies[16] == "554 5.5.1 No valid recipients")
        #expect(Array(replies[17..<20]) == ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"])
        #expect(replies[20].hasPrefix("250 2.0.0 Ok: queued as"))
        #expect(replies[21] == "221 2.0.0 Bye")

        let refused = try sim.refused()
        #expect(refused.count == 13)
        #expect(refused.filter { $0["reason"] as? String == "unknown_user" }.count == 12)
        #expect(refused.last?["reason"] as? String == "mailbox_full")
        #expect(refused.last?["rcpt"] as? String == "full@users.sim")
        #expect(try sim.accepted().map { $0["rcpt"] as? [String] } == [["ok@users.sim"]])
        await sim.stop()
    }

    @Test func greylistingRefusesFirstAttemptsAndAcceptsARetryAfterMinRetry() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "grey", "domains": ["grey.sim"], "addresses": ["127.0.14.1"],
                  "behaviours": {"greylist": {"first_attempt_reply": "451 4.7.1 Greylisted", "min_retry_seconds": 1}}}]
                """)
        let attempt: [SMTPDriver.Step] = [
            .command("EHLO client.test"),
            .send(["MAIL FROM:<s@relay.test>", "RCPT TO:<a@grey.sim>"]),
        ]
        let sessions = try await SMTPDriver.run(
            host: "127.0.14.1", port: sim.port, source: "127.0.14.50",
            sessions: [
                SMTPDriver.Session(steps: attempt),
                SMTPDriver.Session(steps: attempt),
                SMTPDriver.Session(
                    steps: attempt + [.send(["RCPT TO:<new@grey.sim>", "DATA"]), .data("Subject: hi\r\n\r\nbody")], delay: 1.3),
            ])
        #expect(sessions[0].last == "451 4.7.1 Greylisted")
        #expect(sessions[1].last == "451 4.7.1 Greylisted")
        // The retried triple passes; a new recipient is greylisted in turn.
        #expect(Array(sessions[2][3...5]) == ["250 2.1.5 Ok", "451 4.7.1 Greylisted", "354 End data with <CR><LF>.<CR><LF>"])
        #expect(sessions[2].last?.hasPrefix("250 2.0.0 Ok: queued as") == true)

        #expect(try sim.refused().map { $0["reason"] as? String } == ["greylisted", "greylisted", "greylisted"])
        #expect(try sim.accepted().map { $0["rcpt"] as? [String] } == [["a@grey.sim"]])
        await sim.stop()
    }

    @Test func repeatedExcessBlocksTheIPWith550() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "strict", "domains": ["strict.sim"], "addresses": ["127.0.15.1"],
                  "behaviours": {"per_ip_rate": {"count": 1, "period_seconds": 60, "reply": "421 4.7.28 rate limited"},
                                 "block_after_excess": {"excess": 2, "block_seconds": 300, "reply": "550 5.7.1 blocked"}}}]
                """)
        let envelope: SMTPDriver.Step = .send(["MAIL FROM:<s@relay.test>", "RCPT TO:<a@strict.sim>"])
        let sessions = try await SMTPDriver.run(
            host: "127.0.15.1", port: sim.port, source: "127.0.15.50",
            sessions: [
                SMTPDriver.Session(steps: [
                    .command("EHLO c.test"), envelope, .command("DATA"), .data("Subject: 1\r\n\r\n"), envelope, .command("NOOP"),
                ]),
                SMTPDriver.Session(steps: [.command("EHLO c.test"), envelope, .command("NOOP")]),
                SMTPDriver.Session(steps: [.command("EHLO c.test"), envelope, .command("RCPT TO:<b@strict.sim>"), .command("QUIT")]),
            ])
        #expect(Array(sessions[0].suffix(3)) == ["250 2.1.0 Ok", "421 4.7.28 rate limited", "closed"])
        #expect(Array(sessions[1].suffix(3)) == ["250 2.1.0 Ok", "421 4.7.28 rate limited", "closed"])
        #expect(Array(sessions[2].suffix(4)) == ["250 2.1.0 Ok", "550 5.7.1 blocked", "550 5.7.1 blocked", "221 2.0.0 Bye"])
        #expect(try sim.refused().map { $0["reason"] as? String } == ["rate_limit", "rate_limit", "blocked", "blocked"])
        #expect(sim.simulator.sites[0].snapshot.refused == [.rateLimit: 2, .blocked: 2])
        await sim.stop()
    }

    @Test func swaksDeliversOverSTARTTLS() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "secure", "domains": ["secure.sim"], "addresses": ["127.0.16.1"], "behaviours": {"starttls": true}},
                 {"name": "clear", "domains": ["clear.sim"], "addresses": ["127.0.16.2"]}]
                """)
        let output = try await Subprocess.run([
            "swaks", "--server", "127.0.16.1", "--port", "\(sim.port)", "--tls", "--local-interface", "127.0.16.50",
            "--from", "s@relay.test", "--to", "a@secure.sim", "--header", "Message-Id: <tls-1@relay.test>",
        ])
        #expect(output.status == 0, "\(output.standardOutput)\(output.standardError)")
        #expect(output.standardOutput.contains("TLS started"))
        let record = try #require(try sim.accepted().first)
        #expect(record["tls"] as? Bool == true)
        #expect(record["message_id"] as? String == "<tls-1@relay.test>")
        #expect(record["ip"] as? String == "127.0.16.50")

        // A site without "starttls" does not offer it; swaks --tls then gives up.
        let clear = try await Subprocess.run([
            "swaks", "--server", "127.0.16.2", "--port", "\(sim.port)", "--tls", "--from", "s@relay.test", "--to", "a@clear.sim",
        ])
        #expect(clear.status != 0)
        #expect(clear.standardOutput.contains("STARTTLS") || clear.standardError.contains("STARTTLS"))
        #expect(try sim.accepted().count == 1)
        await sim.stop()
    }

    @Test func droppedConnectionIsRecordedAsRefusedNotAccepted() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "flaky", "domains": ["flaky.sim"], "addresses": ["127.0.17.1"],
                  "behaviours": {"drop_connection_probability": 1.0, "latency_ms": {"data": 10}}}]
                """)
        let replies = try await SMTPDriver.run(
            host: "127.0.17.1", port: sim.port, source: "127.0.17.50",
            steps: [
                .command("EHLO client.test"),
                .send(["MAIL FROM:<s@relay.test>", "RCPT TO:<a@flaky.sim>", "DATA"]),
                .data("Message-ID: <drop-1@relay.test>\r\nX-Loadtest-Seq: 99\r\n\r\nbody"),
            ])
        #expect(Array(replies.suffix(4)) == ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>", "closed"])
        #expect(try sim.accepted().isEmpty)
        let refused = try #require(try sim.refused().first)
        #expect(refused["reason"] as? String == "dropped")
        #expect(refused["message_id"] as? String == "<drop-1@relay.test>")
        #expect(refused["seq"] as? String == "99")
        await sim.stop()
    }

    @Test func stopClosesOpenConnections() async throws {
        let sim = try await TestSimulator.start(
            sites: """
                [{"name": "idle", "domains": ["idle.sim"], "addresses": ["127.0.18.1"]}]
                """)
        // The client holds its connection open until the server closes it.
        let script = #"""
            import socket, sys
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
            f = s.makefile("rb")
            print(f.readline().decode().strip(), flush=True)
            while f.readline():
                pass
            print("closed")
            """#
        let client = try Subprocess.start(["python3", "-c", script, "127.0.18.1", "\(sim.port)"])
        try await eventually { sim.simulator.connectionCount == 1 }
        await sim.stop()
        let output = await client.wait()
        #expect(output.standardOutput == "220 mx1.idle.sim ESMTP hikyaku-sim\nclosed\n")
        #expect(sim.simulator.connectionCount == 0)
    }
}

/// Waits until `condition` holds, checking every 20 ms for up to 10 s.
func eventually(_ condition: () throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<500 {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
}
