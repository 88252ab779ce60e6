"""Bulk campaigns end to end (issue 15): a CP932 CSV list imported, a campaign fanned out by
two runner processes (`serve --role campaigns`, one holding it at a time) through the intake
to a worker process and the receiver, with site limits scaled to seconds (docomo-, au-,
softbank- and gmail-like MX hosts in dnsmasq: hikyaku_testsupport/world.py CAMPAIGN_MX); the
runner holding the campaign is killed with -9 mid-campaign, the other takes over, the killed
one is restarted.

Checked: every row is enqueued exactly once (one `accepted` event per recipient, the
campaign's counters) and delivered, across the kill; the import's and the send-time
suppressions are skipped; the lookahead keeps the docomo-like site's queue near its rate
times `campaigns.lookahead`; the messages carry the List-Unsubscribe fields under the DKIM
signature, a Message-ID derived from campaign and row, and the CP932 columns decoded; a
campaign outside its window sends nothing.
"""

from __future__ import annotations

import collections
import email
import email.policy
import json
import re
import subprocess
import threading
import time

import dkim
import requests

from hikyaku_testsupport.binaries import hikyaku_bin
from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.ports import free_port, port_accepts
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.resp import Redis
from hikyaku_testsupport.waiting import wait_for

HIKYAKU_BIN = hikyaku_bin()
DOMAIN = "news.example"
ACCOUNT = "acme"
# Per site: recipients, and the site's rate (scaled so the campaign ends in about a minute).
SITES = {"docomo": ("docomo.test", 400, "10/s"), "au": ("au.test", 400, "20/s"),
         "softbank": ("softbank.test", 400, "20/s"), "gmail": ("gmail.test", 800, None)}
LOOKAHEAD_SECONDS = 3
MAX_QUEUED = 60


def hikyaku(relay, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=child_environment())
    if check:
        assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out


def campaign_config(key_file) -> dict:
    sites = [{"name": name, "mx": [f"mx.{domain}"], **({"rate": rate} if rate else {})}
             for name, (domain, _, rate) in SITES.items()]
    return {
        "accounts": {"refresh_interval": "200ms"},
        "secrets": {"key_file": str(key_file)},
        "campaigns": {"unsubscribe_base_url": "http://127.0.0.1:9", "chunk_size": 100, "lookahead": f"{LOOKAHEAD_SECONDS}s",
                      "max_queued_per_site": MAX_QUEUED},
        "delivery": {"concurrency": 16, "sites": sites},
    }


def write_cp932_list(path, rows: list[tuple[str, str, str]], extra_lines: list[str]):
    """A list as Japanese Excel saves it: Windows-31J, CRLF, with ① and ㈱ (NEC/IBM extensions)."""
    lines = ["email,name,会社"] + [f"{a},{n},{c}" for a, n, c in rows] + extra_lines
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))


def stats(redis: Redis, cid: str) -> dict[str, int]:
    flat = redis.call("HGETALL", f"hk:camp:{cid}:stats") or []
    return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def campaign_events(redis: Redis, cid: str) -> list[dict]:
    out, start = [], "-"
    while True:
        entries = redis.call("XRANGE", "hk:events", start, "+", "COUNT", "1000")
        if not entries:
            return out
        for entry_id, fields in entries:
            event = json.loads(dict(zip(fields[0::2], fields[1::2]))[b"e"])
            if (event.get("metadata") or {}).get("campaign") == cid:
                out.append(event)
        start = "(" + entries[-1][0].decode()
        if len(entries) < 1000:
            return out


