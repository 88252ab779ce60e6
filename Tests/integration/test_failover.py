"""Redis high availability (issue 6): the relay finds the primary through Sentinel, follows
it through a failover, and with `redis.wait_replicas` answers 250 only once a replica has
the message too — so an accepted message survives the loss of the primary.

Real parts on loopback: a primary and a replica redis-server (AOF, appendfsync always),
three redis-sentinel processes (quorum 2), the relay, the recording receiver, and smtplib
clients. The primary is killed with SIGKILL while clients keep submitting.
"""

from __future__ import annotations

import smtplib

import pytest

from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.smtp import Submitter, make_message, token
from hikyaku_testsupport.waiting import wait_for

def test_failover_of_the_primary_loses_no_accepted_message(make_relay, receiver, redis_ha):
    relay = make_relay("all", {"redis": redis_ha.redis_config(wait_replicas=1, wait_timeout="500ms", command_timeout="2s")})
    tag = token()
    submitter = Submitter(relay.relay_port, tag)
    submitter.start()
    wait_for(lambda: len([r for r in submitter.results if r["code"] == 250]) >= 20, what="20 accepted messages")

    failover = redis_ha.fail_over()
    old_port, new_port, rejoined_at = failover.old_port, failover.new_port, failover.rejoined_at
    accepted_before = len([r for r in submitter.results if r["code"] == 250])
    wait_for(lambda: len([r for r in submitter.results if r["code"] == 250]) >= accepted_before + 20,
             timeout=60, what="20 more accepted messages after the failover")
    submitter.stopping.set()
    submitter.join(timeout=60)

    accepted = [r for r in submitter.results if r["code"] == 250]
    refused = [r for r in submitter.results if r["code"] != 250]
    assert all(r["code"] in (0, 421, 451) for r in refused), {r["code"] for r in refused}
    # Loss accounting: every message that got 250 reaches the receiver.
    def missing():
        arrived = {m["rcpt_tos"][0].lower() for m in receiver.messages()}
        return [r["rcpt"] for r in accepted if r["rcpt"].lower() not in arrived]
    wait_for(lambda: not missing(), timeout=90, interval=1, what="every accepted message to arrive")
    copies = {}
    for m in receiver.messages():
        copies[m["rcpt_tos"][0].lower()] = copies.get(m["rcpt_tos"][0].lower(), 0) + 1
    duplicates = sum(n - 1 for n in copies.values() if n > 1)
    # Until a replica is back, WAIT 1 cannot be satisfied and 451 is the right answer; once
    # one is, messages are accepted again (a few seconds for connections to settle).
    refused_late = [r for r in refused if r["time"] > rejoined_at + 5]
    report_note(f"failover: primary :{old_port} killed, :{new_port} promoted after {failover.promoted_at - failover.killed_at:.1f}s, "
                f"old primary back as a replica after {rejoined_at - failover.killed_at:.1f}s; "
                f"{len(accepted)} accepted (all delivered), {len(refused)} refused with 4xx/connection errors during the "
                f"failover (clients keep those), {duplicates} duplicate(s) at the receiver")
    assert not refused_late, f"still refusing 5 s after a replica was back: {refused_late[:3]}"
    assert "not the primary" in relay.process.log_text() or "re-established" in relay.process.log_text() \
        or "Connection attempt failed" in relay.process.log_text()


def test_wait_replicas_refuses_with_451_when_no_replica_confirms(make_relay, receiver, redis_ha):
    relay = make_relay("all", {"redis": redis_ha.redis_config(wait_replicas=1, wait_timeout="300ms")})
    tag = token()
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.sendmail("a@origin.test", [f"ok-{tag}@static.test"],
                      make_message("a@origin.test", [f"ok-{tag}@static.test"], "ok", "with the replica\n"))
    # Without the replica, the primary still takes the write, but nobody confirms it: the
    # client must not be told 250 (the message would not survive the primary's loss).
    redis_ha.replica.process.stop()
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("a@origin.test", [f"lonely-{tag}@static.test"],
                          make_message("a@origin.test", [f"lonely-{tag}@static.test"], "lonely", "no replica\n"))
    assert refused.value.smtp_code == 451, refused.value
    assert "4.3.0" in refused.value.smtp_error.decode(), refused.value
    wait_for(lambda: receiver.messages_to(f"ok-{tag}@static.test"), what="the confirmed message to arrive")
