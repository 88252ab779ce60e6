"""Signed webhooks end to end: accounts, endpoints and replays made with the real
`hikyaku webhook` commands; mail sent through the HTTP API; events POSTed by the
dispatcher (role `webhooks`, or `all`) to a real HTTP receiver (Python's http.server in a
thread) that checks every request's signature the way the README tells users to, and
records every event by its `event_id`. The receiver can be made to answer 503 or 400, or
be shut down (connection refused).
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import re
import socketserver
import threading
import time

import pytest

from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for

from test_api import API, hikyaku, make_account, wait_loaded

FAST_RETRIES = {"retry_initial": "200ms", "retry_max": "1s", "request_timeout": "2s", "lease_time": "3s"}


class HookReceiver:
    """An HTTP server on 127.0.0.1 that verifies X-Hikyaku-Signature and records events."""

    def __init__(self, port: int):
        self.port = port
        self.secrets: list[str] = []
        self.mode = "ok"  # ok | 503 | 400
        self.events: dict[str, dict] = {}
        self.arrivals: dict[str, float] = {}
        self.requests = 0
        self.duplicates = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server = None

    def verify(self, timestamp: str, header: str, body: bytes) -> bool:
        """The README's recipe: HMAC-SHA256(secret, timestamp + "." + body), any v1= matching."""
        if abs(time.time() - int(timestamp)) > 300:
            return False
        given = [part[3:] for part in header.split(",") if part.startswith("v1=")]
        for secret in self.secrets:
            expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            if any(hmac.compare_digest(expected, candidate) for candidate in given):
                return True
        return False

    def start(self) -> "HookReceiver":
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with owner.lock:
                    owner.requests += 1
                    mode = owner.mode
                    if mode == "ok":
                        if not owner.verify(self.headers.get("X-Hikyaku-Timestamp", "0"),
                                            self.headers.get("X-Hikyaku-Signature", ""), body):
                            owner.bad_signatures += 1
                            mode = "401"
                        else:
                            now = time.time()
                            for event in json.loads(body):
                                if event["event_id"] in owner.events:
                                    owner.duplicates += 1
                                owner.events[event["event_id"]] = event
                                owner.arrivals.setdefault(event["event_id"], now)
                code = {"ok": 204, "503": 503, "400": 400, "401": 401}[mode]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        socketserver.TCPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Closes the socket: connections are refused until start()."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def kinds_by_queue_id(self) -> dict[str, set[str]]:
        with self.lock:
            out: dict[str, set[str]] = {}
            for event in self.events.values():
                out.setdefault(event["queue_id"], set()).add(event["event"])
            return out


# The tests send hundreds of requests at once: above the default per-key rate (api.key_rate).
FAST_KEY = "100000/s burst 100000"


@pytest.fixture
def hooks():
    receiver = HookReceiver(free_ports(1)[0]).start()
    yield receiver
    receiver.stop()


def add_endpoint(relay, account: str, url: str, *extra: str) -> tuple[str, str]:
    out = hikyaku(relay, "webhook", "add", account, url, *extra)
    endpoint_id = re.search(r"created webhook ([0-9a-f]{16})", out).group(1)
    secret = re.search(r"secret \(shown once, store it now\): (whsec_[0-9a-f]{64})", out).group(1)
    return endpoint_id, secret


def api_process(make_relay, role: str, overrides: dict | None = None):
    plain = free_ports(1)[0]
    relay = make_relay(role, {"accounts": {"refresh_interval": "200ms"}, "webhooks": FAST_RETRIES,
                              "api": {"plain_listen": [f"127.0.0.1:{plain}"]}, **(overrides or {})})
    relay.api_port = plain
    if role in ("all", "api"):
        wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    return relay


