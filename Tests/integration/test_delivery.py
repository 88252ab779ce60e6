"""Mail in through the relay listener, out to the receiver: bytes, events, outcomes."""

import base64
import hashlib
import random
import smtplib
import subprocess

from hikyaku_testsupport.events import events_of_kind, wait_for_event
from hikyaku_testsupport.smtp import insecure_tls_context, make_message, queue_id_from, strip_relay_additions, token
from hikyaku_testsupport.waiting import wait_for
from hikyaku_testsupport.world import AUTH_PASSWORD, AUTH_USER


def tricky_body(tok: str) -> bytes:
    """Lines that an SMTP hop can easily damage: dots, blanks, whitespace, long lines."""
    lines = [
        f"Hello {tok},",
        "",
        ".a line starting with a dot",
        "..two dots",
        ".",
        "...",
        " . space dot",
        "trailing spaces   ",
        "\ttab at start and end\t",
        "",
        "",
        "From the beginning of a line (mbox would mangle this)",
        "CR-LF-dot sequence in the middle: a.b",
        "x" * 990,
        "-- ",
        "signature",
        "",
        "last line",
    ]
    return "\r\n".join(lines).encode()


def test_swaks_relay_delivers_byte_identical_with_events(relay, receiver, tmp_path):
    tok = token()
    sender = f"sender-{tok}@origin.test"
    rcpt = f"alice-{tok}@example.test"
    headers = (f"From: Sender <{sender}>\r\nTo: <{rcpt}>\r\nSubject: swaks relay test {tok}\r\n"
               f" folded subject continuation\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
               f"X-Test-Token: {tok}\r\n\r\n").encode()
    # No Message-ID: the relay must add one. swaks sends the file and then CRLF . CRLF, so
    # the message as sent is the file plus one CRLF.
    file_bytes = headers + tricky_body(tok)
    message_file = tmp_path / "message.eml"
    message_file.write_bytes(file_bytes)
    sent = file_bytes + b"\r\n"

    result = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(relay.relay_port), "--helo", "client.test",
         "--from", sender, "--to", rcpt, "--data", f"@{message_file}", "--timeout", "30"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"swaks failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    queue_id = queue_id_from(result.stdout)
    assert "250 2.0.0 Ok: queued as" in result.stdout, result.stdout

    [message] = wait_for(lambda: receiver.messages_to(rcpt), what=f"the receiver to get the message for {rcpt}")
    assert message["mail_from"] == sender
    assert message["rcpt_tos"] == [rcpt]
    assert message["peer"][0] == "127.0.0.1"

    rest, received_field, added_id = strip_relay_additions(message["data"], sent)
    assert rest == sent, "message altered in transit (compare the bytes after the relay's header fields)"
    body_sent = sent.split(b"\r\n\r\n", 1)[1]
    body_received = message["data"].split(b"\r\n\r\n", 1)[1]
    assert body_received == body_sent, "body is not byte-identical"
    assert b"relay.test" in received_field, f"Received field does not name the relay: {received_field!r}"
    assert added_id and added_id.startswith("<") and added_id.endswith(">") and "@" in added_id, added_id

    events = wait_for_event(relay, "delivered", rcpt)
    kinds = [e["event"] for e in events]
    assert "accepted" in kinds, f"no accepted event for {rcpt}: {events}"
    assert kinds.index("accepted") < kinds.index("delivered"), f"events out of order: {kinds}"
    [accepted] = events_of_kind(events, "accepted")
    [delivered] = events_of_kind(events, "delivered", rcpt)
    assert accepted["queue_id"] == queue_id
    assert rcpt in accepted["recipients"]
    assert accepted["sender"] == sender
    assert delivered["queue_id"] == queue_id
    assert delivered["sender"] == sender
    assert delivered["domain"] == "example.test"
    assert (delivered.get("remote_host") or "").rstrip(".") == "mx.example.test", delivered
    assert delivered.get("remote_ip") == "127.0.0.1", delivered
    assert (delivered.get("reply") or "").startswith("250"), delivered
    assert delivered.get("attempt") == 1, delivered
    for event in (accepted, delivered):
        assert (event.get("message_id") or "").strip("<>") == added_id.strip("<>"), event
    # Events are looked up by Message-ID and by queue id too.
    assert any(e["event"] == "delivered" for e in relay.events(message_id=added_id))
    assert any(e["event"] == "delivered" for e in relay.events(message_id=queue_id))


def test_rejected_recipient_bounces_and_good_one_is_delivered(relay, receiver):
    tok = token()
    sender = f"sender-{tok}@origin.test"
    good = f"good-{tok}@example.test"
    bad = f"reject-{tok}@example.test"
    message = make_message(sender, [good, bad], f"mixed {tok}", f"body {tok}\n", f"<mixed-{tok}@client.test>")
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        refused = smtp.sendmail(sender, [good, bad], message)
    assert refused == {}, "the relay itself must accept both recipients (it does not verify them)"

    wait_for_event(relay, "delivered", good)
    bad_events = wait_for_event(relay, "bounced", bad)

    [bounced] = events_of_kind(bad_events, "bounced", bad)
    assert "550 5.1.1" in bounced.get("reply", ""), bounced
    assert "No such user" in bounced.get("reply", ""), bounced
    # Classified from the enhanced status code (README "Bounce classification").
    assert bounced.get("bounce_class") == "invalid_recipient" and bounced.get("bounce_type") == "hard", bounced
    assert (bounced.get("remote_host") or "").rstrip(".") == "mx.example.test", bounced
    assert not events_of_kind(bad_events, "delivered", bad), bad_events
    assert not events_of_kind(bad_events, "deferred", bad), f"a 5xx must not be retried: {bad_events}"

    good_events = relay.events(recipient=good)
    assert len(events_of_kind(good_events, "delivered", good)) == 1, good_events
    assert events_of_kind(good_events, "delivered", good)[0]["queue_id"] == bounced["queue_id"]

    copies = receiver.messages_with(f"<mixed-{tok}@client.test>".encode())
    assert len(copies) == 1, copies
    assert copies[0]["rcpt_tos"] == [good]


