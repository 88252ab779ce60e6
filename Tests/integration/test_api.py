"""The HTTP send API (issue 12), end to end with real clients: curl, Python's urllib and
requests. Accounts and keys are made with the real `hikyaku account` commands; messages go
through the relay to the recording receiver and are read back with Python's `email`
package; DKIM signatures are checked with dkimpy against a dnsmasq serving the keys.
"""

from __future__ import annotations

import base64
import concurrent.futures
import email
import email.policy
import json
import subprocess
import urllib.error
import urllib.request

import pytest
import requests

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for

from test_dkim import KeyServer, verify_all, zone_records

JAPANESE_SUBJECT = "【重要】日本語の件名テスト：お支払いのご案内（十二月分）とその他のお知らせ"
JAPANESE_NAME = "山田太郎"
JAPANESE_BODY = "山田様\n\nいつもご利用いただきありがとうございます。\n今月のご請求金額は１２，３４５円です。\n"


def hikyaku(relay, *args: str, check: bool = True) -> str:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment())
    if check:
        assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out.stdout + out.stderr


class API:
    """The relay's API at `base`, with one account's key."""

    def __init__(self, base: str, key: str, verify=True):
        self.base = base
        self.key = key
        self.verify = verify

    def post(self, path: str, body, key: str | None = None, headers: dict | None = None) -> requests.Response:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        all_headers = {"Authorization": f"Bearer {key or self.key}", "Content-Type": "application/json", **(headers or {})}
        return requests.post(self.base + path, data=data, headers=all_headers, timeout=30, verify=self.verify)

    def get(self, path: str, key: str | None = None, params: dict | None = None) -> requests.Response:
        return requests.get(self.base + path, headers={"Authorization": f"Bearer {key or self.key}"}, params=params,
                            timeout=30, verify=self.verify)


@pytest.fixture
def api_relay(make_relay):
    plain, secure = free_ports(2)
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"},
                               "api": {"plain_listen": [f"127.0.0.1:{plain}"], "listen": [f"127.0.0.1:{secure}"]}})
    relay.api_port, relay.api_tls_port = plain, secure
    wait_for(lambda: f"HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    return relay


def make_account(relay, name: str, domain: str, *extra: str, scope: str = "send,read", rate: str | None = None) -> str:
    hikyaku(relay, "account", "add", name, "--domain", domain, *extra)
    args = ["account", "api-key", "create", name, "--scope", scope] + (["--rate", rate] if rate else [])
    key = hikyaku(relay, *args).strip().splitlines()[-1]
    assert key.startswith("hk_"), key
    wait_for(lambda: f"{name}" in hikyaku(relay, "account", "list"), what="the account")
    return key


def wait_loaded(relay, count: int):
    wait_for(lambda: f"loaded {count} account(s)" in relay.process.log_text(), what=f"the relay to load {count} account(s)")


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_a_japanese_message_arrives_decoded_and_dkim_signed(api_relay, receiver, tmp_path):
    relay = api_relay
    tok = token()
    domain = f"api{tok}.example"
    records = zone_records(hikyaku(relay, "domain", "add", domain))
    key = make_account(relay, "acme", domain)
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    pdf = b"%PDF-1.4 not really a pdf \x00\x01\x02" * 50
    sent = {}
    for charset in ("utf-8", "iso-2022-jp"):
        rcpt = f"{charset.replace('-', '')}-{tok}@static.test"
        answer = api.post("/v1/messages", {
            "from": {"email": f"billing@{domain}", "name": JAPANESE_NAME},
            "to": [{"email": rcpt, "name": "鈴木花子"}],
            "subject": JAPANESE_SUBJECT, "text": JAPANESE_BODY, "html": "<p>山田様</p><p>ご請求金額：<b>１２，３４５円</b></p>",
            "charset": charset,
            "attachments": [{"filename": "請求書.pdf", "content": base64.b64encode(pdf).decode(), "content_type": "application/pdf"}],
            "headers": {"X-Campaign": "十二月"},
        })
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["recipients"] == [{"email": rcpt, "status": "queued"}]
        assert len(body["id"]) == 18 and body["message_id"] == f"<{body['id']}@relay.test>"
        sent[charset] = (rcpt, body)

    with KeyServer(tmp_path / "keys", records) as keys:
        for charset, (rcpt, body) in sent.items():
            data = wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"the {charset} message to arrive")[0]["data"]
            message = parsed(data)
            assert str(message["subject"]) == JAPANESE_SUBJECT, charset
            assert message["from"].addresses[0].display_name == JAPANESE_NAME
            assert message["to"].addresses[0].display_name == "鈴木花子"
            assert str(message["x-campaign"]) == "十二月"
            assert message["message-id"] == body["message_id"]
            assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == JAPANESE_BODY
            assert "１２，３４５円" in message.get_body(("html",)).get_content()
            attachments = list(message.iter_attachments())
            assert [a.get_filename() for a in attachments] == ["請求書.pdf"]
            assert attachments[0].get_content() == pdf
            if charset == "iso-2022-jp":
                assert b"charset=ISO-2022-JP" in data or b"charset=iso-2022-jp" in data
            assert b"with HTTP id " + body["id"].encode() in data, "the relay's Received: names the API"
            results = verify_all(data, keys)
            assert results and all(ok for _, _, ok in results), (charset, results)


