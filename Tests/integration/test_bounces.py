"""Asynchronous bounces and complaints end to end (issue 13): an account with a VERP
return-path domain sends through the relay to the recording receiver; the remote side
then reports back the way real MTAs do — it looks up the MX of the return-path domain
in DNS (dnsmasq: mx.bounces.example.test -> 127.0.0.1) and hands an RFC 3464 DSN or an
RFC 5965 ARF report to the bounce listener (`serve --role bounce`) over SMTP with
Python's smtplib. What comes out is checked with the real `hikyaku` commands: the
`bounced` / `complaint` events, the suppression, the refusal of the next message at
RCPT, the complaint-rate pause; and what must never be accepted (forged tokens, unknown
addresses) gets 550 at RCPT, so the listener never bounces anything itself.
"""

from __future__ import annotations

import json
import time
import smtplib
import subprocess
from email.utils import formatdate, make_msgid

import dns.resolver
import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.ports import free_port
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for
from hikyaku_testsupport.world import RETURN_PATH_DOMAIN

ACCOUNT_IP = "127.0.0.9"
FBL_ADDRESS = f"fbl@{RETURN_PATH_DOMAIN}"


def hikyaku(relay, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment())
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {out.returncode}: {out.stdout}{out.stderr}")
    return out


def events(relay, account: str) -> list[dict]:
    out = hikyaku(relay, "events", "tail", "--account", account)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


@pytest.fixture
def bounce_relay(make_relay, tmp_path, dns_server):
    """One relay (every role, the bounce listener included) with a key file, and an
    account `acme` whose return path is b-<token>@bounces.example.test."""
    key_file = tmp_path / "secrets.key"
    subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], check=True, capture_output=True)
    listener_port = free_port()
    relay = make_relay("all", {
        "accounts": {"refresh_interval": "200ms", "complaint_minimum_deliveries": 2,
                     "complaint_rate_threshold": 0.2},
        "secrets": {"key_file": str(key_file)},
        "bounces": {"listen": f"127.0.0.1:{listener_port}", "fbl_addresses": [FBL_ADDRESS]},
    })
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACCOUNT_IP}/32", "--domain", "acme.example",
            "--return-path-domain", RETURN_PATH_DOMAIN)
    wait_for(lambda: "loaded 1 account(s)" in relay.process.log_text(), what="the relay to load the account")
    relay.bounce_port = listener_port
    return relay


def send(relay, recipients: list[str], subject: str = "hello") -> str:
    """Sends as acme (by its network); returns the 250 reply's queue id."""
    with smtplib.SMTP("127.0.0.1", relay.relay_port, source_address=(ACCOUNT_IP, 0), timeout=20) as client:
        client.ehlo("app.acme.example")
        client.mail("news@acme.example")
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            assert code == 250, (recipient, code, reply)
        code, reply = client.data(make_message("news@acme.example", recipients, subject, "Hello.\r\n"))
        assert code == 250, reply
        return reply.decode().split()[-1]


def return_path_mx(dns_server) -> str:
    """What a remote MTA does: the MX of the return-path domain, then its address."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = dns_server.port
    mx = sorted(resolver.resolve(RETURN_PATH_DOMAIN, "MX"), key=lambda r: r.preference)[0].exchange.to_text()
    return resolver.resolve(mx, "A")[0].to_text()


def hand_over(relay, dns_server, mail_from: str, rcpt: str, message: bytes) -> tuple[int, bytes]:
    """Sends `message` to the bounce listener as the remote MTA would; (code, reply) of RCPT,
    or of the final dot when RCPT was accepted."""
    with smtplib.SMTP(return_path_mx(dns_server), relay.bounce_port, timeout=20) as client:
        client.ehlo("mx.example.test")
        client.mail(mail_from)
        code, reply = client.rcpt(rcpt)
        if code != 250:
            return code, reply
        return client.data(message)


def dsn(return_path: str, recipient: str, original: bytes, status: str = "5.1.1",
        diagnostic: str = "550 5.1.1 The email account that you tried to reach does not exist.") -> bytes:
    """An RFC 3464 DSN as Postfix sends it (multipart/report, message/delivery-status,
    text/rfc822-headers)."""
    raw = (f"From: MAILER-DAEMON@mx.example.test (Mail Delivery System)\r\nTo: {return_path}\r\n"
           f"Subject: Undelivered Mail Returned to Sender\r\nDate: {formatdate()}\r\n"
           f"Message-ID: {make_msgid(domain='mx.example.test')}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
           f"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered to {recipient}.\r\n"
           f"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
           f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
           f"Remote-MTA: dns; mx.example.test\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n"
           f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n").encode()
    return raw + original.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n--b1--\r\n"


def arf(original: bytes, redacted_recipient: bool) -> bytes:
    """An RFC 5965 feedback report shaped like Microsoft JMRP's (recipient redacted)."""
    rcpt = "Original-Rcpt-To: redacted@hotmail.example\r\n" if redacted_recipient else ""
    return ("From: staff@hotmail.example\r\nTo: " + FBL_ADDRESS + "\r\nSubject: complaint about message\r\n"
            f"Date: {formatdate()}\r\nMessage-ID: {make_msgid(domain='hotmail.example')}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=feedback-report; boundary=\"fb\"\r\n\r\n"
            "--fb\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
            "--fb\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: JMRP/1.0\r\n"
            f"Version: 1\r\n{rcpt}Source-IP: 127.0.0.1\r\n\r\n"
            "--fb\r\nContent-Type: message/rfc822\r\n\r\n").encode() + original + b"\r\n--fb--\r\n"


