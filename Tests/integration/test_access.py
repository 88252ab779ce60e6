"""Who may send: allow-listed networks, SMTP AUTH after STARTTLS, and nobody else."""

import base64
import re
import smtplib
import subprocess

from hikyaku_testsupport.events import wait_for_event
from hikyaku_testsupport.smtp import insecure_tls_context, make_message, token
from hikyaku_testsupport.waiting import wait_for
from hikyaku_testsupport.world import AUTH_PASSWORD, AUTH_USER


def plain_credentials(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def tls_session(relay) -> smtplib.SMTP:
    smtp = smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30)
    smtp.ehlo("client.test")
    code, reply = smtp.starttls(context=insecure_tls_context())
    assert code == 220, (code, reply)
    smtp.ehlo("client.test")
    return smtp


def test_submission_wrong_password_gets_535(relay, receiver):
    # One failure per connection, so a limit on failed attempts per session cannot interfere.
    with tls_session(relay) as smtp:
        code, reply = smtp.docmd("AUTH", "PLAIN " + plain_credentials(AUTH_USER, "wrong-" + AUTH_PASSWORD))
        assert code == 535, (code, reply)
        # Still not authenticated: the transaction is refused.
        code, reply = smtp.mail("x@origin.test")
        if code == 250:
            code, reply = smtp.rcpt(f"victim-{token()}@example.test")
        assert code == 530, (code, reply)
        assert b"5.7.0" in reply, reply
    with tls_session(relay) as smtp:
        code, reply = smtp.docmd("AUTH", "LOGIN " + base64.b64encode(AUTH_USER.encode()).decode())
        assert code == 334, (code, reply)
        code, reply = smtp.docmd(base64.b64encode(b"not-the-password").decode())
        assert code == 535, (code, reply)
    with tls_session(relay) as smtp:
        # An unknown user is refused the same way.
        code, reply = smtp.docmd("AUTH", "PLAIN " + plain_credentials("nobody", AUTH_PASSWORD))
        assert code == 535, (code, reply)
    assert relay.events() == []


def test_submission_auth_before_starttls_is_refused(relay, receiver):
    with smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        assert smtp.has_extn("starttls"), smtp.esmtp_features
        assert not smtp.has_extn("auth"), f"AUTH advertised before TLS: {smtp.esmtp_features}"
        code, reply = smtp.docmd("AUTH", "PLAIN " + plain_credentials(AUTH_USER, AUTH_PASSWORD))
        assert 500 <= code < 600 and code != 535, (code, reply)
        print(f"AUTH before STARTTLS answered: {code} {reply.decode(errors='replace')}")
        code, reply = smtp.mail("x@origin.test")
        if code == 250:
            code, reply = smtp.rcpt(f"victim-{token()}@example.test")
        assert code == 530, (code, reply)
    assert relay.events() == []


def test_submission_auth_login_after_starttls_succeeds(relay, receiver):
    with tls_session(relay) as smtp:
        assert "LOGIN" in smtp.esmtp_features.get("auth", "").upper().split(), smtp.esmtp_features
        smtp.user, smtp.password = AUTH_USER, AUTH_PASSWORD
        code, reply = smtp.auth("LOGIN", smtp.auth_login)
        assert code == 235, (code, reply)
        code, reply = smtp.mail("x@origin.test")
        assert code == 250, (code, reply)
        code, reply = smtp.rcpt(f"someone-{token()}@example.test")
        assert code == 250, (code, reply)


def test_unlisted_client_cannot_relay(relay, receiver):
    tok = token()
    victim = f"victim-{tok}@example.test"

    # swaks from 127.0.0.2 to the relay listener: refused at RCPT.
    result = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(relay.relay_port), "--local-interface", "127.0.0.2",
         "--helo", "outsider.test", "--from", f"spam-{tok}@outsider.test", "--to", victim, "--timeout", "30"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, f"swaks relayed from an unlisted address:\n{result.stdout}"
    assert re.search(r"-> RCPT TO:<" + re.escape(victim) + r">\n<\*\* +550 5\.7\.1", result.stdout), result.stdout
    assert "<-  354" not in result.stdout, result.stdout

    # smtplib from 127.0.0.2 to the relay listener: 550 5.7.1 at RCPT, no DATA.
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30, source_address=("127.0.0.2", 0)) as smtp:
        smtp.ehlo("outsider.test")
        code, reply = smtp.mail(f"spam-{tok}@outsider.test")
        assert code == 250, (code, reply)
        code, reply = smtp.rcpt(victim)
        assert code == 550, (code, reply)
        assert reply.startswith(b"5.7.1"), reply
        code, reply = smtp.docmd("DATA")
        assert code != 354, f"DATA accepted without a recipient: {code} {reply!r}"

    # smtplib from 127.0.0.2 to the submission listener: 530 5.7.0.
    with smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30, source_address=("127.0.0.2", 0)) as smtp:
        smtp.ehlo("outsider.test")
        code, reply = smtp.mail(f"spam-{tok}@outsider.test")
        if code == 250:
            code, reply = smtp.rcpt(victim)
        assert code == 530, (code, reply)
        assert reply.startswith(b"5.7.0"), reply
        code, reply = smtp.docmd("DATA")
        assert code != 354, f"DATA accepted without AUTH: {code} {reply!r}"

    # Nothing was accepted.
    assert relay.events() == []

    # A positive control from the allow-listed address goes through; once it has arrived,
    # the receiver holds nothing else.
    control = f"control-{tok}@example.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        assert smtp.sendmail(f"ok-{tok}@origin.test", [control],
                             make_message(f"ok-{tok}@origin.test", [control], "control", "control\n")) == {}
    wait_for_event(relay, "delivered", control)
    wait_for(lambda: receiver.messages_to(control), what="the control message at the receiver")
    assert [m["rcpt_tos"] for m in receiver.messages()] == [[control]]
    assert not [e for e in relay.events() if e["event"] == "accepted" and victim in e.get("recipients", [])]


def test_submission_requires_auth_even_from_allow_listed_network(relay, receiver):
    with smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30, source_address=("127.0.0.1", 0)) as smtp:
        smtp.ehlo("client.test")
        code, reply = smtp.mail("x@origin.test")
        if code == 250:
            code, reply = smtp.rcpt(f"someone-{token()}@example.test")
        assert code == 530, (code, reply)