def test_campaign_sends_every_row_exactly_once_across_kill_9(make_relay, receiver, redis_server, tmp_path):
    key_file = tmp_path / "secrets.key"
    out = subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], capture_output=True, text=True,
                         env=child_environment())
    assert out.returncode == 0, out.stderr
    config = campaign_config(key_file)
    worker = make_relay("worker", config)
    # Two runner processes (two hosts): the campaign is held by one at a time.
    runners = [make_relay("campaigns", config), make_relay("campaigns", config)]
    redis = Redis(redis_server.port)

    records = zone_records(hikyaku(worker, "domain", "add", DOMAIN).stdout)
    hikyaku(worker, "account", "add", ACCOUNT, "--domain", DOMAIN)
    rows, n = [], 0
    for name, (domain, count, _) in SITES.items():
        for i in range(count):
            n += 1
            rows.append((f"u{n:04d}@{domain}", f"会員{n}", "㈱サンプル①" if n % 2 else "株式会社テスト"))
    suppressed_at_import = rows[7][0]
    suppressed_later = rows[1234][0]
    hikyaku(worker, "suppression", "add", suppressed_at_import, "--account", ACCOUNT, "--reason", "unsubscribe")
    list_file = tmp_path / "members.csv"
    write_cp932_list(list_file, rows, ["not-an-address,x,y", f"{rows[3][0].upper()},dup,dup", "only-one-field"])
    imported = hikyaku(worker, "list", "import", ACCOUNT, "members", str(list_file)).stdout
    assert "(cp932)" in imported, imported
    assert f"line {len(rows) + 2}: 'not-an-address' is not an email address" in imported, imported
    assert f"line {len(rows) + 4}: 1 fields; the header has 3" in imported, imported
    assert f"{len(rows) - 1} rows" in imported and "2 invalid, 1 duplicates, 1 suppressed" in imported, imported
    expected = [r for r in rows if r[0] != suppressed_at_import]
    shown = hikyaku(worker, "list", "show", ACCOUNT, "members").stdout
    assert f"rows        {len(expected)}" in shown and "email, name, 会社" in shown, shown
    hikyaku(worker, "suppression", "add", suppressed_later, "--account", ACCOUNT, "--reason", "manual")

    html = tmp_path / "news.html"
    html.write_text("<h1>{{会社}}</h1><p>{{name}}様、12月のお知らせです。" + "今月も新商品をご案内します。" * 20 + "</p>")
    created = hikyaku(worker, "campaign", "create", "--account", ACCOUNT, "--name", "December", "--from", f"news@{DOMAIN}",
                      "--subject", "{{name}}様へ", "--html", str(html), "--list", "members").stdout
    cid = re.search(r"created campaign (c[0-9a-z]+)", created).group(1)

    # The lookahead: the docomo-like site's stream never holds much more than its rate times the lookahead.
    peak = {"docomo": 0, "gmail": 0}
    sampling = threading.Event()

    def sample():
        own = Redis(redis_server.port)  # not the test's connection: this runs in another thread
        while not sampling.is_set():
            for site in peak:
                peak[site] = max(peak[site], int(own.call("XLEN", f"hk:q:default:{site}.test") or 0))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    # Kill the runner mid-campaign, restart it: the rest goes out, nothing twice.
    wait_for(lambda: stats(redis, cid).get("queued", 0) >= 700, timeout=60, what="700 rows enqueued")
    holder_pid = int(redis.call("GET", f"hk:camp:{cid}:lease").decode().rsplit("/", 1)[1])
    holder = next(r for r in runners if r.pid == holder_pid)
    other = next(r for r in runners if r is not holder)
    assert f"holding campaign {cid}" not in other.process.log_text()
    holder.kill9()
    before_restart = stats(redis, cid).get("queued", 0)
    assert before_restart < len(expected) - 1, "the campaign finished before the kill"
    # The other runner takes it over once the killed one's lease lapses; the killed one comes back.
    wait_for(lambda: f"holding campaign {cid}" in other.process.log_text(), timeout=60, what="the other runner to take over")
    holder.restart()
    wait_for(lambda: redis.call("HGET", f"hk:camp:{cid}", "state") == b"sent", timeout=180, what="every row enqueued")
    wait_for(lambda: len(receiver.messages()) >= len(expected) - 1, timeout=180, what="every message delivered")
    sampling.set()
    sampler.join()
    report_note(f"campaign of {len(expected)} rows over 4 sites (docomo 10/s, lookahead {LOOKAHEAD_SECONDS}s), runner killed -9 "
                f"at {before_restart} queued: all delivered in {time.monotonic() - started:.0f} s; stream peaks {peak}")

    delivered = [m for m in receiver.messages() if m["rcpt_tos"][0].endswith(tuple(d for d, _, _ in SITES.values()))]
    counts = collections.Counter(r for m in delivered for r in m["rcpt_tos"])
    want = {r[0] for r in expected} - {suppressed_later}
    assert set(counts) == want, (len(set(counts)), len(want), sorted(want - set(counts))[:5])
    assert max(counts.values()) == 1, [r for r, c in counts.items() if c > 1][:5]

    # The list starts with the docomo rows, yet the gmail rows at its end were not held back
    # behind them: gmail was through long before docomo's trickle ended.
    finished = {site: max(m["time"] for m in delivered if m["rcpt_tos"][0].endswith("@" + domain))
                for site, (domain, _, _) in SITES.items()}
    assert finished["gmail"] < finished["docomo"] - 10, finished

    events = campaign_events(redis, cid)
    accepted = collections.Counter(r for e in events if e["event"] == "accepted" for r in e["recipients"])
    assert set(accepted) == want and max(accepted.values()) == 1, "a row was enqueued twice or not at all"
    assert [e["recipient"] for e in events if e["event"] == "suppressed"] == [suppressed_later]
    final = wait_for(lambda: (s := stats(redis, cid)).get("delivered", 0) == len(want) and s, timeout=30,
                     what="the counter to count every delivery")
    assert final["queued"] == len(want) and final["suppressed"] == 1, final
    for site, (domain, _, _) in SITES.items():
        assert final.get(f"delivered|{site}", 0) == sum(1 for r in want if r.endswith("@" + domain)), (site, final)
    assert int(redis.call("HGET", f"hk:camp:{cid}", "cursor")) == len(expected)
    # docomo: 10/s × 3 s = 30 waiting at most (the runner counts the stream before each step).
    assert 10 <= peak["docomo"] <= 30, peak
    # gmail has no rate: campaigns.max_queued_per_site bounds what waits for it.
    assert 10 <= peak["gmail"] <= MAX_QUEUED, peak

    # The messages: From, decoded CP932 columns, Message-ID from campaign and row, List-Unsubscribe under DKIM.
    m = next(m for m in delivered if m["rcpt_tos"][0] == rows[0][0])
    parsed = email.message_from_bytes(m["data"], policy=email.policy.default)
    assert parsed["Subject"] == "会員1様へ" and parsed["From"] == f"news@{DOMAIN}"
    assert parsed["Message-ID"] == f"<{cid}.0@relay.test>", parsed["Message-ID"]
    html_part = parsed.get_body(("html",)).get_content()
    assert "<h1>㈱サンプル①</h1>" in html_part and "会員1様" in html_part
    assert "会員1様" in parsed.get_body(("plain",)).get_content()
    assert re.fullmatch(r"<http://127\.0\.0\.1:9/u/[A-Za-z0-9]+>", parsed["List-Unsubscribe"]), parsed["List-Unsubscribe"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    signature = parsed["DKIM-Signature"]
    signed = [h.strip().lower() for h in re.search(r"h=([^;]+)", re.sub(r"\s+", "", signature)).group(1).split(":")]
    assert "list-unsubscribe" in signed and "list-unsubscribe-post" in signed, signed
    assert verify_dkim(m["data"], records) == [True, True], "DKIM does not verify"

    shown = hikyaku(worker, "campaign", "show", cid).stdout
    n = len(expected)
    assert ": sent" in shown and f"{n}/{n} (cursor {n})" in shown and f"{n}/{n} 100.0%" in shown, shown
    assert f"queued {len(want)}  delivered {len(want)}" in shown and re.search(r"docomo\s+%d\s" % (SITES["docomo"][1] - 1), shown), shown
    watched = hikyaku(worker, "campaign", "watch", cid, "--interval", "0.2").stdout
    assert "settled" in watched, watched


def zone_records(output: str) -> dict[str, str]:
    """The TXT records `hikyaku domain add|show` printed: {name: joined value}."""
    records = {}
    for line in output.splitlines():
        match = re.match(r"^(\S+)\. \d+ IN TXT \( (.*) \)$", line)
        if match:
            records[match.group(1)] = "".join(re.findall(r'"([^"]*)"', match.group(2)))
    return records


def verify_dkim(data: bytes, records: dict[str, str]) -> list[bool]:
    """dkimpy's verdict on every DKIM-Signature (RSA and Ed25519), keys from `records`."""
    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        return records.get(name.rstrip("."), "").encode()
    checker = dkim.DKIM(data)
    return [bool(checker.verify(idx=i, dnsfunc=dnsfunc)) for i in range(len(re.findall(rb"(?im)^DKIM-Signature:", data)))]


def test_a_campaign_waits_for_its_window_and_the_api_pauses_resumes_and_cancels(make_relay, receiver, redis_server, tmp_path):
    key_file = tmp_path / "secrets.key"
    subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], check=True, capture_output=True,
                   env=child_environment())
    api_port = free_port()
    config = campaign_config(key_file)
    config["campaigns"]["unsubscribe_base_url"] = f"http://127.0.0.1:{api_port}"  # the API role serves /u/
    worker = make_relay("worker", config)
    make_relay("campaigns", config)
    make_relay("api", {**config, "api": {"plain_listen": [f"127.0.0.1:{api_port}"]}})
    redis = Redis(redis_server.port)
    hikyaku(worker, "domain", "add", DOMAIN)
    hikyaku(worker, "account", "add", ACCOUNT, "--domain", DOMAIN)
    hikyaku(worker, "account", "add", "other", "--domain", "other.example")
    key = hikyaku(worker, "account", "api-key", "create", ACCOUNT, "--scope", "send,read").stdout.strip().splitlines()[-1]
    other_key = hikyaku(worker, "account", "api-key", "create", "other", "--scope", "send,read").stdout.strip().splitlines()[-1]
    list_file = tmp_path / "small.csv"
    list_file.write_text("\ufeffemail,name\n" + "".join(f"w{i}@gmail.test,W{i}\n" for i in range(20)), encoding="utf-8")
    assert "(utf-8): 20 rows" in hikyaku(worker, "list", "import", ACCOUNT, "small", str(list_file)).stdout
    # A window that is closed now (the hour two hours ahead, UTC).
    hour = (time.gmtime().tm_hour + 2) % 24
    window = f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"
    out = hikyaku(worker, "campaign", "create", "--account", ACCOUNT, "--name", "later", "--from", f"news@{DOMAIN}",
                  "--subject", "s", "--text", str(write(tmp_path / "t.txt", "Hello {{name}}\n")), "--list", "small",
                  "--window", window, "--time-zone", "UTC").stdout
    closed = re.search(r"created campaign (c[0-9a-z]+)", out).group(1)

    # An open one to the same list through the API, paused right away, then resumed.
    base = f"http://127.0.0.1:{api_port}"
    wait_for(lambda: port_accepts(api_port), what="the HTTP API")
    auth = {"Authorization": f"Bearer {key}"}
    answer = requests.post(f"{base}/v1/campaigns", headers=auth, timeout=30, json={
        "name": "now", "from": f"news@{DOMAIN}", "subject": "Hi {{name}}", "text": "Hello {{name}}\n", "list": "small",
        "max_rate": "5/s"})
    assert answer.status_code == 201, answer.text
    open_id = answer.json()["id"]
    assert answer.json()["state"] == "scheduled" and answer.json()["rows"] == 20
    assert requests.post(f"{base}/v1/campaigns/{open_id}/pause", headers=auth, timeout=30).json()["state"] == "paused"
    # Another account's key sees nothing of it.
    assert requests.get(f"{base}/v1/campaigns/{open_id}", headers={"Authorization": f"Bearer {other_key}"}, timeout=30).status_code == 404
    assert requests.post(f"{base}/v1/campaigns/{open_id}/cancel", headers={"Authorization": f"Bearer {other_key}"},
                         timeout=30).status_code == 404
    # Content checks over the API: a From without a DKIM key is refused with the fix.
    refused = requests.post(f"{base}/v1/campaigns", headers={"Authorization": f"Bearer {other_key}"}, timeout=30, json={
        "name": "x", "from": "a@other.example", "subject": "s", "text": "t", "list": "small"})
    assert refused.status_code == 404, refused.text  # the other account has no list "small"
    time.sleep(3)
    assert stats(redis, closed).get("queued", 0) == 0 and stats(redis, open_id).get("queued", 0) <= 5
    paused_at = stats(redis, open_id).get("queued", 0)
    time.sleep(1)
    assert stats(redis, open_id).get("queued", 0) == paused_at
    assert requests.post(f"{base}/v1/campaigns/{open_id}/resume", headers=auth, timeout=30).status_code == 200
    wait_for(lambda: redis.call("HGET", f"hk:camp:{open_id}", "state") == b"sent", timeout=30, what="the open campaign to finish")
    shown = requests.get(f"{base}/v1/campaigns/{open_id}", headers=auth, timeout=30).json()
    assert shown["statistics"]["queued"] == 20 and shown["max_rate"].startswith("5/"), shown
    # One-click unsubscribe (RFC 8058) from a campaign message counts as the campaign's.
    message = wait_for(lambda: receiver.messages_to("w3@gmail.test"), what="w3's message")[0]
    link = re.search(r"<(http://127\.0\.0\.1:\d+/u/[A-Za-z0-9]+)>",
                     email.message_from_bytes(message["data"], policy=email.policy.default)["List-Unsubscribe"]).group(1)
    # As a mail client does it (RFC 8058 section 3.2): curl, a plain POST, no cookie.
    posted = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d",
                             "List-Unsubscribe=One-Click", link], capture_output=True, text=True, timeout=30)
    assert posted.stdout == "200", posted
    wait_for(lambda: stats(redis, open_id).get("unsubscribed") == 1, what="the unsubscribe to be counted")
    assert "unsubscribed 1" in hikyaku(worker, "campaign", "show", open_id).stdout
    hikyaku(worker, "campaign", "cancel", closed)
    assert hikyaku(worker, "campaign", "resume", closed, check=False).returncode != 0
    conflict = requests.post(f"{base}/v1/campaigns/{closed}/resume", headers=auth, timeout=30)
    assert conflict.status_code == 409, conflict.text
    listed = hikyaku(worker, "campaign", "list").stdout
    assert "cancelled" in listed and "sent" in listed, listed
    assert {c["id"] for c in requests.get(f"{base}/v1/campaigns", headers=auth, timeout=30).json()["campaigns"]} == {open_id, closed}
    assert stats(redis, closed).get("queued", 0) == 0
    # The command line's changes are in the audit log (the API's are the caller's own).
    audit = [{k.decode(): v.decode() for k, v in zip(f[::2], f[1::2])} for _, f in redis.call("XRANGE", "hk:audit", "-", "+")]
    cli = [(e["action"], e.get("id") or e.get("list")) for e in audit if e["actor"].startswith("cli:")]
    assert ("list.import", "small") in cli and ("campaign.create", closed) in cli and ("campaign.cancel", closed) in cli, cli

    # The next campaign to the same list skips the address that unsubscribed.
    answer = requests.post(f"{base}/v1/campaigns", headers=auth, timeout=30, json={
        "name": "next", "from": f"news@{DOMAIN}", "subject": "Again {{name}}", "text": "Hello again {{name}}\n", "list": "small"})
    assert answer.status_code == 201, answer.text
    next_id = answer.json()["id"]
    wait_for(lambda: redis.call("HGET", f"hk:camp:{next_id}", "state") == b"sent", timeout=30, what="the next campaign to finish")
    assert stats(redis, next_id).get("queued") == 19 and stats(redis, next_id).get("suppressed") == 1, stats(redis, next_id)
    wait_for(lambda: len(receiver.messages_to("w4@gmail.test")) == 2, what="w4's second message")
    assert len(receiver.messages_to("w3@gmail.test")) == 1


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_content_checks_refuse_without_dkim_or_unsubscribe(make_relay, receiver, redis_server, tmp_path):
    relay = make_relay("worker", {"accounts": {"refresh_interval": "200ms"}})
    hikyaku(relay, "account", "add", ACCOUNT, "--domain", "nokey.example")
    write(tmp_path / "l.csv", "email\na@gmail.test\n")
    hikyaku(relay, "list", "import", ACCOUNT, "l", str(tmp_path / "l.csv"))
    html = write(tmp_path / "h.html", '<p>See <a href="https://bit.ly/x">this</a></p>')
    out = hikyaku(relay, "campaign", "create", "--account", ACCOUNT, "--name", "n", "--from", "a@nokey.example",
                  "--subject", "s", "--html", str(html), "--list", "l", check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "no one-click unsubscribe" in text and "no DKIM key for nokey.example" in text and "bit.ly" in text, text
    assert "campaign list" and "no campaigns" in hikyaku(relay, "campaign", "list").stdout