def test_a_late_dsn_becomes_an_async_bounce_that_suppresses_the_address(bounce_relay, receiver, dns_server):
    relay = bounce_relay
    tok = token()
    gone, fine = f"gone-{tok}@example.test", f"fine-{tok}@example.test"
    queue_id = send(relay, [gone, fine])
    # VERP: one transaction per recipient, each with its own return path.
    wait_for(lambda: len(receiver.messages_with(tok.encode())) == 2, what="both copies at the receiver")
    copies = {m["rcpt_tos"][0]: m for m in receiver.messages_with(tok.encode())}
    return_path = copies[gone]["mail_from"]
    assert return_path.startswith("b-") and return_path.endswith("@" + RETURN_PATH_DOMAIN), return_path
    assert copies[fine]["mail_from"] != return_path

    code, reply = hand_over(relay, dns_server, "", return_path, dsn(return_path, gone, copies[gone]["data"]))
    assert code == 250, reply

    def bounced():
        return [e for e in events(relay, "acme") if e["event"] == "bounced" and e.get("async")]
    found = wait_for(bounced, what="the asynchronous bounced event")
    assert len(found) == 1
    event = found[0]
    assert event["recipient"] == gone and event["queue_id"] == queue_id
    assert event["bounce_class"] == "invalid_recipient" and event["bounce_type"] == "hard"
    assert "5.1.1" in event["reply"]

    listed = hikyaku(relay, "suppression", "list", "--account", "acme").stdout
    assert gone in listed and "hard_bounce" in listed and fine not in listed

    # The next message to that address is refused at RCPT, with the reason.
    with smtplib.SMTP("127.0.0.1", relay.relay_port, source_address=(ACCOUNT_IP, 0), timeout=20) as client:
        client.ehlo("app.acme.example")
        client.mail("news@acme.example")
        code, reply = client.rcpt(gone)
        assert code == 550 and b"suppressed" in reply and b"hard_bounce" in reply, reply
        assert client.rcpt(fine)[0] == 250


def test_a_feedback_loop_report_is_a_complaint_that_suppresses_and_pauses(bounce_relay, receiver, dns_server):
    relay = bounce_relay
    tok = token()
    first, second = f"reader-{tok}@example.test", f"other-{tok}@example.test"
    queue_id = send(relay, [first], "one")
    send(relay, [second], "two")
    wait_for(lambda: len(receiver.messages_with(tok.encode())) == 2, what="both messages at the receiver")
    delivered = lambda: sum(1 for e in events(relay, "acme") if e["event"] == "delivered")  # noqa: E731
    wait_for(lambda: delivered() == 2, what="two delivered events")
    original = receiver.messages_to(first)[0]["data"]

    # Microsoft-style: sent to the feedback-loop address, recipient redacted; the relay
    # matches its own queue id in the enclosed headers.
    code, reply = hand_over(relay, dns_server, "staff@hotmail.example", FBL_ADDRESS, arf(original, True))
    assert code == 250, reply
    complaints = wait_for(lambda: [e for e in events(relay, "acme") if e["event"] == "complaint"],
                          what="the complaint event")
    assert complaints[0]["queue_id"] == queue_id and complaints[0]["recipient"] == first
    assert first in hikyaku(relay, "suppression", "list", "--account", "acme").stdout
    # 1 complaint for 2 deliveries is over the (test's) 20% line: the account is paused.
    paused = wait_for(lambda: [e for e in events(relay, "acme") if e["event"] == "paused"], what="the paused event")
    assert "complaint" in paused[0]["reply"]
    assert "paused" in hikyaku(relay, "account", "show", "acme").stdout.lower()
    # The same report again (a duplicate, or a forgery by someone who got the message):
    # counted once per message and recipient.
    code, _ = hand_over(relay, dns_server, "staff@hotmail.example", FBL_ADDRESS, arf(original, True))
    assert code == 250
    wait_for(lambda: "repeated complaint" in relay.process.log_text(), what="the listener to ignore the repeat")
    assert len([e for e in events(relay, "acme") if e["event"] == "complaint"]) == 1


