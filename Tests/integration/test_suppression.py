"""Suppression lists (issue 13, item 3), end to end: a real redis-server, the relay's SMTP
listener driven by Python's smtplib, its HTTP API by requests, and the real
`hikyaku suppression` commands. A suppressed recipient is refused at RCPT with its reason;
one suppressed after RCPT is dropped by the enqueue (the authority) with its event; the
global list applies to every account; expiries are honoured before any sweep; a CSV of
100,000 rows imports (bad rows reported by line) and exports back the same.
"""

from __future__ import annotations

import csv
import json
import smtplib
import subprocess
import time

import pytest
import requests

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for

from test_api import API, api_relay, make_account, wait_loaded  # noqa: F401 (fixture)

ACCOUNT_IP = "127.0.0.9"   # in acme's network: mail from it is acme's


def hikyaku(relay, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=child_environment())
    if check:
        assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out


def session(relay, source: str = "127.0.0.1") -> smtplib.SMTP:
    smtp = smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30, source_address=(source, 0))
    smtp.ehlo("client.test")
    return smtp


def suppressed_events(relay, recipient: str) -> list[dict]:
    return [e for e in relay.events(recipient=recipient) if e["event"] == "suppressed"]


@pytest.fixture
def acme_relay(make_relay):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACCOUNT_IP}/32", "--domain", "acme.example")
    wait_for(lambda: "loaded 1 account(s)" in relay.process.log_text(), what="the relay to load acme")
    return relay


def test_rcpt_refused_with_reason_and_global_list_applies_to_everyone(acme_relay, receiver):
    relay = acme_relay
    tok = token()
    gone, other, everyone, fine = (f"{x}-{tok}@static.test" for x in ("gone", "other", "everyone", "fine"))
    hikyaku(relay, "suppression", "add", gone.upper(), "--account", "acme", "--reason", "hard_bounce")
    hikyaku(relay, "suppression", "add", everyone, "--global", "--reason", "complaint")
    today = time.strftime("%Y-%m-%d", time.gmtime())

    with session(relay, ACCOUNT_IP) as smtp:
        smtp.mail("news@acme.example")
        code, text = smtp.rcpt(gone)   # listed upper-case, asked lower-case: one address
        assert code == 550 and text.decode() == f"5.1.1 <{gone}> suppressed (hard_bounce, {today})", (code, text)
        code, text = smtp.rcpt(everyone)
        assert code == 550 and f"suppressed (complaint, {today})" in text.decode(), (code, text)
        assert smtp.rcpt(fine)[0] == 250
        code, _ = smtp.data(b"Subject: hi\r\nFrom: news@acme.example\r\n\r\nhello\r\n")
        assert code == 250
    # The account list is acme's only; the global list applies to mail without an account too.
    with session(relay) as smtp:
        smtp.mail("ops@anything.example")
        assert smtp.rcpt(gone)[0] == 250
        code, text = smtp.rcpt(everyone)
        assert code == 550 and b"suppressed (complaint" in text, (code, text)
        assert smtp.data(b"Subject: ops\r\n\r\nhello\r\n")[0] == 250

    wait_for(lambda: receiver.messages_to(fine) and receiver.messages_to(gone), what="the messages not suppressed")
    assert receiver.messages_to(everyone) == []
    events = wait_for(lambda: suppressed_events(relay, gone), what="the suppressed event of the refused RCPT")
    assert events[0]["suppression"] == "hard_bounce" and events[0]["account"] == "acme" and events[0]["queue_id"] == ""
    assert len(suppressed_events(relay, everyone)) == 2


