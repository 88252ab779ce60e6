"""Greylisting-aware retries (issue 16, item 3): a recipient deferred by the server's reply
is retried from the egress IP that was refused, so a greylisted message needs one retry.

The relay sends from two egress IPs, 127.0.0.2 and 127.0.0.3. The receiver greylists
``k1.test`` as postgrey does, per (source IP, sender, recipient): the first RCPT of a
triple gets ``451 4.7.1 Greylisted``, a retry of the same triple at least
``GREY_SECONDS`` later is accepted, a retry from the other IP starts over (every refusal
is in ``Receiver.refusals()``). Without pinning, half the retries come from the other IP
and need another one.

Fallbacks: the pinned IP suspended (``hikyaku suspend ip``), or gone from the
configuration (the relay restarted without it) — the retry is sent from the other IP.
"""

from __future__ import annotations

import collections
import smtplib
import subprocess

import pytest

from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.receiver import Receiver
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

EGRESS = [{"address": "127.0.0.2", "helo": "a.relay.test"}, {"address": "127.0.0.3", "helo": "b.relay.test"}]
GREY_DOMAIN = "k1.test"
GREY_SECONDS = 1
MESSAGES = 40


@pytest.fixture
def receiver(tmp_path, certs):
    """The conftest receiver, greylisting ``k1.test``."""
    directory = tmp_path / "receiver"
    directory.mkdir()
    server = Receiver(directory, *certs["receiver"], behaviours={GREY_DOMAIN: f"greylist:{GREY_SECONDS}"})
    server.start()
    yield server
    server.stop()


def overrides(schedule: str = "2s", egress: list[dict] = EGRESS, layout: str = "one-prefix") -> dict:
    # The retry comes a little after the greylisting delay, with no jitter: one retry
    # from the right IP passes. A long claim timeout: a pin is also bounded by it (the
    # takeover of entries parked for an IP), and the fallbacks must not rely on that.
    # "limits-apart": the limit keys under a prefix of their own, so the claim is split
    # into limits, entries and refund steps and learns the parked entries from hk_next.
    # Small batches: a full batch starts another delivery loop, which picks its own IP, so
    # first attempts come from both IPs however fast the 40 messages arrive (with one big
    # batch on a connection kept open, every first attempt could come from one IP).
    config = {"delivery": {"egress": egress, "retry_schedule": [schedule], "retry_jitter": 0, "claim_timeout": "60s",
                           "batch_size": 4}}
    if layout == "limits-apart":
        config["redis"] = {"limits_key_prefix": "hkl:"}
    return config


LAYOUTS = pytest.mark.parametrize("layout", ["one-prefix", "limits-apart"])


def send(relay, rcpts: list[str], tok: str):
    sender = f"sender-{tok}@origin.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        for i, rcpt in enumerate(rcpts):
            message = make_message(sender, [rcpt], f"grey {tok} {i}", f"body {tok}\n", f"<grey-{tok}-{i}@client.test>")
            assert smtp.sendmail(sender, [rcpt], message) == {}


def delivered_all(relay, rcpts: list[str]) -> list[dict] | None:
    events = relay.events()
    done = {e["recipient"].lower() for e in events if e.get("event") == "delivered"}
    return events if all(r.lower() in done for r in rcpts) else None


@LAYOUTS
def test_each_greylisted_message_needs_exactly_one_retry_from_the_refused_ip(make_relay, receiver, layout):
    relay = make_relay("all", overrides(layout=layout))
    tok = token()
    rcpts = [f"user{i}-{tok}@{GREY_DOMAIN}" for i in range(MESSAGES)]
    send(relay, rcpts, tok)
    events = wait_for(lambda: delivered_all(relay, rcpts), timeout=90, what=f"all {MESSAGES} greylisted messages delivered")

    refusals = collections.defaultdict(list)
    for r in receiver.refusals():
        refusals[r["rcpt"].lower()].append(r["peer"][0])
    arrivals = {m["rcpt_tos"][0].lower(): m["peer"][0] for m in receiver.messages()}
    deferred = collections.Counter(e["recipient"].lower() for e in events if e.get("event") == "deferred")
    retries = collections.Counter(len(refusals[r.lower()]) for r in rcpts)
    print(f"refusals per message (attempts - 1): {dict(sorted(retries.items()))}")
    for rcpt in rcpts:
        key = rcpt.lower()
        assert len(refusals[key]) == 1, f"{rcpt}: refused {len(refusals[key])} times, from {refusals[key]}"
        assert deferred[key] == 1, f"{rcpt}: {deferred[key]} deferred events"
        assert arrivals[key] == refusals[key][0], f"{rcpt}: refused from {refusals[key][0]}, delivered from {arrivals[key]}"
    # Both IPs were used for first attempts (the pin follows the IP, whichever it is).
    assert {refusals[r.lower()][0] for r in rcpts} == {"127.0.0.2", "127.0.0.3"}


def first_attempt_ip(relay, rcpt: str) -> str:
    def check():
        found = [e for e in relay.events(recipient=rcpt) if e.get("event") == "deferred"]
        return found[0]["egress_ip"] if found else None
    return wait_for(check, timeout=30, what=f"the first attempt for {rcpt}")


def other(ip: str) -> str:
    return next(e["address"] for e in EGRESS if e["address"] != ip)


@LAYOUTS
def test_a_retry_pinned_to_a_suspended_ip_is_sent_from_another(make_relay, receiver, layout):
    relay = make_relay("all", overrides(schedule="4s", layout=layout))
    tok = token()
    # grey-*: refused once per address whatever the IP (hikyaku_testsupport/smtp_receiver.py).
    rcpt = f"grey-{tok}@k2.test"
    send(relay, [rcpt], tok)
    pinned = first_attempt_ip(relay, rcpt)
    out = subprocess.run([relay.hikyaku, "suspend", "ip", pinned, "--for", "10m", "--reason", "test",
                          "--config", str(relay.config_path)], capture_output=True, text=True, timeout=20,
                         env=child_environment())
    assert out.returncode == 0, out.stderr
    # Well before the claim timeout (60 s) would hand a parked entry to any IP.
    wait_for(lambda: receiver.messages_to(rcpt), timeout=20, what=f"{rcpt} delivered")
    [message] = receiver.messages_to(rcpt)
    assert message["peer"][0] == other(pinned)
    # The operator's suspension is in the events, whichever step wrote it.
    suspended = [e for e in relay.events() if e.get("event") == "backoff" and e.get("action") == "suspend_ip"]
    assert [e.get("egress_ip") for e in suspended] == [pinned], suspended


def test_a_retry_pinned_to_an_ip_no_longer_configured_is_sent_from_another(make_relay, receiver):
    first = make_relay("all", overrides(schedule="4s"))
    tok = token()
    rcpt = f"grey-{tok}@k2.test"
    send(first, [rcpt], tok)
    pinned = first_attempt_ip(first, rcpt)
    first.stop()
    # Restarted with only the other IP: the pinned one is gone.
    make_relay("all", overrides(schedule="4s", egress=[e for e in EGRESS if e["address"] != pinned]))
    # Well before the claim timeout (60 s) would hand a parked entry to any IP.
    wait_for(lambda: receiver.messages_to(rcpt), timeout=20, what=f"{rcpt} delivered")
    [message] = receiver.messages_to(rcpt)
    assert message["peer"][0] == other(pinned)
