"""How delivery loops find work (issue 16): an idle worker waits in Redis for a wake token
(`wake:<pool>`, BLPOP) instead of polling, and one site cannot hold every delivery loop.

Counts only, never wall-clock thresholds: Redis's own command counters (INFO
commandstats) for what an idle worker costs, the wake list's length for how many tokens a
burst leaves, and the receiver's arrival counts for what a rate-limited site got.
"""

from __future__ import annotations

import smtplib
import time

from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.smtp import make_message
from hikyaku_testsupport.waiting import wait_for

WAKE_KEY = "hk:wake:default"


def send(port: int, rcpt: str, tag: str) -> str:
    """One message on its own connection (as most application mailers send); its Message-ID."""
    sender = f"sender-{tag}@origin.test"
    message_id = f"<{tag}@client.test>"
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.sendmail(sender, [rcpt], make_message(sender, [rcpt], tag, f"{tag}\n", message_id))
    return message_id


def arrived(receiver, message_id: str) -> bool:
    return any(message_id.encode() in m["data"] for m in receiver.messages())


def calls(client) -> dict[str, int]:
    """Calls per command since Redis started (INFO commandstats)."""
    info = client.info("commandstats")
    return {name[len("cmdstat_"):]: int(value.split(",")[0].split("=")[1])
            for name, value in info.items() if name.startswith("cmdstat_")}


def test_idle_worker_waits_for_a_wake_token_instead_of_polling(relay, receiver, redis_server):
    """After 5 s idle, over 10 s: the worker makes few function calls (the retry mover's
    two a second and a look per scout nap; polling every 100 ms made over ten a second)
    and sits in BLPOP; a message then sent is delivered, and its token consumed."""
    client = redis_server.client()
    first = send(relay.relay_port, "first@example.test", "idle-first")
    wait_for(lambda: arrived(receiver, first), what="the first message to arrive")
    time.sleep(5)
    before = calls(client)
    time.sleep(10)
    after = calls(client)
    fcalls = after.get("fcall", 0) - before.get("fcall", 0)
    assert fcalls <= 45, f"{fcalls} function calls in 10 s from an idle worker: it polls"
    assert int(client.info("clients")["blocked_clients"]) >= 1, "no client is blocked on the wake list"

    second = send(relay.relay_port, "second@example.test", "idle-second")
    wait_for(lambda: arrived(receiver, second), what="the message sent after the idle time to arrive")
    wait_for(lambda: client.call("LLEN", WAKE_KEY) == 0, what="the wake token to be taken")


def test_a_burst_of_enqueues_leaves_one_wake_token(make_relay, receiver, redis_server):
    """With no worker running, twenty messages to four domains leave one token, not
    twenty; a worker started then delivers them all and takes the token."""
    client = redis_server.client()
    ingest = make_relay("ingest")
    sent = [send(ingest.relay_port, f"r{i}@k{i % 4 + 1}.test", f"burst-{i}") for i in range(20)]
    assert client.call("LLEN", WAKE_KEY) == 1
    make_relay("worker")
    wait_for(lambda: all(arrived(receiver, mid) for mid in sent), what="the burst to be delivered")
    wait_for(lambda: client.call("LLEN", WAKE_KEY) == 0, what="the wake token to be taken")


# --------------------------------------------------------------------------- fairness

LIMITED_RATE = 5            # messages a second to site "limited" (lim1.test, MX mx.limited.test)
WINDOW = 12.0               # seconds of the limited site's arrivals counted


def test_a_slow_site_cannot_hold_every_loop_from_a_rate_limited_one(make_relay, certs, tmp_path):
    """One worker with 4 loops; slow.test answers each message after 1 s and has a backlog
    of 120, lim1.test (site "limited", 5 messages a second) one of 100. Over 12 s from the
    limited site's first arrival it receives at least 75% of what its limit allows (main
    without the bound: 3 of 61; with it ~55 — each of its batches opens a new connection) (one
    message is allowed per 200 ms: 61 in 12 s; GCRA burst 1), however many loops the slow
    site's backlog could fill."""
    from hikyaku_testsupport.receiver import Receiver
    directory = tmp_path / "slow-receiver"
    directory.mkdir()
    receiver = Receiver(directory, *certs["receiver"], behaviours={"slow.test": "slow:1"}).start()
    try:
        relay = make_relay("all", {
            "delivery": {"concurrency": 4, "mx_port": receiver.port, "batch_size": 10,
                         "sites": [{"name": "limited", "mx": ["mx.limited.test"], "rate": f"{LIMITED_RATE * 60}/min"}]},
        })
        # The slow backlog first, so that it is due before the limited site's and would
        # fill every loop; then the limited site's.
        slow = [send(relay.relay_port, f"s{i}@slow.test", f"fair-slow-{i}") for i in range(120)]
        limited = [send(relay.relay_port, f"l{i}@lim1.test", f"fair-lim-{i}") for i in range(100)]

        def limited_times():
            return sorted(m["time"] for m in receiver.messages() if any(r.endswith("@lim1.test") for r in m["rcpt_tos"]))
        first = wait_for(lambda: limited_times() or None, timeout=120, what="a first message to the limited site")[0]
        wait_for(lambda: time.time() > first + WINDOW + 1, timeout=WINDOW + 30, what="the window to pass")
        got = sum(1 for t in limited_times() if t <= first + WINDOW)
        allowed = int(WINDOW * LIMITED_RATE) + 1
        report_note(f"fairness: limited site (5/s) got {got} of {allowed} allowed in {WINDOW:.0f} s beside a slow site's backlog")
        assert got >= 0.75 * allowed, \
            f"the limited site got {got} of the {allowed} messages its limit allows in {WINDOW:.0f} s"
        assert len(slow) == 120 and len(limited) == 100
    finally:
        receiver.stop()
