#!/usr/bin/env python3
"""The log store at scale (issue 14): `make logstore-bench EVENTS=50000000`. Not part of
`make test` (tens of GB, tens of minutes).

1. **Generate** EVENTS events into a SQLite log store in bulk (once; reused while the file
   and its `.generated` marker match): the schema is the real one (`hikyaku logs search`
   creates it and its indexes), rows are written by SQLite itself from a recursive CTE —
   messages of 20 accounts to 5 million recipients over the last 29 days, ~93% delivered,
   3% deferred then delivered, 3% bounced (by class), 1 complaint per thousand — and the
   hourly counts by one `GROUP BY` over them, as the archiver would have counted them.
2. **Query** through the real HTTP surfaces of one `hikyaku serve --role all` on that file:
   `GET /v1/events?recipient=…` (an account's API key: one recipient's events, the
   search the console's search page runs) for QUERIES random recipients, and the console's
   overview page (today, 7 and 30 days, hourly chart) for an operator and for an account's
   user. Prints median, p95 and max.
3. **Archive**: a feeder appends events to the events stream at RATE/s (default 5,000) for
   SECONDS while the relay's archiver writes them into the same large store; prints the
   archived rate and the consumer group's lag (entries not yet stored) each second.

    scripts/logstore-bench.py --events 50000000 [--db var/logbench/logs.sqlite] [--bin …]
    scripts/logstore-bench.py --store postgres --events 10000000
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hikyaku_testsupport.ports import free_ports  # noqa: E402
from hikyaku_testsupport.processes import child_environment  # noqa: E402
from hikyaku_testsupport.redis_servers import RedisServer  # noqa: E402
from hikyaku_testsupport.relay import Relay  # noqa: E402

ACCOUNTS = 20
RECIPIENTS = 5_000_000
DOMAINS = [  # (recipient domain, receiving site)
    ("gmail.com", "gmail"), ("docomo.ne.jp", "docomo"), ("ezweb.ne.jp", "au"), ("softbank.ne.jp", "softbank"),
    ("yahoo.co.jp", "yahoo-japan"), ("i.softbank.jp", "softbank"), ("icloud.com", "icloud"), ("outlook.jp", "microsoft"),
    ("example-corp.co.jp", "other"), ("nifty.com", "other"),
]
EVENTS_PER_MESSAGE = 0.93 * 2 + 0.03 * 3 + 0.03 * 2 + 0.001  # accepted + outcomes, see generate()
DAY_MS = 86_400_000


def domain_index(r: int) -> int:
    """The recipient's domain: from the tens digit, so that it does not follow the account
    (message i % 20) as the units digit would (r ≡ i mod 10)."""
    return (r // 10) % len(DOMAINS)


def say(text: str):
    print(text, flush=True)


def hikyaku(binary: str, *args: str, timeout: float = 7200) -> str:
    out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout, env=child_environment())
    if out.returncode != 0:
        sys.exit(f"hikyaku {' '.join(args[:3])} failed:\n{out.stdout}{out.stderr[-3000:]}")
    return out.stdout


def create_schema(binary: str, db: Path):
    """The store's own schema and indexes: opening it (any `hikyaku logs` command) creates them."""
    db.touch()
    config = db.parent / "logstore-bench.yaml"
    config.write_text(f"logs:\n  sqlite_path: {json.dumps(str(db))}\n")
    hikyaku(binary, "logs", "search", "--limit", "1", "--json", "--config", str(config))


# The hourly counts of the generated events, as the stores' append counts them (one per
# recipient; site '' on accepted; a class only on bounced), in either dialect.
STATS_SQL = """
    INSERT INTO stats_hourly(hour, account, sending_domain, recipient_domain, site, kind, bounce_class, count)
    SELECT time_ms / 3600000 * 3600000, coalesce(account, ''), sending_domain, recipient_domain, coalesce(site, ''),
           kind, CASE WHEN kind = 'bounced' THEN coalesce(bounce_class, '') ELSE '' END, count(*)
    FROM events WHERE kind IN ('accepted', 'delivered', 'deferred', 'bounced', 'expired', 'complaint', 'suppressed')
    GROUP BY 1, 2, 3, 4, 5, 6, 7"""


