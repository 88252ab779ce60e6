"""The log store (issue 14, item 1 and the counts of item 2), end to end: a relay, an
``archiver`` process copying the events stream into SQLite, and the real ``hikyaku logs
search``. Delivered and bounced (``reject-*`` at the test receiver) outcomes are searchable
within 5 s; an archiver killed with SIGKILL in the middle of the stream and restarted leaves
every stream entry in the store exactly once, and the hourly counts equal a recount of the
stream's events. The HTTP API (item 4) serves an account's counts (`GET /v1/stats`) and its
events after the stream has trimmed them.
"""

from __future__ import annotations

import json
import smtplib
import sqlite3
import subprocess
import threading
import time
from collections import Counter

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for

COUNTED = {"accepted", "delivered", "deferred", "bounced", "expired", "complaint", "suppressed"}


def logs_search(relay, db, *args: str) -> list[dict]:
    out = subprocess.run([HIKYAKU_BIN, "logs", "search", "--config", str(relay.config_path), "--db", str(db), "--json", *args],
                         capture_output=True, text=True, timeout=60, env=child_environment())
    assert out.returncode == 0, out.stdout + out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def send(relay, sender: str, recipients: list[str]):
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.sendmail(sender, recipients, f"From: {sender}\r\nTo: {recipients[0]}\r\nSubject: log store\r\n\r\nhello\r\n")


def stream_events(redis_server) -> dict[str, dict]:
    """Every entry of the events stream: {stream id: event}."""
    out = {}
    for entry_id, fields in redis_server.client().call("XRANGE", "hk:events", "-", "+"):
        values = dict(zip(fields[::2], fields[1::2]))
        out[entry_id.decode()] = json.loads(values[b"e"])
    return out


def archiver_relay(make_relay, db):
    return make_relay("archiver", {"logs": {"sqlite_path": str(db), "batch_size": 20}})


def test_outcomes_are_searchable_within_five_seconds(make_relay, receiver, tmp_path):
    db = tmp_path / "logs.sqlite"
    relay = make_relay("all")
    archiver_relay(make_relay, db)
    tok = token()
    good, bad = f"ok-{tok}@static.test", f"reject-{tok}@static.test"
    send(relay, f"app-{tok}@acme.example", [good, bad])
    for recipient, kind in ((good, "delivered"), (bad, "bounced")):
        wait_for(lambda: any(e["event"] == kind for e in relay.events(recipient=recipient)), what=f"{kind} for {recipient}")
        seen = time.monotonic()
        wait_for(lambda: any(e["event"] == kind for e in logs_search(relay, db, "--recipient", recipient)), timeout=5.0,
                 what=f"the {kind} event of {recipient} in the log store")
        assert time.monotonic() - seen < 5.0
    # The accepted event lists both recipients and is found by either; the bounce keeps its reply and class.
    found = logs_search(relay, db, "--recipient", bad.upper())
    assert [e["event"] for e in found] == ["bounced", "accepted"]
    assert found[0]["bounce_class"] == "invalid_recipient" and found[0]["reply"].startswith("550")
    assert "subject" not in json.dumps(found).lower()
    queue_id = found[0]["queue_id"]
    assert {e["event"] for e in logs_search(relay, db, "--queue-id", queue_id)} == {"accepted", "delivered", "bounced"}
    assert [e["recipient"] for e in logs_search(relay, db, "--queue-id", queue_id, "--event", "delivered")] == [good]
    assert logs_search(relay, db, "--queue-id", queue_id, "--until", "2000-01-01T00:00:00Z") == []
    # Erasure: the address leaves every event; the counts stay.
    out = subprocess.run([HIKYAKU_BIN, "erase", bad, "--config", str(relay.config_path), "--db", str(db)],
                         capture_output=True, text=True, timeout=60, env=child_environment())
    assert out.returncode == 0 and "2 event(s)" in out.stdout, out.stdout + out.stderr
    assert logs_search(relay, db, "--recipient", bad) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE instr(lower(json), ?) > 0", (bad,)).fetchone()[0] == 0


