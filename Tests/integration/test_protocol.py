"""SMTP protocol handling at the relay listener: pipelining and malformed input."""

import smtplib

from hikyaku_testsupport.events import wait_for_event
from hikyaku_testsupport.smtp import make_message, queue_id_from, token


def replies(smtp: smtplib.SMTP, count: int) -> list[tuple[int, bytes]]:
    return [smtp.getreply() for _ in range(count)]


def test_pipelined_commands_get_replies_in_order(relay, receiver):
    tok = token()
    sender = f"pipe-{tok}@origin.test"
    first = f"first-{tok}@example.test"
    second = f"second-{tok}@example.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        assert smtp.has_extn("pipelining"), smtp.esmtp_features
        # One write: MAIL, a good RCPT, a malformed RCPT, another good RCPT, DATA.
        smtp.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{first}>\r\nRCPT TO:<broken\r\n"
                  f"RCPT TO:<{second}>\r\nDATA\r\n".encode())
        got = replies(smtp, 5)
        codes = [code for code, _ in got]
        assert codes == [250, 250, 501, 250, 354], got
        message = make_message(sender, [first, second], f"pipelined {tok}", f"body {tok}\n.dot line\n",
                               f"<pipe-{tok}@client.test>")
        smtp.send(message.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        code, reply = smtp.getreply()
        assert code == 250, reply
        queue_id = queue_id_from(reply)
        # A second pipelined group after the transaction, RSET in the middle.
        smtp.send(f"MAIL FROM:<>\r\nRCPT TO:<{first}>\r\nRSET\r\nNOOP\r\nDATA\r\n".encode())
        got = replies(smtp, 5)
        codes = [code for code, _ in got]
        assert codes[:4] == [250, 250, 250, 250], got
        assert codes[4] == 503, f"DATA after RSET must be refused (no transaction): {got}"

    for rcpt in (first, second):
        events = wait_for_event(relay, "delivered", rcpt)
        assert all(e["queue_id"] == queue_id for e in events if e["event"] == "delivered"), events
    copies = receiver.messages_with(f"<pipe-{tok}@client.test>".encode())
    assert sorted(r for m in copies for r in m["rcpt_tos"]) == sorted([first, second]), copies


def test_malformed_input_is_refused_and_session_continues(relay, receiver):
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.ehlo("client.test")

        # A command line longer than 512 octets (RFC 5321 4.5.3.1.4).
        smtp.send(b"NOOP " + b"x" * 600 + b"\r\n")
        code, reply = smtp.getreply()
        assert code == 500, (code, reply)
        print(f"overlong line answered: {code} {reply!r}")
        assert smtp.noop()[0] == 250

        # A much longer line, arriving in several segments.
        for _ in range(8):
            smtp.send(b"y" * 8192)
        smtp.send(b"\r\n")
        code, reply = smtp.getreply()
        assert code == 500, (code, reply)
        assert smtp.noop()[0] == 250

        # Unknown command.
        code, reply = smtp.docmd("FOOBAR", "baz")
        assert code == 500, (code, reply)
        assert smtp.noop()[0] == 250

        # Syntax error in MAIL's path.
        code, reply = smtp.docmd("MAIL FROM:<bad")
        assert code == 501, (code, reply)

        # The session still works: a whole transaction goes through.
        tok = token()
        rcpt = f"after-{tok}@example.test"
        code, reply = smtp.mail(f"ok-{tok}@origin.test")
        assert code == 250, (code, reply)
        code, reply = smtp.rcpt(rcpt)
        assert code == 250, (code, reply)
        code, reply = smtp.data(make_message(f"ok-{tok}@origin.test", [rcpt], "after errors", "fine\n"))
        assert code == 250, (code, reply)
    wait_for_event(relay, "delivered", rcpt)


def test_command_line_of_exactly_512_octets_is_accepted(relay, receiver):
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        line = b"NOOP " + b"x" * (512 - 5 - 2) + b"\r\n"
        assert len(line) == 512
        smtp.send(line)
        code, reply = smtp.getreply()
        assert code == 250, (code, reply)
        line = b"NOOP " + b"x" * (512 - 5 - 2 + 1) + b"\r\n"
        smtp.send(line)
        code, reply = smtp.getreply()
        assert code == 500, f"a 513-octet line must be refused: {code} {reply!r}"
        assert smtp.noop()[0] == 250