def test_clients_curl_and_urllib_and_the_errors_they_get(api_relay, receiver):
    relay = api_relay
    tok = token()
    key = make_account(relay, "acme", "acme.example")
    reader = make_account(relay, "reader", "reader.example", scope="read")
    wait_loaded(relay, 2)
    base = f"http://127.0.0.1:{relay.api_port}"

    # curl, as the README shows it.
    rcpt = f"curl-{tok}@static.test"
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", f"{base}/v1/messages", "-H", f"Authorization: Bearer {key}",
                          "-H", "Content-Type: application/json",
                          "-d", json.dumps({"from": "app@acme.example", "to": rcpt, "subject": "curl", "text": "hi"})],
                         capture_output=True, text=True, timeout=30)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "202", out.stdout
    wait_for(lambda: receiver.messages_to(rcpt), what="curl's message")

    # urllib: every error is JSON with a code and a message naming the field.
    def call(body: bytes | None, headers: dict) -> tuple[int, dict, dict]:
        request = urllib.request.Request(f"{base}/v1/messages", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    good = {"from": "app@acme.example", "to": f"u-{tok}@static.test", "subject": "s", "text": "t"}
    cases = [
        (json.dumps(good).encode(), {"Content-Type": "application/json"}, 401, "unauthorized", None),
        (json.dumps(good).encode(), {**auth, "Authorization": "Bearer hk_nope_0000"}, 401, "unauthorized", None),
        (json.dumps(good).encode(), {**auth, "Authorization": f"Bearer {reader}"}, 403, "forbidden", "send"),
        (json.dumps({**good, "from": "ceo@bank.example"}).encode(), auth, 403, "forbidden", "bank.example"),
        (b"{not json", auth, 400, "invalid_json", None),
        (json.dumps({**good, "to": "not-an-address"}).encode(), auth, 422, "invalid_field", "to"),
        (json.dumps({**good, "to": ["ok@static.test", "bad"]}).encode(), auth, 422, "invalid_field", "to[1]"),
        (json.dumps({**good, "reply_too": "x@y.example"}).encode(), auth, 422, "invalid_field", "reply_too"),
        (json.dumps({**good, "headers": {"Bcc": "x@y.example"}}).encode(), auth, 422, "invalid_field", "headers"),
        (json.dumps({**good, "headers": {"X-A": "a\r\nBcc: x@y.example"}}).encode(), auth, 422, "invalid_field", "headers"),
        (json.dumps({**good, "charset": "latin-9"}).encode(), auth, 422, "invalid_field", "charset"),
        (json.dumps({"from": "app@acme.example", "subject": "s", "text": "t"}).encode(), auth, 422, "invalid_field", "to"),
        (json.dumps({**good, "raw": "Subject: x\r\n\r\nbody"}).encode(), auth, 422, "invalid_field", "envelope"),
        (json.dumps(good).encode(), {**auth, "Content-Type": "text/plain"}, 415, "unsupported_media_type", None),
        (b"x" * (11 << 20), auth, 413, "too_large", None),
    ]
    for body, headers, status, code, mentions in cases:
        got_status, got_headers, got = call(body, headers)
        assert got_status == status, (body[:80], got_status, got)
        assert got["error"]["code"] == code, got
        if mentions:
            assert mentions in got["error"]["message"], got
        assert key not in json.dumps(got), "a secret in an error"
        if status == 401:
            assert got_headers.get("WWW-Authenticate", "").startswith("Bearer")
    # Nothing of the refused requests was queued.
    assert [e for e in relay.events() if e["event"] == "accepted"] == [e for e in relay.events()
                                                                        if e["event"] == "accepted" and rcpt in e["recipients"]]


def test_raw_sandbox_and_what_an_account_may_read(api_relay, receiver):
    relay = api_relay
    tok = token()
    key = make_account(relay, "acme", "acme.example")
    other = make_account(relay, "other", "other.example")
    wait_loaded(relay, 2)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)

    rcpt = f"raw-{tok}@static.test"
    raw = f"From: App <app@acme.example>\nTo: <{rcpt}>\nSubject: raw one\nMessage-ID: <raw-{tok}@acme.example>\n\nline one\nline two\n"
    answer = api.post("/v1/messages", {"raw": raw, "envelope": {"from": "bounce@acme.example", "to": [rcpt]},
                                       "tags": ["invoice"], "metadata": {"order": "A-1"}})
    assert answer.status_code == 202, answer.text
    queue_id = answer.json()["id"]
    assert answer.json()["message_id"] == f"<raw-{tok}@acme.example>"
    data = wait_for(lambda: receiver.messages_to(rcpt), what="the raw message")[0]["data"]
    assert b"\r\nline one\r\nline two\r\n" in data, "bare LF became CRLF"

    sandboxed = f"sandbox-{tok}@static.test"
    answer = api.post("/v1/messages", {"from": "app@acme.example", "to": sandboxed, "subject": "s", "text": "t", "sandbox": True})
    assert answer.status_code == 202 and answer.json()["recipients"] == [{"email": sandboxed, "status": "sandbox"}], answer.text

    # Its status, and events, for its own account only.
    def delivered():
        got = api.get(f"/v1/messages/{queue_id}")
        return got.json() if got.status_code == 200 and got.json()["recipients"][0]["status"] == "delivered" else None
    status = wait_for(delivered, what="the message's status to be delivered")
    assert status["from"] == "bounce@acme.example" and status["recipients"][0]["email"] == rcpt
    assert api.get(f"/v1/messages/{queue_id}", key=other).status_code == 404
    events = api.get("/v1/events", params={"queue_id": queue_id}).json()["events"]
    assert sorted(e["event"] for e in events) == ["accepted", "delivered"]
    assert all(e["account"] == "acme" and e["event_id"] for e in events)
    assert all(e["tags"] == ["invoice"] and e["metadata"] == {"order": "A-1"} for e in events), "labels on every event"
    assert api.get("/v1/events", key=other, params={"queue_id": queue_id}).json()["events"] == []
    assert api.get("/v1/events", params={"event": "exploded"}).status_code == 422
    assert api.get("/v1/events", params={"since": "yesterday"}).status_code == 422
    # Counts need the log store, which this relay has not (logs.sqlite_path unset).
    stats = api.get("/v1/stats")
    assert stats.status_code == 503 and "logs.sqlite_path" in stats.json()["error"]["message"]
    # The sandboxed message left no trace but its answer.
    assert not any(sandboxed in json.dumps(e) for e in relay.events())
    assert receiver.messages_to(sandboxed) == []


