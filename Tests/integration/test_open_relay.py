"""Open-relay battery (DESIGN.md property 2): an unauthenticated client outside
``ingest.relay_networks`` can only be refused, however it writes the recipient.

The relay allows 127.0.0.1/32 (conftest); these clients bind 127.0.0.5. Every address
form that routing tricks have used to slip through relays — the percent hack, source
routes, quoted local parts, UUCP ``!`` paths, address literals, case, trailing dots,
UTF-8 and IDN domains — gets the RFC 5321 reply for a recipient refused for policy reasons
(``550 5.7.1``; ``530 5.7.0`` on the submission listener, RFC 4954 §6), or ``501 5.1.3``
when it is not a path at all. Nothing is accepted and nothing reaches the receiver; a
control message from the allowed address does, so the pipeline was working.
"""

import base64
import smtplib

from hikyaku_testsupport.events import wait_for_event
from hikyaku_testsupport.smtp import RawSMTP, insecure_tls_context, make_message, token
from hikyaku_testsupport.waiting import wait_for
from hikyaku_testsupport.world import AUTH_PASSWORD, AUTH_USER

OUTSIDER = "127.0.0.5"

# (form, recipient path as sent). The relay's own name is relay.test.
RELAY_FORMS = [
    ("plain", "<user@example.test>"),
    ("percent hack via us", "<user%example.test@relay.test>"),
    ("percent hack, other host", "<user%example.test@other.test>"),
    ("double percent", "<user%example.test%other.test@relay.test>"),
    ("source route via us", "<@relay.test:user@example.test>"),
    ("source route list", "<@relay.test,@other.test:user@example.test>"),
    ("quoted local part with @", "<\"user@example.test\"@relay.test>"),
    ("quoted percent hack", "<\"user%example.test\"@relay.test>"),
    ("bang path", "<example.test!user@relay.test>"),
    ("address literal loopback", "<user@[127.0.0.1]>"),
    ("address literal IPv6", "<user@[IPv6:::1]>"),
    ("address literal general", "<user@[x400:c=us]>"),
    ("upper case", "<USER@EXAMPLE.TEST>"),
    ("upper case own name", "<User@RELAY.TEST>"),
    ("trailing dot", "<user@example.test.>"),
    ("trailing dot own name", "<user@relay.test.>"),
    ("UTF-8 domain", "<user@bücher.example.test>"),
    ("UTF-8 local part", "<ユーザー@example.test>"),
    ("IDN A-label", "<user@xn--bcher-kva.example.test>"),
    ("space after colon", " <user@example.test>"),
    ("own name", "<user@relay.test>"),
    ("postmaster at a domain", "<postmaster@example.test>"),
]

# Not paths at all: refused as syntax errors (RFC 5321 §4.1.2), never as recipients.
MALFORMED_FORMS = [
    ("no angle brackets", "user@example.test"),
    ("two at signs", "<user@example.test@relay.test>"),
    ("empty path", "<>"),
    ("unterminated", "<user@example.test"),
    ("bare source route", "<@relay.test:>"),
    ("bang path, no domain", "<example.test!user>"),
]


def outsider_session(port: int) -> RawSMTP:
    client = RawSMTP(port, source=OUTSIDER)
    assert client.reply()[0] == 220
    assert client.command("EHLO outsider.test")[0] == 250
    return client


def check_forms(port: int, tok: str, expected: tuple[int, str]) -> list[str]:
    """Sends every form in one transaction; returns the failures."""
    failures = []
    with outsider_session(port) as client:
        code, text = client.command(f"MAIL FROM:<spam-{tok}@outsider.test> SMTPUTF8")
        assert code == 250, (code, text)
        for name, path in RELAY_FORMS:
            code, text = client.command(f"RCPT TO:{path}".encode())
            if (code, text.split(" ", 1)[0]) != expected:
                failures.append(f"{name}: RCPT TO:{path} answered {code} {text}")
        for name, path in MALFORMED_FORMS:
            code, text = client.command(f"RCPT TO:{path}".encode())
            if (code, text.split(" ", 1)[0]) != (501, "5.1.3"):
                failures.append(f"{name}: RCPT TO:{path} answered {code} {text}")
        code, text = client.command("DATA")
        if code != 554:
            failures.append(f"DATA after refused recipients answered {code} {text}")
    return failures


