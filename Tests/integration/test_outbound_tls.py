"""Outbound TLS (issue 10, item 9): what the relay does with a receiver's STARTTLS, MTA-STS
policies (RFC 8461) and DANE TLSA records (RFC 7672), against real local peers."""

from __future__ import annotations

import smtplib

import pytest

from conftest import events_of_kind, make_message, token, wait_for, wait_for_event
from tls_peers import ScriptedSMTPServer, LocalCA


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return LocalCA(tmp_path_factory.mktemp("ca"))


def first_outcome(relay, rcpt: str) -> list[dict]:
    """Waits for the first delivered, deferred or bounced event of ``rcpt``; returns its events."""
    def check():
        events = relay.events(recipient=rcpt)
        return events if any(e.get("event") in ("delivered", "deferred", "bounced") for e in events) else None
    return wait_for(check, what=f"an outcome for {rcpt}")


def submit(relay, sender: str, recipient: str, subject: str):
    message = make_message(sender, [recipient], subject, f"{subject}\n")
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.sendmail(sender, [recipient], message)


# --------------------------------------------------------------------------- STARTTLS injection

def test_reply_injected_before_the_tls_handshake_is_not_taken_for_an_answer(make_relay, test_ca):
    """RFC 3207 §4.2: a server that answers STARTTLS with ``220`` and, in the same write, a
    forged ``550`` must not have that 550 read as the answer to the first command sent
    over TLS. Before the fix every later reply was shifted by one: the reply to RCPT
    was taken as the answer to DATA, so the message was recorded as delivered although
    the server never got it. Now the connection is dropped and the recipient deferred."""
    cert, key = test_ca.issue("inject.test")
    hostile = ScriptedSMTPServer(cert, key, after_starttls=b"220 2.0.0 go ahead\r\n550 5.1.1 no\r\n").start()
    try:
        relay = make_relay("all", {"delivery": {"routes": {"inject.test": f"127.0.0.1:{hostile.port}"}}})
        tok = token()
        rcpt = f"victim-{tok}@inject.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"injection {tok}")
        events = first_outcome(relay, rcpt)
        assert not events_of_kind(events, "delivered", rcpt), f"recorded as delivered: {events}"
        deferred = events_of_kind(events, "deferred", rcpt)[0]
        assert deferred["reply"].startswith("451 4."), deferred
        assert "STARTTLS" in deferred["reply"], deferred
        assert hostile.messages == [], "no message may be sent on a connection that was tampered with"
    finally:
        hostile.stop()


def test_clean_starttls_still_delivers(make_relay, test_ca):
    """The same server without the injected reply: delivered over TLS (the check refuses
    only bytes that arrive before the handshake)."""
    cert, key = test_ca.issue("clean.test")
    server = ScriptedSMTPServer(cert, key).start()
    try:
        relay = make_relay("all", {"delivery": {"routes": {"clean.test": f"127.0.0.1:{server.port}"}}})
        tok = token()
        rcpt = f"user-{tok}@clean.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"clean {tok}")
        wait_for_event(relay, "delivered", rcpt)
        assert server.tls_sessions >= 1
        assert any(f"clean {tok}".encode() in m for m in server.messages)
    finally:
        server.stop()