def test_batch_renders_each_item_and_reports_a_quota_reached_half_way(api_relay, receiver):
    relay = api_relay
    tok = token()
    key = make_account(relay, "acme", "acme.example", "--hourly-quota", "2")
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    people = [("佐藤", f"a-{tok}@static.test"), ("<b>Bob</b>", f"b-{tok}@static.test"), ("Carol", f"c-{tok}@static.test")]
    batch = {
        "from": "news@acme.example", "subject": "{{name}}様へのお知らせ", "text": "Hello {{name}}", "html": "<p>Hello {{name}}</p>",
        "headers": {"X-Name": "{{name}}"},
        "personalizations": [{"to": rcpt, "variables": {"name": name}} for name, rcpt in people],
    }
    # One invalid item: 422 naming it, nothing stored.
    bad = json.loads(json.dumps(batch))
    bad["personalizations"][1]["to"] = "nobody"
    answer = api.post("/v1/messages/batch", bad)
    assert answer.status_code == 422 and "personalizations[1]" in answer.json()["error"]["message"], answer.text
    assert [e for e in relay.events() if e["event"] == "accepted"] == []

    # A header injection through a variable is defused: CR/LF become spaces.
    answer = api.post("/v1/messages/batch", batch)
    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    # Items are enqueued several at once: which one meets the quota is not fixed, how many is.
    assert sorted(r.get("error", {}).get("code", "ok") for r in results) == ["ok", "ok", "quota_exceeded"], results
    accepted = {people[i][0] for i, r in enumerate(results) if "id" in r}
    for name, rcpt in people:
        if name not in accepted:
            continue
        message = parsed(wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{name}'s message")[0]["data"])
        assert str(message["subject"]) == f"{name}様へのお知らせ" and str(message["x-name"]) == name
        if name == "<b>Bob</b>":
            assert "Hello &lt;b&gt;Bob&lt;/b&gt;" in message.get_body(("html",)).get_content(), "HTML-escaped in html"
            assert message.get_body(("plain",)).get_content().strip() == "Hello <b>Bob</b>", "as is in text"


def test_idempotency_key_returns_the_first_answer_and_stores_once(api_relay, receiver):
    relay = api_relay
    tok = token()
    key = make_account(relay, "acme", "acme.example")
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    rcpt = f"idem-{tok}@static.test"
    body = {"from": "app@acme.example", "to": rcpt, "subject": "once", "text": "only once"}
    headers = {"Idempotency-Key": f"order-{tok}"}
    # Four at once: one runs, the others wait for its answer.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/messages", body, headers=headers), range(4)))
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
    again = api.post("/v1/messages", body, headers=headers)
    assert again.json() == answers[0].json()
    changed = api.post("/v1/messages", {**body, "text": "something else"}, headers=headers)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"
    wait_for(lambda: receiver.messages_to(rcpt), what="the message")
    accepted = [e for e in relay.events() if e["event"] == "accepted" and rcpt in e["recipients"]]
    assert len(accepted) == 1, accepted


def test_rate_limits_https_and_plain_http_networks(make_relay, receiver, certs):
    plain, secure = free_ports(2)
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"},
                               "api": {"plain_listen": [f"127.0.0.1:{plain}"], "listen": [f"127.0.0.1:{secure}"],
                                       "plain_networks": ["127.0.0.9/32"]}})
    wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API")
    key = make_account(relay, "acme", "acme.example", rate="2/s burst 2")
    wait_loaded(relay, 1)
    # Plain HTTP from outside api.plain_networks: disconnected before the request is read.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{plain}/readyz", timeout=10)
    # HTTPS with the ingest certificate.
    api = API(f"https://127.0.0.1:{secure}", key, verify=False)
    assert requests.get(f"https://127.0.0.1:{secure}/readyz", timeout=10, verify=False).json() == {"status": "ready"}
    statuses = [api.post("/v1/messages", {"from": "a@acme.example", "to": "x@static.test", "subject": "s", "text": "t",
                                          "sandbox": True}) for _ in range(4)]
    assert [s.status_code for s in statuses][:2] == [202, 202]
    limited = [s for s in statuses if s.status_code == 429]
    assert limited and limited[0].json()["error"]["code"] == "rate_limited"
    assert int(limited[0].headers["Retry-After"]) >= 1