def test_suppressed_between_rcpt_and_dot_is_dropped_by_the_enqueue(acme_relay, receiver):
    relay = acme_relay
    tok = token()
    late, kept = f"late-{tok}@static.test", f"kept-{tok}@static.test"
    with session(relay, ACCOUNT_IP) as smtp:
        smtp.mail("news@acme.example")
        assert smtp.rcpt(late)[0] == 250
        assert smtp.rcpt(kept)[0] == 250
        # Suppressed after RCPT was answered, before the message ends.
        hikyaku(relay, "suppression", "add", late, "--account", "acme", "--reason", "unsubscribe")
        code, text = smtp.data(b"Subject: late\r\nFrom: news@acme.example\r\n\r\nhello\r\n")
        assert code == 250, (code, text)
        queue_id = text.decode().rsplit(" ", 1)[-1]

        # Every recipient suppressed by then: refused at the dot, nothing stored.
        other = f"other-{tok}@static.test"
        smtp.mail("news@acme.example")
        assert smtp.rcpt(other)[0] == 250
        hikyaku(relay, "suppression", "add", other, "--global", "--reason", "manual")
        code, text = smtp.data(b"Subject: none\r\nFrom: news@acme.example\r\n\r\nhello\r\n")
        assert (code, text) == (550, b"5.1.1 all recipients are suppressed"), (code, text)

    wait_for(lambda: receiver.messages_to(kept), what="the recipient not suppressed")
    events = wait_for(lambda: suppressed_events(relay, late), what="the suppressed event of the enqueue")
    assert events[0]["queue_id"] == queue_id and events[0]["suppression"] == "unsubscribe"
    accepted = [e for e in relay.events() if e["event"] == "accepted" and e["queue_id"] == queue_id]
    assert accepted and late in accepted[0]["recipients"]
    assert not [e for e in relay.events(recipient=late) if e["event"] in ("delivered", "deferred", "bounced")]
    assert receiver.messages_to(late) == []
    other_events = wait_for(lambda: suppressed_events(relay, other), what="the all-suppressed message's event")
    assert other_events[0]["suppression"] == "manual" and other_events[0]["queue_id"] != ""
    assert not [e for e in relay.events() if e["event"] == "accepted" and e["queue_id"] == other_events[0]["queue_id"]]
    # The quota counted only the recipient that was stored.
    assert "used this hour   1" in hikyaku(relay, "account", "show", "acme").stdout


def test_expiry_is_honoured_before_any_sweep(make_relay, receiver):
    relay = make_relay("all", {"suppression": {"expiry": {"manual": "3s"}, "sweep_interval": "1h"}})
    tok = token()
    brief, forever = f"brief-{tok}@static.test", f"forever-{tok}@static.test"
    hikyaku(relay, "suppression", "add", brief, "--global")                                   # 3s by the configuration
    hikyaku(relay, "suppression", "add", forever, "--global", "--reason", "complaint")         # no expiry for complaints
    listed = hikyaku(relay, "suppression", "list", "--global").stdout
    assert brief in listed and forever in listed and "never" in listed, listed
    with session(relay) as smtp:
        smtp.mail("ops@anything.example")
        assert smtp.rcpt(brief)[0] == 550
    time.sleep(3.5)
    with session(relay) as smtp:
        smtp.mail("ops@anything.example")
        assert smtp.rcpt(brief)[0] == 250
        assert smtp.rcpt(forever)[0] == 550
        assert smtp.data(b"Subject: x\r\n\r\nx\r\n")[0] == 250
    wait_for(lambda: receiver.messages_to(brief), what="the address whose entry expired")
    assert brief not in hikyaku(relay, "suppression", "list", "--global").stdout
    # --expires overrides the reason's default.
    hikyaku(relay, "suppression", "add", brief, "--global", "--expires", "1h")
    assert "until" in hikyaku(relay, "suppression", "add", brief, "--global", "--expires", "1h").stdout
    with session(relay) as smtp:
        smtp.mail("ops@anything.example")
        assert smtp.rcpt(brief)[0] == 550


def test_csv_import_of_100k_rows_reports_bad_rows_and_exports_the_same(make_relay, tmp_path):
    relay = make_relay("all")
    path = tmp_path / "list.csv"
    bad_lines = {}
    with open(path, "w", newline="") as f:
        f.write("address,reason,created_at,expires_at\n")
        for i in range(100_000):
            line = i + 2
            if i % 20_000 == 7:
                f.write(f"broken{i}.example.org,manual,,\n")
                bad_lines[line] = "not an email address"
            elif i % 20_000 == 8:
                f.write(f"user{i}@example.org,spam,,\n")
                bad_lines[line] = "reason 'spam'"
            elif i % 20_000 == 9:
                f.write(f"user{i}@example.org,manual,yesterday,\n")
                bad_lines[line] = "created_at 'yesterday'"
            elif i % 3 == 0:
                f.write(f"User{i}@Example.org,hard_bounce,2026-01-0{1 + i % 9}T00:00:00Z,2099-01-01\n")
            else:
                f.write(f"\"user{i}@example.org\",unsubscribe,2026-02-01T10:00:00.5+09:00,\n")
    out = hikyaku(relay, "suppression", "import", str(path), "--global")
    good = 100_000 - len(bad_lines)
    assert f"imported {good} entries" in out.stdout and f"{len(bad_lines)} bad row(s) skipped" in out.stdout, out.stdout
    for line, why in bad_lines.items():
        assert f"list.csv:{line}: skipped: " in out.stderr and why in out.stderr, (line, out.stderr[-3000:])
    assert "100000 rows read" in out.stderr

    exported = hikyaku(relay, "suppression", "export", "--global")
    rows = list(csv.reader(exported.stdout.splitlines()))
    assert rows[0] == ["address", "reason", "created_at", "expires_at"]
    by_address = {r[0]: r for r in rows[1:]}
    assert len(by_address) == good
    assert by_address["user3@example.org"] == ["user3@example.org", "hard_bounce", "2026-01-04T00:00:00.000Z",
                                               "2099-01-01T00:00:00.000Z"]
    assert by_address["user1@example.org"] == ["user1@example.org", "unsubscribe", "2026-02-01T01:00:00.500Z", ""]
    # Round trip: the export imports into an account's list unchanged.
    hikyaku(relay, "account", "add", "acme", "--domain", "acme.example")
    (tmp_path / "back.csv").write_text(exported.stdout)
    assert f"imported {good} entries" in hikyaku(relay, "suppression", "import", str(tmp_path / "back.csv"),
                                                  "--account", "acme").stdout
    again = hikyaku(relay, "suppression", "export", "--account", "acme").stdout
    assert sorted(again.splitlines()[1:]) == sorted(exported.stdout.splitlines()[1:])
    listed = hikyaku(relay, "suppression", "list", "--account", "acme", "--reason", "hard_bounce", "--limit", "5").stdout
    assert "5 shown" in listed and "unsubscribe" not in listed.split("5 shown")[0], listed


