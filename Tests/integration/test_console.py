"""The web console (issue 14) in a real browser: Debian's chromium driven by Playwright
(launched by path; nothing is downloaded). Operators and console users are made with the
real `hikyaku operator add` and `hikyaku account console-user add`; the events come from
the relay itself (messages sent through the HTTP API to the recording receiver, one of
them refused with 550), read by the console from the events stream until the log store
is merged. Screenshots are saved beside the test's output
(`Tests/integration/output/console/`).
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest
import requests

from hikyaku_testsupport.console_web import CHROMIUM, build_world, log_in, shot
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (scripts/install-deps.sh)")


@pytest.fixture(params=["stream", "sqlite"])
def console_relay(request, make_relay, receiver, tmp_path):
    """The console reads the events stream, or (with `logs.sqlite_path`) the SQLite log
    store that the archiver of the same `all` process fills."""
    api, console = free_ports(2)
    overrides = {"accounts": {"refresh_interval": "200ms", "auth_failures_before_lockout": 3},
                 "api": {"plain_listen": [f"127.0.0.1:{api}"]},
                 "console": {"plain_listen": [f"127.0.0.1:{console}"]}}
    if request.param == "sqlite":
        overrides["logs"] = {"sqlite_path": str(tmp_path / "logs.sqlite")}
    relay = make_relay("all", overrides)
    relay.reader = request.param
    relay.api_base, relay.console_base = f"http://127.0.0.1:{api}", f"http://127.0.0.1:{console}"
    wait_for(lambda: "console listening" in relay.process.log_text(), what="the console to listen")
    return relay


@pytest.fixture
def world(console_relay, receiver):
    return build_world(console_relay, receiver)


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_operator_sees_everything_searches_switches_language_and_downloads_csv(world, browser):
    relay, tok, ids = world["relay"], world["tok"], world["ids"]
    base = relay.console_base
    context, page = log_in(browser, base, "root-op", world["op_password"], reader=relay.reader)
    assert page.locator("h1").inner_text() == "概要"
    assert "到達率" in page.content()
    assert page.locator("svg.chart").count() == 1
    # Three events this hour: visible bars (the log store's rows are keyed by the hour's
    # start in ms, the stream's were by hour number; the chart once showed none).
    wait_for(lambda: page.reload() and page.locator("svg.chart rect.bar").count() >= 2, what="bars in the hourly chart")
    assert page.locator("svg.chart text.y-label").count() >= 2
    shot(page, "overview-ja")

    # Search by site-less recipient domain: every account's events are there for an operator.
    wait_for(lambda: (page.goto(base + "/search?status=bounced") and f"reject-b-{tok}@static.test" in page.content()),
             what="the bounce to be searchable")
    page.goto(base + "/search")
    page.fill("input[name=recipient]", f"ok-a-{tok}@static.test")
    page.click("#search-submit")
    assert "配信成功" in page.locator("table.results").inner_text()
    shot(page, "search-ja")

    page.click(f"a[href='/messages/{ids['a']}']")
    assert page.locator("ol.timeline li").count() >= 2, "accepted, then delivered"
    shot(page, "timeline-ja")

    page.click("#lang-switch")
    assert page.locator("h1").inner_text().startswith("Message timeline")
    shot(page, "timeline-en")
    page.goto(base + "/")
    assert "Delivery rate" in page.content()
    shot(page, "overview-en")

    page.goto(base + f"/search?recipient=reject-b-{tok}%40static.test")
    shot(page, "search-en")
    with page.expect_download() as download:
        page.click("#csv-link")
    data = pathlib.Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + b"time,event,account")
    assert b"acct-b" in data and b"bounced" in data
    context.close()


def test_an_account_user_sees_only_its_account_even_by_url(world, browser):
    relay, tok, ids = world["relay"], world["tok"], world["ids"]
    base = relay.console_base
    context, page = log_in(browser, base, "alice", "alice-secret-1", locale="en-US", reader=relay.reader)
    assert page.locator("h1").inner_text() == "Overview"
    shot(page, "overview-account-en")
    wait_for(lambda: (page.goto(base + "/search?status=delivered") and f"ok-a-{tok}@static.test" in page.content()),
             what="a's delivery to be searchable")
    assert f"ok-b-{tok}" not in page.locator("table.results").inner_text()
    shot(page, "search-account-en")
    # Asking for account b's data by URL: the query is forced to a.
    page.goto(base + f"/search?account=acct-b&recipient=ok-b-{tok}%40static.test")
    assert page.locator("table.results").count() == 0 and page.locator("p.none").count() == 1
    assert page.locator("input[name=account]").count() == 0, "no account field for an account user"
    response = page.goto(base + f"/messages/{ids['b']}")
    assert response.status == 404
    response = page.goto(base + f"/messages/{ids['a']}")
    assert response.status == 200
    cookies = context.cookies()
    session = next(c for c in cookies if c["name"] == "hk_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    csv = requests.get(base + f"/search.csv?account=acct-b&recipient=ok-b-{tok}%40static.test", timeout=30,
                       cookies={"hk_session": session["value"]})
    assert csv.status_code == 200 and f"ok-b-{tok}".encode() not in csv.content
    context.close()


def test_forms_without_the_csrf_token_and_wrong_passwords_are_refused(world, redis_server):
    relay = world["relay"]
    base = relay.console_base
    s = requests.Session()
    s.get(base + "/login", timeout=30)
    refused = s.post(base + "/login", data={"name": "bob", "password": "bob-secret-1"}, allow_redirects=False, timeout=30)
    assert refused.status_code == 403, "no CSRF token"
    form = s.get(base + "/login", timeout=30).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', form).group(1)
    wrong = s.post(base + "/login", data={"name": "bob", "password": "nope", "csrf": csrf}, allow_redirects=False, timeout=30)
    assert wrong.status_code == 401
    ok = s.post(base + "/login", data={"name": "bob", "password": "bob-secret-1", "csrf": csrf}, allow_redirects=False, timeout=30)
    assert ok.status_code == 303 and "hk_session" in s.cookies
    assert "Secure" not in ok.headers["set-cookie"], "plain HTTP on loopback: no Secure flag"
    logout = s.post(base + "/logout", data={}, allow_redirects=False, timeout=30)
    assert logout.status_code == 403, "logout without the session's token"
    page = s.get(base + "/", timeout=30).text
    token_ = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
    assert s.post(base + "/logout", data={"csrf": token_}, allow_redirects=False, timeout=30).status_code == 303
    assert s.get(base + "/", allow_redirects=False, timeout=30).status_code == 303

    # Logins and logouts are in the audit stream, with who and what.
    audit = redis_server.client().call("XRANGE", "hk:audit", "-", "+")
    entries = [dict(zip(fields[::2], fields[1::2])) for _, fields in audit]
    actions = [(e[b"actor"], e[b"action"]) for e in entries]
    assert (b"cli:" + (os.environ.get("USER", "unknown")).encode(), b"operator.add") in actions
    assert (b"bob", b"login.failed") in actions and (b"bob", b"login") in actions and (b"bob", b"logout") in actions


def test_repeated_wrong_passwords_lock_the_login(world):
    base = world["relay"].console_base
    s = requests.Session()
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', s.get(base + "/login", timeout=30).text).group(1)
    codes = [s.post(base + "/login", data={"name": "alice", "password": f"guess-{i}", "csrf": csrf}, allow_redirects=False,
                    timeout=30).status_code for i in range(4)]
    assert codes[:2] == [401, 401] and codes[-1] == 429, codes
    right = s.post(base + "/login", data={"name": "alice", "password": "alice-secret-1", "csrf": csrf}, allow_redirects=False,
                   timeout=30)
    assert right.status_code == 429, "locked out even with the right password"