def events_sql(dialect: str, start_ms: int, spacing: int) -> str:
    """The bulk INSERT of both stores: one row per (message, step) — step 0 accepted, then
    the outcomes the message's fate `u` (per mille) gives it — for messages `?`..`?`
    (SQLite parameters) or `{first}`..`{end}` (PostgreSQL, substituted), with the columns
    and JSON the archiver would have written."""
    domains = " ".join(f"WHEN {i} THEN '{d}'" for i, (d, _) in enumerate(DOMAINS))
    sites = " ".join(f"WHEN {i} THEN '{s}'" for i, (_, s) in enumerate(DOMAINS))
    if dialect == "sqlite":
        numbers = "WITH RECURSIVE m(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM m WHERE i + 1 < ?),"
        source = "m"
        queue_id = "printf('%08x%08x', i, (i * 2654435761) % 4294967296)"
        steps = "JOIN (SELECT 0 AS s UNION ALL SELECT 1 UNION ALL SELECT 2) AS steps"
        time_text = "strftime('%Y-%m-%dT%H:%M:%fZ', et / 1000.0, 'unixepoch')"
        json_open, json_close = "json_object(", ")"
    else:
        numbers = "WITH"
        source = "generate_series({first}::bigint, {end}::bigint - 1) AS i"
        queue_id = "lpad(to_hex(i), 8, '0') || lpad(to_hex((i * 2654435761) % 4294967296), 8, '0')"
        steps = "CROSS JOIN (VALUES (0), (1), (2)) AS steps(s)"
        time_text = """to_char(to_timestamp(et / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
        # Without the null members, as the relay writes events (SQLite's json_object keeps
        # them: a few dozen bytes more per row there; both decode as absent).
        json_open, json_close = "json_strip_nulls(json_build_object(", "))::text"
    return f"""
    {numbers}
    msg AS (
      SELECT i, (i * 2654435761) % {RECIPIENTS} AS r, (i * 40503) % 1000 AS u, i % {ACCOUNTS} AS a,
             {start_ms} + i * {spacing} AS t, {queue_id} AS q FROM {source}),
    base AS (
      SELECT *, 'acct' || a AS account, 'news@acct' || a || '.example' AS sender, 'acct' || a || '.example' AS sdomain,
             CASE (r / 10) % {len(DOMAINS)} {domains} END AS rdomain, CASE (r / 10) % {len(DOMAINS)} {sites} END AS site FROM msg),
    ev AS (
      SELECT base.*, s, t + s * (({spacing} - 1) / 3) AS et,
        CASE
          WHEN s = 0 THEN 'accepted'
          WHEN u < 30 THEN CASE s WHEN 1 THEN 'deferred' ELSE 'delivered' END
          WHEN u < 60 THEN CASE s WHEN 1 THEN 'bounced' END
          WHEN u = 999 THEN CASE s WHEN 1 THEN 'delivered' ELSE 'complaint' END
          ELSE CASE s WHEN 1 THEN 'delivered' END
        END AS kind,
        CASE WHEN u < 30 OR u >= 60 THEN NULL WHEN u < 48 THEN 'invalid_recipient' WHEN u < 54 THEN 'mailbox_full'
             WHEN u < 57 THEN 'policy' ELSE 'spam_block' END AS bclass
      FROM base {steps}),
    row AS (
      SELECT *, 'user' || r || '@' || rdomain AS rcpt, q || '@' || sdomain AS mid,
        CASE kind WHEN 'delivered' THEN '250 2.0.0 OK ' || q WHEN 'deferred' THEN '421 4.7.0 Try again later'
             WHEN 'bounced' THEN '550 5.1.1 The email account that you tried to reach does not exist' END AS reply,
        CASE WHEN kind IN ('delivered', 'deferred', 'bounced') THEN 'mx1.' || rdomain END AS rhost,
        CASE kind WHEN 'deferred' THEN 1 WHEN 'delivered' THEN CASE WHEN u < 30 THEN 2 ELSE 1 END WHEN 'bounced' THEN 1 END AS att
      FROM ev WHERE kind IS NOT NULL)
    INSERT INTO events(stream_id, time_ms, kind, account, queue_id, message_id, sender, recipient, recipient_domain,
                       sending_domain, site, bounce_class, bounce_type, reply, remote_host, attempt, json, stream_order)
    SELECT et || '-0', et, kind, account, q, mid, sender, rcpt, rdomain, sdomain,
           CASE WHEN kind = 'accepted' THEN NULL ELSE site END, bclass, CASE WHEN bclass IS NOT NULL THEN 'hard' END,
           reply, rhost, att,
           {json_open}'event', kind, 'time', {time_text}, 'queue_id', q,
               'message_id', '<' || mid || '>', 'sender', sender, 'recipient', rcpt, 'domain', rdomain,
               'account', account, 'node', 'bench-1', 'remote_host', rhost, 'reply', reply, 'attempt', att,
               'site', CASE WHEN kind = 'accepted' THEN NULL ELSE site END, 'bounce_class', bclass,
               'bounce_type', CASE WHEN bclass IS NOT NULL THEN 'hard' END, 'size', 20480{json_close},
           et << 20
    FROM row
    """


def generate(binary: str, db: Path, events: int):
    marker = db.with_suffix(db.suffix + ".generated")
    if db.exists() and marker.exists() and marker.read_text().strip() == str(events):
        say(f"reusing {db} ({events:,} events, {db.stat().st_size / 1e9:.1f} GB)")
        return
    for stale in (db, db.with_suffix(".sqlite-wal"), db.with_suffix(".sqlite-shm"), marker):
        stale.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    create_schema(binary, db)
    messages = int(events / EVENTS_PER_MESSAGE)
    now = int(time.time() * 1000)
    start_ms = now - 29 * DAY_MS
    spacing = (29 * DAY_MS) // messages  # ms between messages; each message's events fit in it
    if spacing < 8:
        sys.exit(f"{events:,} events do not fit 29 days at one message per 8 ms")
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-2000000")
    # Indexes are dropped for the bulk load and rebuilt (sorted, much faster) by the store's
    # own schema statements when hikyaku opens the file afterwards.
    indexes = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name='events'")]
    for name in indexes:
        connection.execute(f"DROP INDEX {name}")
    insert = events_sql("sqlite", start_ms, spacing)
    # json_object keeps null members ("remote_host": null): DeliveryEvent decodes them as
    # absent, as it does for the relay's own events.
    chunk = 500_000
    started = time.monotonic()
    done = 0
    while done < messages:
        end = min(messages, done + chunk)
        connection.execute("BEGIN")
        connection.execute(insert, (done, end))
        connection.execute("COMMIT")
        done = end
        elapsed = time.monotonic() - started
        rows = int(done * EVENTS_PER_MESSAGE)
        eta = elapsed / done * (messages - done)
        say(f"generate: {done:,}/{messages:,} messages (~{rows:,} events) {rows / elapsed:,.0f} events/s, ETA {eta / 60:.1f} min")
    total = connection.execute("SELECT count(*) FROM events").fetchone()[0]
    say(f"generate: {total:,} events in {time.monotonic() - started:.0f} s; counting hours")
    started = time.monotonic()
    # As SQLiteLogStore.append counts (one per recipient; site '' on accepted; class only on bounced).
    connection.execute(STATS_SQL)
    hours = connection.execute("SELECT count(*) FROM stats_hourly").fetchone()[0]
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    say(f"generate: {hours:,} hourly rows in {time.monotonic() - started:.0f} s; building indexes")
    started = time.monotonic()
    create_schema(binary, db)
    say(f"generate: indexes built in {time.monotonic() - started:.0f} s; {db.stat().st_size / 1e9:.1f} GB "
        f"({db.stat().st_size / total * 1e6 / 1e9:.2f} GB per million events)")
    marker.write_text(str(events))


def generate_postgres(binary: str, server, config_path: Path, events: int):
    """The same rows as ``generate`` in PostgreSQL's dialect, with the store's own schema
    (created by `hikyaku logs search` on the configured store) and its indexes rebuilt
    after the bulk load."""
    def psql(sql: str, timeout: float = 7200) -> str:
        out = subprocess.run(server._psql_argv(sql, None), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            sys.exit(f"psql failed: {out.stderr.strip()[-2000:]}")
        return out.stdout.strip()

    hikyaku(binary, "logs", "search", "--limit", "1", "--json", "--config", str(config_path))
    # The secondary indexes (the primary key stays: it backs a constraint).
    secondary = "FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'"
    indexes = psql(f"SELECT string_agg(indexdef, ';') {secondary}")
    for name in psql(f"SELECT indexname {secondary}").split():
        psql(f"DROP INDEX {name}")
    messages = int(events / EVENTS_PER_MESSAGE)
    now = int(time.time() * 1000)
    start_ms = now - 29 * DAY_MS
    spacing = (29 * DAY_MS) // messages
    chunk = 500_000
    started = time.monotonic()
    done = 0
    while done < messages:
        end = min(messages, done + chunk)
        psql(events_sql("postgres", start_ms, spacing).replace("{first}", str(done)).replace("{end}", str(end)))
        done = end
        elapsed = time.monotonic() - started
        rows = int(done * EVENTS_PER_MESSAGE)
        say(f"generate (PostgreSQL): {done:,}/{messages:,} messages (~{rows:,} events) {rows / elapsed:,.0f} events/s, "
            f"ETA {elapsed / done * (messages - done) / 60:.1f} min")
    psql(STATS_SQL)
    say(f"generate (PostgreSQL): hourly counts done; rebuilding {len(indexes.split(';'))} indexes")
    psql("SET maintenance_work_mem = '1GB'; " + indexes + "; ANALYZE")
    size = psql("SELECT pg_database_size(current_database())")
    total = int(psql("SELECT count(*) FROM events"))
    say(f"generate (PostgreSQL): {total:,} events in {time.monotonic() - started:.0f} s; database {int(size) / 1e9:.1f} GB "
        f"({int(size) / total * 1e6 / 1e9:.2f} GB per million events)")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"


class ConsoleSession:
    """A logged-in console browser session (cookies, CSRF token from the login form)."""

    def __init__(self, base: str, name: str, password: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(base + "/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf": csrf, "name": name, "password": password}).encode()
        answer = self.opener.open(urllib.request.Request(base + "/login", data=form), timeout=30)
        if "/login" in answer.geturl():
            sys.exit(f"console login as {name} failed")

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=120) as answer:
            return answer.read()


def timed(call, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.monotonic()
        call()
        samples.append(time.monotonic() - started)
    return samples


class StoreReader:
    """The bench's own reads of the store (recipients to search for, row counts): sqlite3,
    or psql for PostgreSQL."""

    def __init__(self, db: Path | None = None, postgres=None):
        self.db, self.postgres = db, postgres

    def rows(self, sql: str) -> list[tuple]:
        if self.postgres is not None:
            return [tuple(row) for row in self.postgres.psql(sql)]
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def count(self) -> int:
        return int(self.rows("SELECT count(*) FROM events")[0][0])


def query_phase(args, store: StoreReader, api_port: int, console_port: int, api_key: str):
    # Recipients acct0 has mailed, picked at random times from the store itself.
    rng = random.Random(14)
    first, last = (int(v) if v not in (None, "") else None for v in store.rows("SELECT min(time_ms), max(time_ms) FROM events")[0])
    recipients = []
    while len(recipients) < args.queries and first is not None:
        at = rng.randrange(first, last + 1)
        found = store.rows("SELECT recipient FROM events WHERE account = 'acct0' AND time_ms >= "
                           f"{at} AND recipient IS NOT NULL ORDER BY account, time_ms LIMIT 1")
        if found:
            recipients.append(found[0][0])
    if not recipients:
        return
    found = []

    def search(recipient: str):
        url = f"http://127.0.0.1:{api_port}/v1/events?recipient={urllib.parse.quote(recipient)}&limit=100"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"})
        with urllib.request.urlopen(request, timeout=120) as answer:
            body = json.loads(answer.read())
        found.append(len(body["events"]))

    samples = []
    for recipient in recipients:
        started = time.monotonic()
        search(recipient)
        samples.append(time.monotonic() - started)
    say(f"one-recipient search (GET /v1/events?recipient=, {len(samples)} recipients, "
        f"{min(found)}–{max(found)} events each): {percentiles(samples)}")
    base = f"http://127.0.0.1:{console_port}"
    operator = ConsoleSession(base, "bench-operator", "bench-password-1")
    samples = timed(lambda: operator.get("/"), args.repeat)
    say(f"console overview, operator (all {ACCOUNTS} accounts, today/7/30 days): {percentiles(samples)}")
    user = ConsoleSession(base, "bench-user", "bench-password-2")
    samples = timed(lambda: user.get("/"), args.repeat)
    say(f"console overview, account user (one account): {percentiles(samples)}")
    samples = timed(lambda: user.get("/search?recipient=" + urllib.parse.quote(recipients[0])), args.repeat)
    say(f"console search page, one recipient: {percentiles(samples)}")


def feed(redis_port: int, rate: int, seconds: int, stop: threading.Event) -> int:
    """XADDs `rate` events per second (in 10 slices) for `seconds`; returns how many."""
    from hikyaku_testsupport.resp import Redis
    redis = Redis(redis_port, timeout=30)
    sent = 0
    started = time.monotonic()
    per_slice = max(1, rate // 10)
    while time.monotonic() - started < seconds and not stop.is_set():
        now = int(time.time() * 1000)
        commands = []
        for n in range(per_slice):
            i = sent + n
            r = (i * 7919) % RECIPIENTS
            domain, site = DOMAINS[domain_index(r)]
            event = {"event": "delivered", "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now / 1000))
                     + f".{now % 1000:03d}Z", "queue_id": f"feed{i:012d}", "message_id": f"<feed{i}@acct1.example>",
                     "sender": "news@acct1.example", "recipient": f"feed{r}@{domain}", "domain": domain,
                     "account": "acct1", "site": site, "remote_host": f"mx1.{domain}", "reply": "250 2.0.0 OK",
                     "attempt": 1, "node": "bench-feed"}
            commands.append(("XADD", "hk:events", "*", "e", json.dumps(event)))
        redis.pipeline(commands)
        sent += per_slice
        target = started + sent / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return sent


def archive_phase(args, redis: RedisServer, store: StoreReader):
    before = store.count()
    stop = threading.Event()
    result = {}
    feeder = threading.Thread(target=lambda: result.update(sent=feed(redis.port, args.rate, args.seconds, stop)))
    started = time.monotonic()
    feeder.start()
    lags = []
    while feeder.is_alive() or (lags and lags[-1] > 0 and time.monotonic() - started < args.seconds + 120):
        time.sleep(1)
        groups = redis.client().call("XINFO", "GROUPS", "hk:events")
        lag = 0
        for group in groups:
            fields = dict(zip(group[::2], group[1::2]))
            if fields.get(b"name") == b"archiver":
                lag = int(fields.get(b"lag") or 0) + int(fields.get(b"pending") or 0)
        lags.append(lag)
        if int(time.monotonic() - started) % 10 == 0:
            say(f"archive: {time.monotonic() - started:.0f} s, archiver lag {lag:,} events")
    elapsed = time.monotonic() - started
    after = store.count()
    stored = after - before
    say(f"archive: fed {result.get('sent', 0):,} events at {args.rate:,}/s for {args.seconds} s; stored {stored:,} "
        f"in {elapsed:.0f} s ({stored / elapsed:,.0f} events/s); lag max {max(lags):,}, at the end {lags[-1]:,}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("HIKYAKU_BIN", ".build-release/release/hikyaku"))
    parser.add_argument("--events", type=int, default=int(os.environ.get("EVENTS", "1000000")))
    parser.add_argument("--db", type=Path, default=Path("var/logbench/logs.sqlite"))
    parser.add_argument("--queries", type=int, default=50, help="recipients searched")
    parser.add_argument("--repeat", type=int, default=5, help="overview loads per viewer")
    parser.add_argument("--rate", type=int, default=5000, help="events/s fed to the archiver")
    parser.add_argument("--seconds", type=int, default=60, help="how long the feed runs")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default=os.environ.get("STORE", "sqlite"),
                        help="postgres: a throwaway PostgreSQL server (Debian's), generated afresh each run")
    args = parser.parse_args()
    args.db = args.db.resolve()
    where = args.db if args.store == "sqlite" else "a throwaway PostgreSQL server"
    say(f"log store bench: {args.events:,} events in {where}; binary {args.bin}")
    if args.store == "sqlite":
        generate(args.bin, args.db, args.events)
    with tempfile.TemporaryDirectory(prefix="logstore-bench-") as scratch:
        scratch = Path(scratch)
        redis = RedisServer(scratch / "redis").start()
        postgres = None
        if args.store == "postgres":
            from hikyaku_testsupport.postgres import PostgresServer
            postgres = PostgresServer(scratch / "postgres.log").start()
        api_port, console_port, smtp_port = free_ports(3)
        config = {
            "hostname": "bench.test", "log_level": "warning",
            "redis": {"url": redis.url},
            "ingest": {"listeners": [{"name": "relay", "address": f"127.0.0.1:{smtp_port}", "mode": "relay"}],
                       "relay_networks": ["127.0.0.1/32"]},
            "api": {"plain_listen": [f"127.0.0.1:{api_port}"]},
            "console": {"plain_listen": [f"127.0.0.1:{console_port}"]},
            "logs": ({"sqlite_path": str(args.db)} if postgres is None else
                     {"postgres_url": postgres.url, "postgres_password_file": str(postgres.password_file)}),
            "events": {"max_length": 2_000_000},
        }
        relay = Relay(args.bin, "bench", config, scratch / "hikyaku.yaml", "all", scratch / "hikyaku.log")
        cfg = str(relay.config_path)
        store = StoreReader(db=args.db, postgres=postgres)
        try:
            if postgres is not None:
                generate_postgres(args.bin, postgres, relay.config_path, args.events)
            hikyaku(args.bin, "account", "add", "acct0", "--any-sender", "--config", cfg)
            key = hikyaku(args.bin, "account", "api-key", "create", "acct0", "--scope", "read", "--config", cfg)
            api_key = re.search(r"(hk_[A-Za-z0-9_\-]+)", key).group(1)
            subprocess.run([args.bin, "operator", "add", "bench-operator", "--password-stdin", "--config", cfg],
                           input="bench-password-1\n", text=True, check=True, env=child_environment(), capture_output=True)
            subprocess.run([args.bin, "account", "console-user", "add", "acct0", "bench-user", "--password-stdin",
                            "--config", cfg], input="bench-password-2\n", text=True, check=True, env=child_environment(),
                           capture_output=True)
            relay.start()
            query_phase(args, store, api_port, console_port, api_key)
            archive_phase(args, redis, store)
        except BaseException:
            log = scratch / "hikyaku.log"
            if log.exists():
                print(log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            relay.stop()
            redis.stop()
            if postgres is not None:
                postgres.stop()


if __name__ == "__main__":
    main()