def test_only_return_paths_postmaster_abuse_and_feedback_addresses_are_accepted(bounce_relay, receiver, dns_server):
    relay = bounce_relay
    tok = token()
    send(relay, [f"x-{tok}@example.test"])
    wait_for(lambda: receiver.messages_with(tok.encode()), what="the message at the receiver")
    return_path = receiver.messages_with(tok.encode())[0]["mail_from"]
    local, domain = return_path.split("@")
    # One character changed anywhere in the token: the MAC does not verify.
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    note = make_message("someone@elsewhere.example", [forged], "hi", "hello\r\n")
    for rcpt in (forged, f"b-{'a' * 40}@{domain}", f"info@{domain}", f"someone@{domain}"):
        code, reply = hand_over(relay, dns_server, "someone@elsewhere.example", rcpt, note)
        assert code == 550 and reply.startswith(b"5.1.1"), (rcpt, code, reply)
    # The token is case-insensitive (some MTAs lower- or upper-case the local part).
    code, _ = hand_over(relay, dns_server, "", local.upper() + "@" + domain,
                        make_message("MAILER-DAEMON@x.example", [return_path], "auto", "not a report\r\n"))
    assert code == 250
    for rcpt in (f"postmaster@{domain}", f"abuse@{domain}", FBL_ADDRESS):
        code, reply = hand_over(relay, dns_server, "someone@elsewhere.example", rcpt, note)
        assert code == 250, (rcpt, reply)
    # A DSN to postmaster naming the message's queue id (which every copy's headers show)
    # is not trusted with a recipient's fate: only a verified token is.
    victim = f"x-{tok}@example.test"  # the message's real recipient
    original = receiver.messages_with(tok.encode())[0]["data"]
    code, _ = hand_over(relay, dns_server, "", f"postmaster@{domain}", dsn(f"postmaster@{domain}", victim, original))
    assert code == 250
    wait_for(lambda: "without a return-path token" in relay.process.log_text(), what="the untrusted bounce to be logged")
    assert not [e for e in events(relay, "acme")
                if e["event"] == "bounced" and e.get("recipient") == victim and e.get("bounce_class") == "invalid_recipient"]
    assert victim not in hikyaku(relay, "suppression", "list", "--account", "acme").stdout
    # Nothing the listener accepted or refused caused mail to be sent anywhere (no backscatter).
    assert not receiver.messages_to("someone@elsewhere.example")
    assert "postmaster" in relay.process.log_text()


def test_an_auto_reply_to_the_return_path_is_ignored(bounce_relay, receiver, dns_server):
    relay = bounce_relay
    tok = token()
    rcpt = f"away-{tok}@example.test"
    send(relay, [rcpt])
    wait_for(lambda: receiver.messages_with(tok.encode()), what="the message at the receiver")
    return_path = receiver.messages_with(tok.encode())[0]["mail_from"]
    vacation = make_message(rcpt, [return_path], "Out of office", "I am away until Monday.\r\n",
                            extra_headers=["Auto-Submitted: auto-replied"])
    code, _ = hand_over(relay, dns_server, "", return_path, vacation)
    assert code == 250
    wait_for(lambda: "auto_reply" in relay.process.log_text() or "auto-reply" in relay.process.log_text(),
             what="the listener to note the auto-reply")
    assert not [e for e in events(relay, "acme") if e["event"] in ("bounced", "complaint") and e.get("async")]
    assert rcpt not in hikyaku(relay, "suppression", "list", "--account", "acme").stdout


