"""How delivery loops find work (issue 16): an idle worker waits in Redis for a wake token
(`wake:<pool>`, BLPOP) instead of polling, and one site cannot hold every delivery loop.

Counts only, never wall-clock thresholds: Redis's own command counters (INFO
commandstats) for what an idle worker costs, the wake list's length for how many tokens a
burst leaves, and the receiver's arrival counts for what a rate-limited site got.
"""

from __future__ import annotations

import smtplib
import time

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