def test_redis_down_is_503_with_retry_after(api_relay, redis_server):
    relay = api_relay
    key = make_account(relay, "acme", "acme.example")
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    body = {"from": "a@acme.example", "to": "x@static.test", "subject": "s", "text": "t"}
    assert api.post("/v1/messages", body).status_code == 202
    redis_server.stop()
    try:
        # (A requests.Response is falsy when its status is an error: wrap it.)
        answer = wait_for(lambda: (lambda r: [r] if r.status_code == 503 else None)(api.post("/v1/messages", body)),
                          what="a 503 while Redis is down")[0]
        assert answer.json()["error"]["code"] == "unavailable" and int(answer.headers["Retry-After"]) > 0
        assert requests.get(f"http://127.0.0.1:{relay.api_port}/readyz", timeout=10).status_code == 503
    finally:
        redis_server.start()
    wait_for(lambda: api.post("/v1/messages", body).status_code == 202, what="the API to accept again")


def test_an_account_manages_its_webhooks_without_reaching_private_addresses(api_relay):
    relay = api_relay
    key = make_account(relay, "acme", "acme.example", scope="send,webhooks")
    sender = make_account(relay, "other", "other.example", scope="send")
    wait_loaded(relay, 2)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    made = api.post("/v1/webhooks", {"url": "https://192.0.2.10/hook", "events": ["bounced", "delivered"]})
    assert made.status_code == 201, made.text
    endpoint = made.json()
    assert endpoint["url"] == "https://192.0.2.10/hook" and endpoint["events"] == ["bounced", "delivered"]
    assert len(endpoint["secret"]) >= 32
    listed = api.get("/v1/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [endpoint["id"]] and "secret" not in listed[0], "the secret is shown once"
    assert endpoint["id"] in hikyaku(relay, "webhook", "list", "acme")
    for url, mentions in [("http://127.0.0.1:9/x", "loopback"), ("http://169.254.169.254/latest/meta-data", "link-local"),
                          ("http://10.1.2.3/x", "private"), ("ftp://192.0.2.10/x", "url")]:
        refused = api.post("/v1/webhooks", {"url": url})
        assert refused.status_code == 422 and mentions in refused.json()["error"]["message"], (url, refused.text)
    assert api.post("/v1/webhooks", {"url": "https://192.0.2.10/x", "events": ["exploded"]}).status_code == 422
    assert api.get("/v1/webhooks", key=sender).status_code == 403, "the webhooks scope is needed"
    assert api.get("/v1/webhooks", key=key).json()["webhooks"][0]["id"] == endpoint["id"]
    gone = requests.delete(f"{api.base}/v1/webhooks/{endpoint['id']}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert gone.status_code == 204
    again = requests.delete(f"{api.base}/v1/webhooks/{endpoint['id']}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert again.status_code == 404
    assert api.get("/v1/webhooks").json()["webhooks"] == []