def send(api: API, tok: str, count: int, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        answer = api.post("/v1/messages", {"from": "app@acme.example", "to": f"u{n}-{tok}@static.test", "subject": "s", "text": "t"})
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


def wait_delivered(hooks: HookReceiver, queue_ids: list[str], timeout: float = 60):
    """Every message's `accepted` and `delivered` events arrived."""
    def done():
        seen = hooks.kinds_by_queue_id()
        return all({"accepted", "delivered"} <= seen.get(qid, set()) for qid in queue_ids)
    wait_for(done, timeout=timeout, what=f"the events of {len(queue_ids)} messages at the webhook")


def test_signed_events_arrive_after_503s_and_refused_connections(make_relay, hooks):
    relay = api_process(make_relay, "all")
    tok = token()
    key = make_account(relay, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(relay, 1)
    endpoint, secret = add_endpoint(relay, "acme", f"http://127.0.0.1:{hooks.port}/hook", "--allow-private")
    hooks.secrets = [secret]
    api = API(f"http://127.0.0.1:{relay.api_port}", key)

    hooks.mode = "503"
    first = send(api, tok, 20)
    wait_for(lambda: hooks.requests >= 2, what="retries against the 503s")
    hooks.stop()
    second = send(api, tok, 20, start=20)
    time.sleep(2)  # tries against a closed port
    assert hooks.events == {}
    hooks.mode = "ok"
    hooks.start()
    wait_delivered(hooks, first + second)
    assert hooks.bad_signatures == 0
    # Every event the account has in the stream arrived, none twice under two ids.
    stream = [e for e in relay.events() if e.get("account") == "acme"]
    assert {(e["queue_id"], e["event"]) for e in stream} == {(e["queue_id"], e["event"]) for e in hooks.events.values()}
    assert len(hooks.events) == len(stream)
    assert "HTTP 503" in relay.process.log_text() and "connect" in relay.process.log_text().lower()
    assert secret not in relay.process.log_text()
    listed = hikyaku(relay, "webhook", "list", "acme")
    assert endpoint in listed and secret not in listed


def webhooks_group(relay) -> tuple[int, str]:
    """(pending, lag) of the dispatcher's consumer group, from `hikyaku events groups`."""
    for line in hikyaku(relay, "events", "groups").splitlines():
        cells = line.split()
        if cells and cells[0] == "webhooks":
            return int(cells[2]), cells[3]
    return -1, "?"


def test_without_endpoints_events_are_acknowledged_and_an_endpoint_added_later_gets_what_follows(make_relay, hooks):
    """With no endpoint the dispatcher acknowledges events without decoding them: nothing
    piles up in its group, and none of them is sent to an endpoint added afterwards."""
    relay = api_process(make_relay, "all")
    tok = token()
    key = make_account(relay, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    before = send(api, tok, 30)
    wait_for(lambda: {e["queue_id"] for e in relay.events() if e["event"] == "delivered"} >= set(before),
             what="the first messages delivered")
    wait_for(lambda: webhooks_group(relay) == (0, "0"), what="the webhooks group to have read and acknowledged everything")
    _, secret = add_endpoint(relay, "acme", f"http://127.0.0.1:{hooks.port}/hook", "--allow-private")
    hooks.secrets = [secret]
    after = send(api, tok, 10, start=100)
    wait_delivered(hooks, after)
    assert not set(before) & set(hooks.kinds_by_queue_id())
    assert hooks.bad_signatures == 0


def test_events_filter_rotation_and_test_command(make_relay, hooks):
    relay = api_process(make_relay, "all")
    tok = token()
    key = make_account(relay, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(relay, 1)
    endpoint, secret = add_endpoint(relay, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private", "--events", "delivered")
    hooks.secrets = [secret]
    assert hikyaku(relay, "webhook", "test", "acme", endpoint).startswith("HTTP 204")
    new = re.search(r"(whsec_[0-9a-f]{64})", hikyaku(relay, "webhook", "rotate-secret", "acme", endpoint)).group(1)
    # During the rotation both signatures are sent: a receiver knowing either accepts.
    for known in ([secret], [new]):
        hooks.secrets = known
        assert hikyaku(relay, "webhook", "test", "acme", endpoint).startswith("HTTP 204"), known
    hikyaku(relay, "webhook", "rotate-secret", "acme", endpoint, "--finish")
    hooks.secrets = [secret]
    assert hikyaku(relay, "webhook", "test", "acme", endpoint).startswith("HTTP 401")
    hooks.secrets = [new]
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    ids = send(api, tok, 3)
    wait_for(lambda: all("delivered" in hooks.kinds_by_queue_id().get(q, set()) for q in ids), what="delivered events")
    assert {e["event"] for e in hooks.events.values() if not e.get("test")} == {"delivered"}


def test_a_400_makes_dead_letters_and_replay_delivers_them(make_relay, hooks):
    relay = api_process(make_relay, "all")
    tok = token()
    key = make_account(relay, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(relay, 1)
    endpoint, secret = add_endpoint(relay, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private")
    hooks.secrets = [secret]
    hooks.mode = "400"
    ids = send(API(f"http://127.0.0.1:{relay.api_port}", key), tok, 5)

    def dead() -> int:
        row = [line for line in hikyaku(relay, "webhook", "list", "acme").splitlines() if line.startswith(endpoint)][0]
        return int(row.split()[-2])
    wait_for(lambda: dead() == 10, what="10 dead letters (accepted + delivered of 5 messages)")
    assert hooks.events == {}
    hooks.mode = "ok"
    assert "requeued 10 dead letter(s)" in hikyaku(relay, "webhook", "replay", "acme", endpoint)
    wait_delivered(hooks, ids)
    assert dead() == 0


def test_ssrf_targets_are_refused_without_allow_private(make_relay, hooks):
    relay = api_process(make_relay, "all")
    make_account(relay, "acme", "acme.example", rate=FAST_KEY)
    for url in ("http://169.254.169.254/latest/meta-data/", f"http://127.0.0.1:{hooks.port}/", "http://[::1]/",
                "http://10.1.2.3/", "http://localhost/", "ftp://example.com/"):
        out = hikyaku(relay, "webhook", "add", "acme", url, check=False)
        assert "created webhook" not in out and "Error" in out, (url, out)
    assert "no webhooks" in hikyaku(relay, "webhook", "list", "acme")
    # With --allow-private (tests, internal receivers) loopback is accepted.
    out = hikyaku(relay, "webhook", "add", "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private", check=False)
    assert "created webhook" in out


def test_kill_9_of_the_dispatcher_loses_nothing(make_relay, hooks):
    api = api_process(make_relay, "api")
    make_relay("worker")
    dispatcher = make_relay("webhooks", {"webhooks": FAST_RETRIES})
    tok = token()
    key = make_account(api, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(api, 1)
    _, secret = add_endpoint(api, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private")
    hooks.secrets = [secret]
    client = API(f"http://127.0.0.1:{api.api_port}", key)
    ids = send(client, tok, 30)
    wait_for(lambda: len(hooks.events) >= 5, what="the first events")
    dispatcher.kill9()
    ids += send(client, tok, 30, start=30)
    dispatcher.start()
    wait_delivered(hooks, ids, timeout=90)
    assert hooks.bad_signatures == 0


def test_a_small_ceiling_counts_the_loss_and_delivery_goes_on(make_relay, hooks):
    small = {"events": {"max_length": 20}}
    api = api_process(make_relay, "api", small)
    make_relay("worker", small)
    dispatcher = make_relay("webhooks", {**small, "webhooks": FAST_RETRIES})
    wait_for(lambda: "webhook dispatcher running" in dispatcher.process.log_text(), what="the dispatcher")
    key = make_account(api, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(api, 1)
    _, secret = add_endpoint(api, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private")
    hooks.secrets = [secret]
    dispatcher.stop()
    client = API(f"http://127.0.0.1:{api.api_port}", key)
    tok = token()
    send(client, tok, 150)
    groups = hikyaku(api, "events", "groups")
    assert "webhooks" in groups
    dispatcher.start()
    wait_for(lambda: re.search(r"(\d+) event\(s\) were trimmed from the events stream before group 'webhooks'",
                               dispatcher.process.log_text()), what="the loss to be logged")
    lost = int(re.search(r"(\d+) event\(s\) were trimmed", dispatcher.process.log_text()).group(1))
    assert lost >= 100
    later = send(client, tok, 3, start=1000)
    wait_delivered(hooks, later)
    # Counted once.
    assert len(re.findall(r"were trimmed from the events stream before group", dispatcher.process.log_text())) == 1


def test_latency_figures(make_relay, hooks, capsys):
    """Prints event time → receiver arrival over a few hundred events (a figure, not asserted)."""
    relay = api_process(make_relay, "all", {"log_level": "info"})
    key = make_account(relay, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(relay, 1)
    _, secret = add_endpoint(relay, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private")
    hooks.secrets = [secret]
    ids = send(API(f"http://127.0.0.1:{relay.api_port}", key), token(), 200)
    wait_delivered(hooks, ids, timeout=120)
    from datetime import datetime
    latencies = sorted(hooks.arrivals[i] - datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
                       for i, e in hooks.events.items())
    median, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    with capsys.disabled():
        print(f"\nwebhook latency over {len(latencies)} events: median {median * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms, {hooks.requests} requests")


def test_the_dispatcher_works_with_its_own_acl_user(make_relay, tls_redis, hooks):
    """The `hikyaku-webhooks` user's commands and key patterns (RedisACL.webhooks) suffice."""
    def config(role: str) -> dict:
        return {"redis": {"url": tls_redis.url(role), "tls": {"ca_file": str(tls_redis.ca[0])}}, "webhooks": FAST_RETRIES}
    admin = make_relay("api", {**config("admin"), "accounts": {"refresh_interval": "200ms"}}, start=False)
    assert hikyaku(admin, "redis", "load-functions", "--redis-url", tls_redis.url("admin")).count("hikyaku") >= 1
    api = api_process(make_relay, "api", config("ingest"))
    make_relay("worker", config("worker"))
    dispatcher = make_relay("webhooks", config("webhooks"))
    key = make_account(admin, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(api, 1)
    _, secret = add_endpoint(admin, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private")
    hooks.secrets = [secret]
    ids = send(API(f"http://127.0.0.1:{api.api_port}", key), token(), 3)
    wait_delivered(hooks, ids)
    assert "NOPERM" not in dispatcher.process.log_text() and "no permissions" not in dispatcher.process.log_text()
    assert "user=hikyaku-webhooks" in tls_redis.cli("root", "CLIENT", "LIST")