def test_a_send_dsns_account_gets_an_rfc3464_report_that_email_and_flufl_bounce_read(make_relay, receiver):
    """Item 5: a DSN to the sender, for SMTP mail of an account that asks for them — to its
    own envelope sender only, from <>, with the original header enclosed."""
    import email
    import email.policy

    import flufl.bounce

    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACCOUNT_IP}/32", "--domain", "example.test", "--send-dsns")
    hikyaku(relay, "account", "add", "quiet", "--network", "127.0.0.10/32", "--domain", "k1.test")
    wait_for(lambda: "loaded 2 account(s)" in relay.process.log_text(), what="the relay to load the accounts")
    assert "DSNs to sender   yes" in hikyaku(relay, "account", "show", "acme").stdout
    tok = token()
    sender, gone, fine = f"app-{tok}@example.test", f"reject-{tok}@example.test", f"ok-{tok}@example.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, source_address=(ACCOUNT_IP, 0), timeout=20) as client:
        client.sendmail(sender, [gone, fine], make_message(sender, [gone, fine], f"report {tok}", "Hello.\r\n",
                                                         message_id=f"<orig-{tok}@example.test>"))
    # The same failure for an account without send_dsns gives no report.
    quiet_sender = f"app-{tok}@k1.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, source_address=("127.0.0.10", 0), timeout=20) as client:
        client.sendmail(quiet_sender, [f"reject-q-{tok}@example.test"],
                        make_message(quiet_sender, [f"reject-q-{tok}@example.test"], "quiet", "Hello.\r\n"))

    reports = wait_for(lambda: receiver.messages_to(sender), what="the DSN at the sender's MX")
    assert len(reports) == 1
    report = reports[0]
    assert report["mail_from"] in ("", "<>")  # the null reverse path: a report is never bounced
    parsed = email.message_from_bytes(report["data"], policy=email.policy.compat32)
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "delivery-status"
    status = next(p for p in parsed.walk() if p.get_content_type() == "message/delivery-status")
    blocks = status.get_payload()
    recipients = [b["Final-Recipient"] for b in blocks if b["Final-Recipient"]]
    assert recipients == [f"rfc822; {gone}"], recipients
    assert [b["Action"] for b in blocks if b["Action"]] == ["failed"]
    assert [b["Status"] for b in blocks if b["Status"]] == ["5.1.1"]
    headers = next(p for p in parsed.walk() if p.get_content_type() == "text/rfc822-headers")
    assert f"orig-{tok}@example.test".encode() in headers.get_payload(decode=True)

    temporary, permanent = flufl.bounce.all_failures(email.message_from_bytes(report["data"]))
    assert permanent == {gone.encode()} and not temporary, (temporary, permanent)
    # The synchronous hard bounce (550 5.1.1) put the address on acme's list by itself.
    listed = wait_for(lambda: gone in (out := hikyaku(relay, "suppression", "list", "--account", "acme").stdout) and out,
                      what="the hard-bounced address on acme's suppression list")
    assert "hard_bounce" in listed and fine not in listed
    # Nothing went to the quiet account's sender, nor to the recipient that was delivered.
    time.sleep(2)
    assert not receiver.messages_to(quiet_sender)
    assert len(receiver.messages_to(sender)) == 1


def test_a_huge_or_endless_message_to_the_listener_is_refused_and_the_listener_goes_on(bounce_relay, dns_server):
    """Hostile peers: a message over bounces.max_message_size gets 552 (declared or sent),
    and the listener still answers the next client."""
    relay = bounce_relay
    big = b"Subject: x\r\n\r\n" + (b"y" * 998 + b"\r\n") * (11 * 1024)  # ~11 MiB, over the 10 MiB default
    with smtplib.SMTP(return_path_mx(dns_server), relay.bounce_port, timeout=60) as client:
        client.ehlo("mx.example.test")
        code, _ = client.mail("someone@elsewhere.example", ["SIZE=%d" % len(big)])
        assert code == 552
        client.rset()
        client.mail("someone@elsewhere.example")
        assert client.rcpt(f"postmaster@{RETURN_PATH_DOMAIN}")[0] == 250
        code, reply = client.data(big)
        assert code == 552, reply
    code, _ = hand_over(relay, dns_server, "someone@elsewhere.example", f"postmaster@{RETURN_PATH_DOMAIN}",
                        make_message("someone@elsewhere.example", ["postmaster"], "hi", "hello\r\n"))
    assert code == 250
