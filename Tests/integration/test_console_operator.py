"""The console's operator pages (issue 14) in Debian's chromium: queues, suspending and
resuming a site, egress IPs with warm-up, pausing and resuming an account, the audit log;
each change checked where the CLI and the relay see it (`hikyaku queue --json`, the HTTP
API refusing a paused account's mail, mail held and then delivered). Account users get a
404 for every operator page and form. Then the console over HTTPS (`console.listen`, the
ingest certificate) and its cookies. Screenshots: `output/console/operator/`.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import time

import pytest
import requests

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.console_web import CHROMIUM, CSRF, build_world, hikyaku, log_in, post_form, send, shot
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (scripts/install-deps.sh)")
SITE = "route:127.0.0.1"  # the receiving site of the static route to the test receiver


def start_relay(make_relay, console: dict) -> object:
    api = free_ports(1)[0]
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    relay = make_relay("all", {
        "accounts": {"refresh_interval": "200ms"}, "api": {"plain_listen": [f"127.0.0.1:{api}"]}, "console": console,
        "delivery": {"egress": [{"address": "127.0.0.1", "warmup": {"start": today, "daily_caps": [50, 100, 500]}}]}})
    relay.api_base = f"http://127.0.0.1:{api}"
    wait_for(lambda: "console listening" in relay.process.log_text(), what="the console to listen")
    return relay


@pytest.fixture
def world(make_relay, receiver):
    port = free_ports(1)[0]
    relay = start_relay(make_relay, {"plain_listen": [f"127.0.0.1:{port}"]})
    relay.console_base = f"http://127.0.0.1:{port}"
    return build_world(relay, receiver)


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def queue_report(relay) -> dict:
    return json.loads(hikyaku(relay, "queue", "--json"))


def test_operator_suspends_and_resumes_a_site_and_pauses_an_account(world, browser, receiver):
    relay, tok = world["relay"], world["tok"]
    base = relay.console_base
    domain_a, key_a = world["sent"]["acct-a"]
    context, page = log_in(browser, base, "root-op", world["op_password"], reader="operator")
    page.goto(base + "/ops/queues")
    assert page.locator("h1").inner_text() == "キュー"
    page.select_option("#suspend-form select[name=kind]", "site")
    page.fill("#suspend-form input[name=site]", SITE)
    page.fill("#suspend-form input[name=duration]", "30m")
    page.fill("#suspend-form input[name=reason]", "コンソールからの停止")
    page.click("#suspend-form button[type=submit]")
    assert page.locator("#notice").inner_text() == "送信を停止しました。"
    suspensions = queue_report(relay)["suspensions"]
    assert [(s["scope"], s["site"], s["reason"], s["rule"]) for s in suspensions] == [
        ("site", SITE, "コンソールからの停止", "operator")], suspensions
    assert 29 * 60_000 < suspensions[0]["remaining_ms"] <= 30 * 60_000

    # While the site is suspended, a's new message waits in the queue.
    send(relay, key_a, f"news@{domain_a}", f"held-{tok}@static.test")
    wait_for(lambda: any(d["domain"] == "static.test" and d["queued"] + d["deferred_items"] > 0
                         for p in queue_report(relay)["pools"] for d in p["destinations"]), what="the message to wait")
    time.sleep(1)
    assert not receiver.messages_to(f"held-{tok}@static.test"), "nothing is sent to a suspended site"
    page.goto(base + "/ops/queues")
    assert "static.test" in page.locator("table.queue").inner_text()
    assert SITE in page.locator("#suspensions").inner_text()
    shot(page, "queues-ja")

    page.click("#suspensions button.resume")
    assert page.locator("#notice").inner_text() == "送信を再開しました。"
    assert queue_report(relay)["suspensions"] == []
    wait_for(lambda: receiver.messages_to(f"held-{tok}@static.test"), what="the held message to go once resumed")

    # Pausing acct-a refuses its mail at the API, as `hikyaku account pause` does; resuming lets it send.
    page.goto(base + "/ops/accounts")
    row = page.locator("tr[data-account=acct-a]")
    row.locator("input[name=reason]").fill("苦情の調査中")
    row.locator("button.pause").click()
    assert page.locator("#notice").inner_text() == "アカウントを一時停止しました。"
    assert "苦情の調査中" in page.locator("tr[data-account=acct-a]").inner_text()
    shot(page, "accounts-ja")
    refused = wait_for(lambda: [r for r in [send(relay, key_a, f"news@{domain_a}", f"p-{tok}@static.test", expect=None)]
                                if r.status_code == 429], what="the pause to reach the API")[0]
    assert refused.json()["error"]["code"] == "account_paused" and "苦情の調査中" in refused.text
    assert "PAUSED" in hikyaku(relay, "account", "show", "acct-a")
    page.locator("tr[data-account=acct-a] button.resume").click()
    assert page.locator("#notice").inner_text() == "アカウントの送信を再開しました。"
    wait_for(lambda: send(relay, key_a, f"news@{domain_a}", f"r-{tok}@static.test", expect=None).status_code == 202,
             what="the account to send again")

    page.goto(base + "/ops/egress")
    egress = page.locator("#egress").inner_text()
    assert "127.0.0.1" in egress and "1/3日目" in egress, egress
    assert int(re.search(r"(\d+)/50", egress).group(1)) >= 4, "today's messages from the IP count against its cap of 50"
    shot(page, "egress-ja")

    page.goto(base + "/ops/audit")
    audit = page.locator("#audit").inner_text()
    for action in ("queue.suspend", "queue.resume", "account.pause", "account.resume", "login"):
        assert action in audit, action
    assert f"target=site {SITE}" in audit and "root-op" in audit and "account=acct-a" in audit
    shot(page, "audit-ja")

    page.click("#lang-switch")
    for path, name, title in (("/ops/audit", "audit", "Audit log"), ("/ops/queues", "queues", "Queues"),
                              ("/ops/egress", "egress", "Egress IPs"), ("/ops/accounts", "accounts", "Accounts")):
        page.goto(base + path)
        assert page.locator("h1").inner_text() == title
        shot(page, f"{name}-en")
    context.close()


def test_an_account_user_never_reaches_the_operator_pages_or_forms(world, browser):
    relay = world["relay"]
    base = relay.console_base
    context, page = log_in(browser, base, "alice", "alice-secret-1", reader="operator")
    assert page.locator("a[href^='/ops/']").count() == 0, "no operator links for an account user"
    for path in ("/ops/queues", "/ops/egress", "/ops/accounts", "/ops/audit"):
        assert page.goto(base + path).status == 404, path
    page.goto(base + "/")
    assert post_form(page, base, "/ops/suspend", {"kind": "site", "site": SITE, "duration": "1h"}).status == 404
    assert post_form(page, base, "/ops/accounts/pause", {"name": "acct-b", "reason": "x"}).status == 404
    assert queue_report(relay)["suspensions"] == []
    assert "PAUSED" not in hikyaku(relay, "account", "show", "acct-b")
    # Without the session's CSRF token even the operator's form is refused.
    context.close()
    context, page = log_in(browser, base, "root-op", world["op_password"], reader="operator")
    refused = page.request.post(base + "/ops/suspend", form={"kind": "site", "site": SITE, "duration": "1h"}, max_redirects=0)
    assert refused.status == 403 and queue_report(relay)["suspensions"] == []
    context.close()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # the test certificate
def test_the_console_over_https_sets_secure_httponly_samesite_cookies(make_relay, receiver, browser):
    port = free_ports(1)[0]
    relay = start_relay(make_relay, {"listen": [f"127.0.0.1:{port}"]})
    base = f"https://127.0.0.1:{port}"
    out = hikyaku(relay, "operator", "add", "tls-op")
    password = out.split("store it now): ")[1].split()[0]
    login = requests.get(base + "/login", verify=False, timeout=30)
    assert login.status_code == 200
    assert all(p in login.headers["set-cookie"] for p in ("Secure", "HttpOnly", "SameSite=Lax"))
    context, page = log_in(browser, base, "tls-op", password, locale="en-US", reader="operator", ignore_https_errors=True)
    assert page.locator("h1").inner_text() == "Overview"
    session = next(c for c in context.cookies() if c["name"] == "hk_session")
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
    context.close()
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", ignore_https_errors=True)
    context.reader = "operator"
    page = context.new_page()
    page.goto(base + "/login")
    assert page.locator("h1").inner_text() == "ログイン"
    shot(page, "login-ja")
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Log in"
    shot(page, "login-en")
    context.close()


def test_the_console_role_does_all_this_with_its_own_acl_user(make_relay, tls_redis, tmp_path):
    """`serve --role console` as `hikyaku-console` (the ACL of `hikyaku redis acl`): every
    page and form works; what it may not touch stays refused."""
    ca = {"tls": {"ca_file": str(tls_redis.ca[0])}}
    key_file = tmp_path / "secrets.key"
    admin = make_relay("worker", {"redis": {"url": tls_redis.url("admin"), **ca}, "secrets": {"key_file": str(key_file)},
                                  "campaigns": {"unsubscribe_base_url": "http://127.0.0.1:9"}}, start=False)

    def as_admin(*args: str, stdin: str | None = None) -> str:
        return hikyaku(admin, *args, "--redis-url", tls_redis.url("admin"), stdin=stdin)

    as_admin("redis", "load-functions")
    subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], check=True, capture_output=True,
                   env=child_environment())
    as_admin("account", "add", "acct-c", "--any-sender")
    password = as_admin("operator", "add", "acl-op").split("store it now): ")[1].split()[0]
    port = free_ports(1)[0]
    make_relay("console", {"redis": {"url": tls_redis.url("console"), **ca}, "console": {"plain_listen": [f"127.0.0.1:{port}"]}})
    base, s = f"http://127.0.0.1:{port}", requests.Session()
    wait_for(lambda: s.get(base + "/readyz", timeout=5).status_code == 200, what="the console")
    csrf = CSRF.search(s.get(base + "/login", timeout=30).text).group(1)
    assert s.post(base + "/login", data={"name": "acl-op", "password": password, "csrf": csrf}, timeout=30).status_code == 200
    csrf = CSRF.search(s.get(base + "/ops/queues", timeout=30).text).group(1)

    def post(path: str, **fields) -> int:
        return s.post(base + path, data={"csrf": csrf, **fields}, allow_redirects=False, timeout=30).status_code

    assert post("/ops/suspend", kind="ip", ip="192.0.2.7", site="gmail", duration="1h") == 303
    assert tls_redis.cli("admin", "EXISTS", "hk:susp:ip:192.0.2.7|gmail") == "1"
    assert post("/ops/resume", kind="ip", ip="192.0.2.7", site="gmail") == 303
    assert tls_redis.cli("admin", "EXISTS", "hk:susp:ip:192.0.2.7|gmail") == "0"
    assert post("/ops/accounts/pause", name="acct-c") == 303
    assert tls_redis.cli("admin", "EXISTS", "hk:acct:acct-c:paused") == "1"
    assert post("/ops/accounts/resume", name="acct-c") == 303
    assert post("/suppressions/add", account="acct-c", address="acl@example.net") == 303
    assert tls_redis.cli("admin", "HEXISTS", "hk:sup:acct-c", "acl@example.net") == "1"
    assert post("/webhooks/add", account="acct-c", url="https://192.0.2.10/acl") == 201
    # A campaign (starting next year: no runner here) shown, paused, resumed and cancelled.
    as_admin("domain", "add", "acl.example")
    as_admin("account", "add", "acct-d", "--domain", "acl.example")
    (tmp_path / "acl.csv").write_text("email,name\nx@acl.example,X\n")
    as_admin("list", "import", "acct-d", "acl", str(tmp_path / "acl.csv"))
    (tmp_path / "acl.txt").write_text("Hello {{name}}\n")
    cid = re.search(r"created campaign (c[0-9a-z]+)", as_admin(
        "campaign", "create", "--account", "acct-d", "--name", "acl", "--from", "news@acl.example", "--subject", "s",
        "--text", str(tmp_path / "acl.txt"), "--list", "acl", "--start", f"{time.gmtime().tm_year + 1}-01-05T09:00:00Z")).group(1)
    for action, state in (("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        assert post(f"/campaigns/{cid}/{action}") == 303, action
        assert tls_redis.cli("admin", "HGET", f"hk:camp:{cid}", "state") == state
    for path in ("/ops/queues", "/ops/egress", "/ops/accounts", "/ops/audit", "/suppressions?account=acct-c",
                 "/webhooks?account=acct-c", "/campaigns", f"/campaigns/{cid}"):
        assert s.get(base + path, timeout=30).status_code == 200, path
    for command in (["GET", "hk:apikey:x"], ["SMEMBERS", "hk:domains"], ["HGETALL", "hk:msg:Q1"], ["SET", "hk:acct:acct-c", "{}"],
                    ["HSET", f"hk:camp:{cid}:stats", "delivered", "1"], ["SADD", "hk:campaigns", "c0000000000zz"]):
        assert "NOPERM" in tls_redis.cli("console", *command), command