def test_kill9_mid_stream_stores_every_event_once_and_counts_match(make_relay, receiver, redis_server, tmp_path):
    db = tmp_path / "logs.sqlite"
    relay = make_relay("all", {"delivery": {"concurrency": 8}})
    archiver = archiver_relay(make_relay, db)
    wait_for(lambda: "archiving the events stream" in archiver.process.log_text(), what="the archiver to hold the lease")
    tok = token()
    messages = 120
    recipients_of = [[f"ok-{tok}-{i}@static.test"] + ([f"reject-{tok}-{i}@static.test"] if i % 3 == 0 else [])
                     for i in range(messages)]

    def sender():
        for i, recipients in enumerate(recipients_of):
            send(relay, f"app-{tok}@acme.example", recipients)

    thread = threading.Thread(target=sender)
    thread.start()
    # Mid-stream: some events archived, more coming.
    wait_for(lambda: db.exists() and sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0] > 40,
             what="the archiver to store some events")
    archiver.kill9()
    time.sleep(1.0)
    thread.join(timeout=120)
    expected_final = sum(len(r) for r in recipients_of)
    wait_for(lambda: sum(1 for e in stream_events(redis_server).values() if e["event"] in ("delivered", "bounced"))
             >= expected_final, timeout=60, what="every outcome on the stream")
    relay.stop()   # no new events from here: the stream is what the store must hold
    archiver.process.start()   # a new process: it waits for the dead one's lease to lapse, then reads its pending entries

    def stored_ids() -> list[str]:
        with sqlite3.connect(db) as conn:
            return [row[0] for row in conn.execute("SELECT stream_id FROM events")]

    stream = stream_events(redis_server)
    wait_for(lambda: set(stored_ids()) >= set(stream), timeout=60, what="the restarted archiver to catch up")
    ids = stored_ids()
    assert len(ids) == len(set(ids)) == len(stream)
    assert set(ids) == set(stream)
    # Nothing left pending for the group: everything was acknowledged after its commit.
    wait_for(lambda: redis_server.client().call("XPENDING", "hk:events", "archiver")[0] == 0, what="the archiver's acks")

    recount: Counter = Counter()
    for event in stream.values():
        if event["event"] not in COUNTED:
            continue
        recount[event["event"]] += len(event.get("recipients") or [event.get("recipient")])
    with sqlite3.connect(db) as conn:
        stats = Counter({kind: n for kind, n in conn.execute("SELECT kind, SUM(count) FROM stats_hourly GROUP BY kind")})
    assert stats == recount
    ours = Counter(e["event"] for e in stream.values() if tok in (e.get("recipient") or ""))
    assert ours["delivered"] == messages and ours["bounced"] == messages // 3


def test_one_archiver_per_store_and_a_stopped_one_hands_over(make_relay, receiver, tmp_path):
    db = tmp_path / "logs.sqlite"
    relay = make_relay("all")
    first = archiver_relay(make_relay, db)
    wait_for(lambda: "archiving the events stream" in first.process.log_text(), what="the first archiver to hold the lease")
    second = archiver_relay(make_relay, db)
    wait_for(lambda: "another archiver holds the lease" in second.process.log_text(), what="the second archiver to wait")
    assert "archiving the events stream" not in second.process.log_text()
    # A graceful stop releases the lease at once (no waiting for it to lapse).
    first.stop()
    wait_for(lambda: "archiving the events stream" in second.process.log_text(), timeout=5.0,
             what="the second archiver to take over")
    recipient = f"ok-{token()}@static.test"
    send(relay, "app@acme.example", [recipient])
    wait_for(lambda: any(e["event"] == "delivered" for e in logs_search(relay, db, "--recipient", recipient)),
             what="the second archiver to store new events")


