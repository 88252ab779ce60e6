"""What each kind of item costs in Redis memory (issue 17: the memory budget per node in
cluster/README.md, "A capacity model for a billion messages a day").

One relay fills a real redis-server through its own front doors — messages sent over the
HTTP API with an `Idempotency-Key` each (no worker runs, so they stay queued), a
suppression list imported with `hikyaku suppression import`, and a webhook endpoint that
refuses connections, so the dispatcher keeps every event in its outbox — then every key is
measured with `MEMORY USAGE … SAMPLES 0` and divided by the items it holds.

The bounds are about twice what was measured: the test fails when the layout
grows, e.g. a field stored twice or an entry kept that should expire, not on small changes.
The figures are printed as a note and in cluster/README.md.
"""

from __future__ import annotations

import re

from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.waiting import wait_for

from test_api import API, hikyaku, make_account, wait_loaded

MESSAGES = 1000
SUPPRESSIONS = 20_000
TEXT = ("Hikyaku memory budget. " * 45)[:1000]  # a 1 KiB body, as the capacity model's small message


def keys(client, pattern: str) -> list[bytes]:
    found, cursor = [], b"0"
    while True:
        cursor, batch = client.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
        found += batch
        if cursor in (b"0", 0):
            return found


def usage(client, pattern: str) -> tuple[int, list[bytes]]:
    """Bytes of every key matching `pattern` (exact: every element sampled) and the keys."""
    names = keys(client, pattern)
    return sum(int(client.call("MEMORY", "USAGE", name, "SAMPLES", 0) or 0) for name in names), names


def test_redis_memory_per_queued_message_event_idempotency_key_suppression_and_webhook_item(
        make_relay, redis_server, tmp_path):
    plain = free_ports(1)[0]
    refused = free_ports(1)[0]  # nothing listens: every POST to the endpoint fails, the outbox keeps all
    relay = make_relay("api", {"accounts": {"refresh_interval": "200ms"}, "api": {"plain_listen": [f"127.0.0.1:{plain}"]}})
    wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    key = make_account(relay, "acme", "acme.example", rate="100000/s burst 100000")
    wait_loaded(relay, 1)
    out = hikyaku(relay, "webhook", "add", "acme", f"http://127.0.0.1:{refused}/hook", "--allow-private")
    endpoint = re.search(r"created webhook ([0-9a-f]{16})", out).group(1)
    make_relay("webhooks", {"webhooks": {"retry_initial": "1h", "retry_max": "1h"}})

    rows = tmp_path / "suppressions.csv"
    rows.write_text("address,reason,created_at,expires_at\n"
                    + "".join(f"user{n:06d}@customer{n % 97}.example,hard_bounce,,\n" for n in range(SUPPRESSIONS)))
    assert f"imported {SUPPRESSIONS} entries" in hikyaku(relay, "suppression", "import", "--account", "acme", str(rows))

    api = API(f"http://127.0.0.1:{plain}", key)
    for n in range(MESSAGES):
        answer = api.post("/v1/messages", {"from": "news@acme.example", "to": f"reader{n:05d}@static.test",
                                           "subject": f"Issue {n}", "text": TEXT},
                          headers={"Idempotency-Key": f"send-{n:05d}-7f3a9c"})
        assert answer.status_code == 202, answer.text

    client = redis_server.client()
    outbox = f"hk:webhook:{endpoint}:out"
    wait_for(lambda: int(client.call("LLEN", outbox)) >= MESSAGES, timeout=60,
             what="the dispatcher to put every accepted event in the endpoint's outbox")

    messages, msg_keys = usage(client, "hk:msg:*")
    bodies, body_keys = usage(client, "hk:body:*")
    streams, _ = usage(client, "hk:q:*")
    assert len(msg_keys) == len(body_keys) == MESSAGES
    events = int(client.call("MEMORY", "USAGE", "hk:events", "SAMPLES", 0))
    event_count = int(client.call("XLEN", "hk:events"))
    assert event_count >= MESSAGES
    idempotency, idem_keys = usage(client, "hk:idem:*")
    assert len(idem_keys) == MESSAGES
    suppressions = int(client.call("MEMORY", "USAGE", "hk:sup:acme", "SAMPLES", 0))
    assert int(client.call("HLEN", "hk:sup:acme")) == SUPPRESSIONS
    webhook_items = int(client.call("LLEN", outbox))
    webhook = int(client.call("MEMORY", "USAGE", outbox, "SAMPLES", 0))

    per = {
        "queued message (msg + body + stream entry)": (messages + bodies + streams) / MESSAGES,
        "of which the 1 KiB body": bodies / MESSAGES,
        "event in the events stream": events / event_count,
        "idempotency key": idempotency / MESSAGES,
        "suppression entry": suppressions / SUPPRESSIONS,
        "webhook outbox item": webhook / webhook_items,
    }
    report_note("Redis memory per item: " + "; ".join(f"{name} {value:,.0f} B" for name, value in per.items()))
    # Measured 2026-12-07 (Redis 7.0, debug build): 2,175 / 1,864 / 356 / 456 / 156 / 329 B.
    bounds = {"queued message (msg + body + stream entry)": 4400, "of which the 1 KiB body": 3700,
              "event in the events stream": 720, "idempotency key": 920, "suppression entry": 320,
              "webhook outbox item": 660}
    over = {name: round(per[name]) for name, bound in bounds.items() if per[name] > bound}
    assert not over, f"more Redis memory per item than the capacity model allows: {over} (bounds {bounds})"
    # Each figure is of real items: a message's body holds at least its text.
    assert per["of which the 1 KiB body"] > len(TEXT)