def test_api_manages_the_list_and_marks_suppressed_recipients(api_relay, receiver):
    relay = api_relay
    key = make_account(relay, "acme", "acme.example", scope="send,read,suppressions")
    send_only = make_account(relay, "beta", "beta.example")
    wait_loaded(relay, 2)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    tok = token()
    gone, fine, world = f"gone-{tok}@static.test", f"fine-{tok}@static.test", f"world-{tok}@static.test"

    assert api.get("/v1/suppressions", key=send_only).status_code == 403
    answer = api.post("/v1/suppressions", {"address": gone, "reason": "unsubscribe", "source": "list-7"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["suppressions"][0]["address"] == gone and answer.json()["suppressions"][0]["scope"] == "account"
    many = api.post("/v1/suppressions", {"suppressions": [{"address": f"m{i}-{tok}@static.test"} for i in range(250)]})
    assert many.status_code == 201 and len(many.json()["suppressions"]) == 250
    bad = api.post("/v1/suppressions", {"suppressions": [{"address": "x@y.test"}, {"address": "nope", "reason": "manual"}]})
    assert bad.status_code == 422 and "suppressions[1].address" in bad.json()["error"]["message"]
    assert api.post("/v1/suppressions", {"address": "a@b.test", "reason": "spam"}).status_code == 422
    hikyaku(relay, "suppression", "add", world, "--global", "--reason", "complaint")

    # Pages with a cursor give every entry once.
    seen, cursor = [], None
    while True:
        page = api.get("/v1/suppressions", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        seen += [s["address"] for s in page["suppressions"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(set(seen)) == 251 and gone in seen and world not in seen
    lookup = api.get("/v1/suppressions", params={"address": world.upper()}).json()["suppressions"]
    assert lookup and lookup[0]["scope"] == "global" and lookup[0]["reason"] == "complaint"

    sent = api.post("/v1/messages", {"from": "news@acme.example", "to": [gone, fine, world], "subject": "s", "text": "t"})
    assert sent.status_code == 202, sent.text
    status = {r["email"]: r for r in sent.json()["recipients"]}
    assert status[fine] == {"email": fine, "status": "queued"}
    assert status[gone] == {"email": gone, "status": "suppressed", "reason": "unsubscribe"}
    assert status[world]["status"] == "suppressed" and status[world]["reason"] == "complaint"
    wait_for(lambda: receiver.messages_to(fine), what="the recipient not suppressed")
    assert receiver.messages_to(gone) == [] and receiver.messages_to(world) == []
    message = wait_for(lambda: (m := api.get(f"/v1/messages/{sent.json()['id']}").json()) and
                       {r["email"]: r["status"] for r in m["recipients"]}.get(gone) == "suppressed" and m,
                       what="the message's recipients with their suppressed status")
    assert {r["email"]: r["status"] for r in message["recipients"]}[world] == "suppressed"

    none = api.post("/v1/messages", {"from": "news@acme.example", "to": [gone], "subject": "s", "text": "t"})
    assert none.status_code == 422 and none.json()["error"]["code"] == "suppressed", none.text

    deleted = requests.delete(f"{api.base}/v1/suppressions/{gone}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert deleted.status_code == 204
    again = requests.delete(f"{api.base}/v1/suppressions/{gone}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert again.status_code == 404
    assert api.get("/v1/suppressions", params={"address": gone}).json()["suppressions"] == []
    assert api.post("/v1/messages", {"from": "news@acme.example", "to": [gone], "subject": "s", "text": "t"}).status_code == 202