def test_api_serves_counts_and_events_older_than_the_stream_keeps(make_relay, receiver, redis_server, tmp_path):
    from test_api import API, make_account, wait_loaded

    db = tmp_path / "logs.sqlite"
    (plain,) = free_ports(1)
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "api": {"plain_listen": [f"127.0.0.1:{plain}"]},
                               "logs": {"sqlite_path": str(db), "batch_size": 20}, "events": {"retention": "1s"}})
    wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    key = make_account(relay, "acme", "acme.example", scope="send,read")
    other = make_account(relay, "other", "other.example", scope="read")
    wait_loaded(relay, 2)
    api = API(f"http://127.0.0.1:{plain}", key)
    tok = token()
    ok1, bad, ok2 = f"ok-{tok}-1@static.test", f"reject-{tok}@static.test", f"ok-{tok}-2@static.test"
    ids = []
    for to in ([ok1, bad], [ok2]):
        answer = api.post("/v1/messages", {"from": "app@acme.example", "to": to, "subject": "stats", "text": "hello"})
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])

    def totals(key=None, params=None):
        got = api.get("/v1/stats", key=key, params=params)
        assert got.status_code == 200, got.text
        return got.json()
    wait_for(lambda: (t := totals()["totals"])["delivered"] == 2 and t["bounced"] == 1, what="the outcomes counted")
    stats = totals()
    t = stats["totals"]
    assert (t["accepted"], t["delivered"], t["bounced"], t["deferred"], t["expired"]) == (3, 2, 1, 0, 0), t
    assert t["bounced_by_class"] == {"invalid_recipient": 1}
    assert abs(t["delivery_rate"] - 2 / 3) < 1e-9 and abs(t["bounce_rate"] - 1 / 3) < 1e-9 and t["complaint_rate"] == 0
    assert {(r["sending_domain"], r["recipient_domain"]) for r in stats["rows"]} == {("acme.example", "static.test")}
    assert all(r["site"] == "" for r in stats["rows"])
    by_site = totals(params={"by": "site"})
    assert by_site["totals"]["delivered"] == 2 and any(r["site"] for r in by_site["rows"] if r["delivered"])
    # Another account's key sees none of it: the account is the key's, whatever is asked.
    theirs = totals(key=other)
    assert theirs["rows"] == [] and theirs["totals"]["accepted"] == 0 and theirs["totals"]["delivery_rate"] is None
    assert api.get("/v1/stats", params={"by": "hour"}).status_code == 422
    assert api.get("/v1/stats", params={"since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}).status_code == 422
    assert totals(params={"since": "2000-01-01T00:00:00Z", "until": "2000-01-02T00:00:00Z"})["rows"] == []

    # events.retention 1s: once every group has read them, the stream drops them; the store still has them.
    # (`XTRIM MINID ~` drops whole nodes of 100 entries: more events must follow first.)
    for batch in range(2):
        send(relay, "filler@relay.example", [f"ok-{tok}-fill{batch}-{i}@static.test" for i in range(60)])
    wait_for(lambda: not any(bad in json.dumps(e) for e in stream_events(redis_server).values()), timeout=30,
             what="the stream to trim the bounce")
    found = api.get("/v1/events", params={"recipient": bad}).json()["events"]
    assert [e["event"] for e in found] == ["bounced", "accepted"] and found[0]["queue_id"] == ids[0]
    assert api.get("/v1/events", key=other, params={"recipient": bad}).json()["events"] == []
    page = api.get("/v1/events", params={"queue_id": ids[0], "limit": 2}).json()
    rest = api.get("/v1/events", params={"queue_id": ids[0], "limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(page["events"]) == 2 and len(rest["events"]) == 1 and "next_cursor" not in rest
    assert {e["event_id"] for e in page["events"]}.isdisjoint(e["event_id"] for e in rest["events"])
    status = api.get(f"/v1/messages/{ids[0]}").json()
    assert {r["email"]: r["status"] for r in status["recipients"]} == {ok1: "delivered", bad: "bounced"}
    assert api.get(f"/v1/messages/{ids[0]}", key=other).status_code == 404
