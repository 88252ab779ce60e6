"""The PostgreSQL log store (issue 14, item 1 with PostgreSQL): Debian's postgres started
for the test (``hikyaku_testsupport.postgres``), relays archiving real traffic into it
through ``logs.postgres_url`` with the password in ``logs.postgres_password_file``. Searches
and timelines through the real ``hikyaku logs search``, counts through ``GET /v1/stats``,
and the hourly counts equal a recount of the ``events`` table. Two archivers share the
stream; one killed with SIGKILL mid-stream leaves its pending entries to the other (taken
over after 30 s idle), and every stream entry is stored exactly once. ``hikyaku erase``
removes the address from PostgreSQL and from the suppression lists.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from collections import Counter

import pytest

from hikyaku_testsupport import notes
from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.postgres import PostgresServer
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for
from test_logstore import COUNTED, send, stream_events


@pytest.fixture
def postgres(tmp_path):
    server = PostgresServer(tmp_path / "postgres.log").start()
    yield server
    server.stop()


def pg_logs(postgres, **extra) -> dict:
    return {"logs": {"postgres_url": postgres.url, "postgres_password_file": str(postgres.password_file), "batch_size": 20,
                     **extra}}


def hikyaku(relay, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HIKYAKU_BIN, *args, "--config", str(relay.config_path)], capture_output=True, text=True,
                          timeout=60, env=child_environment())


def logs_search(relay, *args: str) -> list[dict]:
    out = hikyaku(relay, "logs", "search", "--json", *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def recount(postgres) -> Counter:
    """Per kind, the recipients of the stored events (an ``accepted`` event counts each)."""
    counts: Counter = Counter()
    for (text,) in postgres.psql("SELECT json FROM events"):
        event = json.loads(text)
        if event["event"] in COUNTED:
            counts[event["event"]] += len(event.get("recipients") or [event.get("recipient")])
    return counts


def stats_by_kind(postgres) -> Counter:
    return Counter({kind: int(n) for kind, n in postgres.psql("SELECT kind, SUM(count) FROM stats_hourly GROUP BY kind")})


def test_search_timeline_stats_and_erase_through_postgres(make_relay, receiver, redis_server, postgres, tmp_path):
    from test_api import API, make_account, wait_loaded

    (plain,) = free_ports(1)
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "api": {"plain_listen": [f"127.0.0.1:{plain}"]},
                               **pg_logs(postgres)})
    wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    wait_for(lambda: "archiving the events stream into postgres://" in relay.process.log_text(), what="the archiver")
    key = make_account(relay, "acme", "acme.example", scope="send,read")
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{plain}", key)
    tok = token()
    good, bad = f"ok-{tok}@static.test", f"reject-{tok}@static.test"
    answer = api.post("/v1/messages", {"from": "app@acme.example", "to": [good, bad], "subject": "pg", "text": "hello"})
    assert answer.status_code == 202, answer.text
    queue_id = answer.json()["id"]
    for recipient, kind in ((good, "delivered"), (bad, "bounced")):
        wait_for(lambda: any(e["event"] == kind for e in relay.events(recipient=recipient)), what=f"{kind} for {recipient}")
        seen = time.monotonic()
        wait_for(lambda: any(e["event"] == kind for e in logs_search(relay, "--recipient", recipient)), timeout=5.0,
                 what=f"the {kind} event of {recipient} in PostgreSQL")
        assert time.monotonic() - seen < 5.0

    found = logs_search(relay, "--recipient", bad.upper())
    assert [e["event"] for e in found] == ["bounced", "accepted"]
    assert found[0]["bounce_class"] == "invalid_recipient" and found[0]["reply"].startswith("550")
    assert "subject" not in json.dumps(found).lower()
    timeline = logs_search(relay, "--queue-id", queue_id)
    assert {e["event"] for e in timeline} == {"accepted", "delivered", "bounced"} and timeline[-1]["event"] == "accepted"
    assert [e["recipient"] for e in logs_search(relay, "--queue-id", queue_id, "--event", "delivered")] == [good]
    assert logs_search(relay, "--queue-id", queue_id, "--until", "2000-01-01T00:00:00Z") == []
    # The `before` cursor pages through the same order as SQLite's: newest first, no overlap.
    page = api.get("/v1/events", params={"queue_id": queue_id, "limit": 2}).json()
    rest = api.get("/v1/events", params={"queue_id": queue_id, "limit": 2, "cursor": page["next_cursor"]}).json()
    assert [e["event_id"] for e in page["events"] + rest["events"]] == [e["event_id"] for e in timeline]

    stats = api.get("/v1/stats").json()["totals"]
    assert (stats["accepted"], stats["delivered"], stats["bounced"]) == (2, 1, 1), stats
    assert stats["bounced_by_class"] == {"invalid_recipient": 1}
    assert stats_by_kind(postgres) == recount(postgres)
    # Metadata only, and the password never in a log.
    assert postgres.psql("SELECT count(*) FROM events WHERE json ILIKE '%\"subject\"%'") == [["0"]]
    assert postgres.password not in relay.process.log_text()

    # Erasure: the address leaves PostgreSQL and every suppression list (the hard bounce put it on acme's).
    assert hikyaku(relay, "suppression", "add", bad, "--global").returncode == 0
    wait_for(lambda: bad in hikyaku(relay, "suppression", "list", "--account", "acme").stdout,
             what="the hard bounce to suppress the address")
    out = hikyaku(relay, "erase", bad)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"erased {bad} from 2 event(s)" in out.stdout
    assert f"removed {bad} from the suppression list of the global list" in out.stdout, out.stdout
    assert f"removed {bad} from the suppression list of account acme" in out.stdout, out.stdout
    assert logs_search(relay, "--recipient", bad) == []
    assert postgres.psql(f"SELECT count(*) FROM events WHERE strpos(lower(json), '{bad}') > 0") == [["0"]]
    assert postgres.psql(f"SELECT count(*) FROM event_recipients WHERE recipient = '{bad}'") == [["0"]]
    assert bad not in hikyaku(relay, "suppression", "list", "--account", "acme").stdout
    assert bad not in hikyaku(relay, "suppression", "list", "--global").stdout
    assert stats_by_kind(postgres) == recount(postgres)

    # A wrong password: the server's reason, never the password.
    wrong = f"wrong-{tok}"
    (tmp_path / "wrong-password").write_text(wrong + "\n")
    config = json.loads(relay.config_path.read_text())
    config["logs"]["postgres_password_file"] = str(tmp_path / "wrong-password")
    (tmp_path / "wrong.json").write_text(json.dumps(config))
    out = subprocess.run([HIKYAKU_BIN, "logs", "search", "--config", str(tmp_path / "wrong.json")], capture_output=True,
                         text=True, timeout=60, env=child_environment())
    assert out.returncode != 0 and "password authentication failed" in out.stderr, out.stdout + out.stderr
    assert wrong not in out.stdout + out.stderr


def test_two_archivers_and_a_kill9_store_every_event_once(make_relay, receiver, redis_server, postgres):
    relay = make_relay("all", {"delivery": {"concurrency": 8}})
    (metrics_port,) = free_ports(1)
    first = make_relay("archiver", pg_logs(postgres))
    second = make_relay("archiver", {**pg_logs(postgres), "metrics": {"address": f"127.0.0.1:{metrics_port}"}})
    for archiver in (first, second):
        wait_for(lambda: "archiving the events stream into postgres://" in archiver.process.log_text(),
                 what="both archivers to run (no lease with PostgreSQL)")
    tok = token()
    messages = 120
    recipients_of = [[f"ok-{tok}-{i}@static.test"] + ([f"reject-{tok}-{i}@static.test"] if i % 3 == 0 else [])
                     for i in range(messages)]

    def sender():
        for recipients in recipients_of:
            send(relay, f"app-{tok}@acme.example", recipients)

    thread = threading.Thread(target=sender)
    thread.start()
    wait_for(lambda: int(postgres.psql("SELECT count(*) FROM events")[0][0]) > 40, what="the archivers to store some events")
    first.kill9()
    # Whether the killed one held unacknowledged entries is a matter of timing; a consumer
    # that reads and never stores ("ghost", as if killed right after XREADGROUP) makes
    # sure there are some to take over.
    ghost: list[str] = []
    deadline = time.monotonic() + 30
    while not ghost and time.monotonic() < deadline:
        reply = redis_server.client().call("XREADGROUP", "GROUP", "archiver", "ghost/0", "COUNT", "15", "STREAMS", "hk:events", ">")
        ghost = [entry[0].decode() for entry in reply[0][1]] if reply else []
    assert ghost, "no stream entries left for the ghost consumer to read"
    thread.join(timeout=120)
    expected_final = sum(len(r) for r in recipients_of)
    wait_for(lambda: sum(1 for e in stream_events(redis_server).values() if e["event"] in ("delivered", "bounced"))
             >= expected_final, timeout=60, what="every outcome on the stream")
    relay.stop()   # no new events from here: the stream is what the store must hold
    stream = stream_events(redis_server)

    def stored_ids() -> set[str]:
        return {row[0] for row in postgres.psql("SELECT stream_id FROM events")}

    # The survivor takes over what the dead one left pending once it has idled 30 s.
    wait_for(lambda: stored_ids() >= set(stream), timeout=90, what="the surviving archiver to store everything")
    wait_for(lambda: redis_server.client().call("XPENDING", "hk:events", "archiver")[0] == 0, timeout=90,
             what="no entry left pending for the group")
    assert int(postgres.psql("SELECT count(*) FROM events")[0][0]) == len(stream)
    assert stored_ids() == set(stream) and set(ghost) <= stored_ids()
    assert stats_by_kind(postgres) == recount(postgres)
    ours = Counter(e["event"] for e in stream.values() if tok in (e.get("recipient") or ""))
    assert ours["delivered"] == messages and ours["bounced"] == messages // 3
    took = [line for line in second.process.log_text().splitlines() if "took over" in line]
    assert took, "the survivor never took over pending entries"
    # The survivor's metrics: it stored what it counts (its share plus the takeover), in batches.
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
        metrics = {line.split(" ")[0]: float(line.split(" ")[1]) for line in response.read().decode().splitlines()
                   if line.startswith("hikyaku_archiver_")}
    assert 0 < metrics["hikyaku_archiver_events_total"] <= len(stream)
    assert metrics["hikyaku_archiver_batches_total"] >= 1 and "hikyaku_archiver_lag_seconds" in metrics
    # A graceful stop takes the archiver's name out of the group (it holds nothing pending); the killed one's stays.
    def consumers() -> int:
        return len(redis_server.client().call("XINFO", "CONSUMERS", "hk:events", "archiver"))
    before = consumers()
    second.stop()
    assert consumers() == before - 1
    notes.report_note(f"PostgreSQL archivers: {len(stream)} events stored once; the survivor took over {len(took)} batch(es) "
                      f"(the killed archiver's and {len(ghost)} ghost entries)")