def deliver_control(relay, receiver, tok: str) -> str:
    control = f"control-{tok}@example.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        assert smtp.sendmail(f"ok-{tok}@origin.test", [control],
                             make_message(f"ok-{tok}@origin.test", [control], "control", "control\n")) == {}
    wait_for_event(relay, "delivered", control)
    wait_for(lambda: receiver.messages_to(control), what="the control message at the receiver")
    return control


def test_tricky_recipients_from_an_outsider_are_all_refused(relay, receiver):
    tok = token()
    failures = check_forms(relay.relay_port, tok, (550, "5.7.1"))
    failures += [f"submission: {f}" for f in check_forms(relay.submission_port, tok, (530, "5.7.0"))]
    assert not failures, "\n".join(failures)

    # Pipelined, as a spammer would: the message text after the refused DATA is read as
    # (bad) commands, and nothing is queued.
    with outsider_session(relay.relay_port) as client:
        message = make_message(f"spam-{tok}@outsider.test", [f"victim-{tok}@example.test"], "spam",
                               f"MAIL FROM:<x-{tok}@outsider.test>\nRCPT TO:<victim2-{tok}@example.test>\nDATA\n")
        client.send(f"MAIL FROM:<spam-{tok}@outsider.test>\r\nRCPT TO:<victim-{tok}@example.test>\r\nDATA\r\n".encode()
                    + message + b".\r\nQUIT\r\n")
        replies = []
        try:
            while True:
                replies.append(client.reply())
                if replies[-1][0] in (221, 421):
                    break
        except ConnectionError:
            pass
        assert [code for code, _ in replies[:3]] == [250, 550, 554], replies
        assert not [r for r in replies if r[0] in (250, 354) and r is not replies[0]], replies
        assert not [r for r in replies if "queued" in r[1]], replies

    assert relay.events() == []
    control = deliver_control(relay, receiver, tok)
    assert [m["rcpt_tos"] for m in receiver.messages()] == [[control]]
    assert [e["recipients"] for e in relay.events() if e["event"] == "accepted"] == [[control]]


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_auth_before_tls_and_wrong_passwords_are_refused(relay, receiver):
    tok = token()
    for port in (relay.relay_port, relay.submission_port):
        # Before TLS, AUTH is not offered, and even the right password is refused with
        # 538 5.7.11 (RFC 4954 §4, §6): it must not cross the network in clear text.
        with outsider_session(port) as client:
            code, text = client.command("EHLO outsider.test")
            assert code == 250 and "AUTH" not in text.upper().split(), text
            for command in (f"AUTH PLAIN {plain(AUTH_USER, AUTH_PASSWORD)}", "AUTH LOGIN", "AUTH PLAIN"):
                code, text = client.command(command)
                assert (code, text.split(" ", 1)[0]) == (538, "5.7.11"), (command, code, text)
            assert client.command(f"MAIL FROM:<spam-{tok}@outsider.test>")[0] == 250
            code, text = client.command(f"RCPT TO:<victim-{tok}@example.test>")
            assert code in (550, 530) and text.split(" ", 1)[0] in ("5.7.1", "5.7.0"), (code, text)

        # After STARTTLS, a wrong password gets 535 5.7.8 and relaying stays refused.
        with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(OUTSIDER, 0)) as smtp:
            smtp.ehlo("outsider.test")
            assert smtp.starttls(context=insecure_tls_context())[0] == 220
            smtp.ehlo("outsider.test")
            code, reply = smtp.docmd("AUTH", "PLAIN " + plain(AUTH_USER, "wrong-" + AUTH_PASSWORD))
            assert (code, reply.split(b" ", 1)[0]) == (535, b"5.7.8"), (code, reply)
            code, reply = smtp.docmd("AUTH", "LOGIN " + base64.b64encode(b"nobody").decode())
            assert code == 334, (code, reply)
            code, reply = smtp.docmd(base64.b64encode(AUTH_PASSWORD.encode()).decode())
            assert (code, reply.split(b" ", 1)[0]) == (535, b"5.7.8"), (code, reply)
            code, reply = smtp.mail(f"spam-{tok}@outsider.test")
            if code == 250:
                code, reply = smtp.rcpt(f"victim-{tok}@example.test")
            assert code in (550, 530), (code, reply)

    assert relay.events() == []
    control = deliver_control(relay, receiver, tok)
    assert [m["rcpt_tos"] for m in receiver.messages()] == [[control]]