def test_greylisted_recipient_is_deferred_then_delivered(relay, receiver):
    tok = token()
    sender = f"sender-{tok}@origin.test"
    rcpt = f"grey-{tok}@example.test"
    message = make_message(sender, [rcpt], f"grey {tok}", f"body {tok}\n", f"<grey-{tok}@client.test>")
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        assert smtp.sendmail(sender, [rcpt], message) == {}

    events = wait_for_event(relay, "delivered", rcpt)
    kinds = [e["event"] for e in events if e["event"] != "accepted"]
    assert kinds == ["deferred", "delivered"], f"expected deferred then delivered, got {kinds}: {events}"
    [deferred] = events_of_kind(events, "deferred", rcpt)
    [delivered] = events_of_kind(events, "delivered", rcpt)
    assert deferred.get("reply", "").startswith("451"), deferred
    assert "4.7.1" in deferred.get("reply", ""), deferred
    assert deferred.get("bounce_class") == "throttled" and deferred.get("bounce_type") == "soft", deferred
    assert "bounce_class" not in delivered, delivered
    assert deferred.get("attempt") == 1, deferred
    assert deferred.get("next_attempt_at"), f"deferred event without next_attempt_at: {deferred}"
    assert delivered.get("attempt") == 2, delivered
    assert len(receiver.messages_to(rcpt)) == 1


def big_message(sender: str, rcpt: str, tok: str, size: int) -> bytes:
    """A deterministic ~size-byte message: base64 lines, some of them starting with dots."""
    rng = random.Random(tok)
    lines = []
    total = 0
    index = 0
    while total < size:
        if index % 997 == 0:
            line = b"."
        elif index % 499 == 0:
            line = b".." + base64.b64encode(rng.randbytes(45))
        else:
            line = base64.b64encode(rng.randbytes(57))
        lines.append(line)
        total += len(line) + 2
        index += 1
    body = b"\r\n".join(lines) + b"\r\n"
    return make_message(sender, [rcpt], f"big {tok}", body, f"<big-{tok}@client.test>")


def test_five_megabyte_message_arrives_byte_identical(relay, receiver):
    tok = token()
    sender = f"sender-{tok}@origin.test"
    rcpt = f"big-{tok}@example.test"
    message = big_message(sender, rcpt, tok, 5 * 1024 * 1024)
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=60) as smtp:
        smtp.ehlo("client.test")
        code, reply = smtp.mail(sender, [f"SIZE={len(message)}"] if smtp.has_extn("size") else [])
        assert code == 250, reply
        code, reply = smtp.rcpt(rcpt)
        assert code == 250, reply
        code, reply = smtp.data(message)  # smtplib dot-stuffs; the message already uses CRLF
        assert code == 250, reply
    queue_id_from(reply)

    [received] = wait_for(lambda: receiver.messages_to(rcpt), timeout=60, what="the 5 MB message at the receiver")
    rest, _, added_id = strip_relay_additions(received["data"], message)
    assert added_id is None
    if rest != message:
        first = next(i for i, (a, b) in enumerate(zip(rest, message)) if a != b) if len(rest) == len(message) else None
        raise AssertionError(
            f"5 MB message altered: sent {len(message)} bytes (sha256 {hashlib.sha256(message).hexdigest()[:16]}), "
            f"got {len(rest)} after the relay's fields (sha256 {hashlib.sha256(rest).hexdigest()[:16]}); "
            f"first difference at {first}")
    wait_for_event(relay, "delivered", rcpt)


def test_submission_starttls_auth_plain_delivers(relay, receiver):
    tok = token()
    sender = f"app-{tok}@origin.test"
    rcpt = f"dana-{tok}@static.test"   # static route, not in DNS
    message = make_message(sender, [rcpt], f"submission {tok}", f"body {tok}\n", f"<sub-{tok}@client.test>")
    with smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        assert smtp.has_extn("starttls"), smtp.esmtp_features
        code, reply = smtp.starttls(context=insecure_tls_context())
        assert code == 220, reply
        smtp.ehlo("client.test")
        assert "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split(), smtp.esmtp_features
        smtp.user, smtp.password = AUTH_USER, AUTH_PASSWORD
        code, reply = smtp.auth("PLAIN", smtp.auth_plain)
        assert code == 235, reply
        code, reply = smtp.mail(sender)
        assert code == 250, reply
        code, reply = smtp.rcpt(rcpt)
        assert code == 250, reply
        code, reply = smtp.data(message)
        assert code == 250, reply
    queue_id = queue_id_from(reply)

    [received] = wait_for(lambda: receiver.messages_to(rcpt), what=f"the receiver to get the message for {rcpt}")
    rest, _, _ = strip_relay_additions(received["data"], message)
    assert rest == message
    assert received["tls"] is True, "the relay did not use STARTTLS offered by the receiver (opportunistic TLS)"
    events = wait_for_event(relay, "delivered", rcpt)
    [delivered] = events_of_kind(events, "delivered", rcpt)
    assert delivered["queue_id"] == queue_id
    assert delivered.get("remote_ip") == "127.0.0.1", delivered
    assert (delivered.get("reply") or "").startswith("250"), delivered
