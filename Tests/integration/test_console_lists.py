"""An account's suppression list and webhooks in the console (issue 14), in Debian's
chromium: added and removed from the console and seen by the HTTP API (the same stores),
the reverse too; a webhook's secret shown once; and account A never reaching account B's
lists, whatever URL or form it tries. Screenshots: `output/console/lists/`.
"""

from __future__ import annotations

import pytest
import requests

from hikyaku_testsupport.console_web import CHROMIUM, build_world, log_in, post_form, shot
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (scripts/install-deps.sh)")


@pytest.fixture
def world(make_relay, receiver):
    api, console = free_ports(2)
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "api": {"plain_listen": [f"127.0.0.1:{api}"]},
                               "console": {"plain_listen": [f"127.0.0.1:{console}"]}})
    relay.api_base, relay.console_base = f"http://127.0.0.1:{api}", f"http://127.0.0.1:{console}"
    wait_for(lambda: "console listening" in relay.process.log_text(), what="the console to listen")
    return build_world(relay, receiver)


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def api(world, account: str, method: str, path: str, **kwargs) -> requests.Response:
    key = world["sent"][account][1]
    return requests.request(method, world["relay"].api_base + path, headers={"Authorization": f"Bearer {key}"}, timeout=30,
                            **kwargs)


def listed(world, account: str, address: str) -> list[dict]:
    return api(world, account, "GET", "/v1/suppressions", params={"address": address}).json()["suppressions"]


def test_suppressions_added_and_removed_in_the_console_are_the_apis(world, browser):
    tok, base = world["tok"], world["relay"].console_base
    context, page = log_in(browser, base, "alice", "alice-secret-1", reader="lists")
    page.click("a[href='/suppressions']")
    assert page.locator("h1").inner_text() == "配信停止リスト: acct-a"
    address = f"Complainer-{tok}@Example.NET"
    page.fill("#suppression-add input[name=address]", address)
    page.select_option("#suppression-add select[name=reason]", "complaint")
    page.fill("#suppression-add input[name=source]", "CRM 取込")
    page.click("#suppression-add button[type=submit]")
    assert page.locator("#notice").inner_text() == "配信停止リストに追加しました。"
    row = page.locator(f"tr[data-address='complainer-{tok}@example.net']")
    assert "苦情" in row.inner_text() and "CRM 取込" in row.inner_text()
    [entry] = listed(world, "acct-a", address.lower())
    assert (entry["reason"], entry["source"], entry["scope"]) == ("complaint", "CRM 取込", "account")
    assert listed(world, "acct-b", address.lower()) == [], "only a's list"

    # One added through the API is found by the console's search.
    assert api(world, "acct-a", "POST", "/v1/suppressions", json={"address": f"api-{tok}@example.org"}).status_code == 201
    page.fill("input[name=q]", f"api-{tok}")
    page.click("#suppression-search")
    assert page.locator("#suppressions tr[data-address]").count() == 1
    assert f"api-{tok}@example.org" in page.locator("#suppressions").inner_text()
    page.goto(base + "/suppressions")
    shot(page, "suppressions-ja")

    page.locator(f"tr[data-address='complainer-{tok}@example.net'] button.remove").click()
    assert page.locator("#notice").inner_text() == "配信停止リストから削除しました。"
    assert listed(world, "acct-a", address.lower()) == []
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Suppression list: acct-a"
    shot(page, "suppressions-en")

    page.fill("#suppression-add input[name=address]", "not-an-address")
    page.evaluate("document.querySelector('#suppression-add input[name=address]').type = 'text'")
    page.click("#suppression-add button[type=submit]")
    assert page.locator("p.error").inner_text() == "That is not an email address."
    context.close()


def test_webhooks_from_the_console_show_the_secret_once(world, browser):
    base = world["relay"].console_base
    context, page = log_in(browser, base, "alice", "alice-secret-1", reader="lists")
    page.goto(base + "/webhooks")
    page.fill("#webhook-add input[name=url]", "https://127.0.0.1/hook")
    page.click("#webhook-add button[type=submit]")
    assert "allowed only with --allow-private" in page.locator("#form-error").inner_text(), "no private addresses"
    page.fill("#webhook-add input[name=url]", "https://192.0.2.10/hook")
    page.check("#webhook-add input[value=bounced]")
    page.check("#webhook-add input[value=complaint]")
    page.click("#webhook-add button[type=submit]")
    secret = page.locator("#new-secret code").inner_text()
    assert len(secret) >= 32
    shot(page, "webhooks-created-ja")
    [hook] = api(world, "acct-a", "GET", "/v1/webhooks").json()["webhooks"]
    assert (hook["url"], hook["events"]) == ("https://192.0.2.10/hook", ["bounced", "complaint"])
    page.goto(base + "/webhooks")
    assert secret not in page.content(), "the secret is never shown again"
    assert hook["id"] in page.locator("#webhooks").inner_text()
    shot(page, "webhooks-ja")
    page.click("#lang-switch")
    shot(page, "webhooks-en")
    page.locator(f"tr[data-id='{hook['id']}'] button.remove").click()
    assert page.locator("#notice").inner_text() == "The endpoint was removed."
    assert api(world, "acct-a", "GET", "/v1/webhooks").json()["webhooks"] == []
    context.close()


def test_account_a_never_reaches_bs_suppressions_or_webhooks(world, browser):
    tok, base = world["tok"], world["relay"].console_base
    b_address = f"b-only-{tok}@example.net"
    assert api(world, "acct-b", "POST", "/v1/suppressions", json={"address": b_address}).status_code == 201
    b_hook = api(world, "acct-b", "POST", "/v1/webhooks", json={"url": "https://192.0.2.20/b"}).json()
    context, page = log_in(browser, base, "alice", "alice-secret-1", reader="lists")
    for path in ("/suppressions?account=acct-b", f"/suppressions?account=acct-b&q=b-only-{tok}", "/webhooks?account=acct-b"):
        response = page.goto(base + path)
        assert response.status == 404 and b_address not in page.content() and b_hook["id"] not in page.content(), path
    page.goto(base + f"/suppressions?q=b-only-{tok}")
    assert page.locator("#suppressions tr[data-address]").count() == 0, "b's entry is not in a's list"
    page.goto(base + "/webhooks")
    assert b_hook["id"] not in page.content()
    # Forms naming b, or b's ids under a's name: refused, and b's data untouched.
    assert post_form(page, base, "/suppressions/remove", {"account": "acct-b", "address": b_address}).status == 404
    assert post_form(page, base, "/suppressions/add", {"account": "acct-b", "address": f"x-{tok}@example.net"}).status == 404
    assert post_form(page, base, "/webhooks/remove", {"account": "acct-b", "id": b_hook["id"]}).status == 404
    assert post_form(page, base, "/webhooks/remove", {"id": b_hook["id"]}).status == 404
    assert post_form(page, base, "/webhooks/add", {"account": "acct-b", "url": "https://192.0.2.30/a"}).status == 404
    assert post_form(page, base, "/suppressions/remove", {"address": b_address}).status == 303, "a's own list: no such entry"
    assert [e["address"] for e in listed(world, "acct-b", b_address)] == [b_address]
    assert listed(world, "acct-b", f"x-{tok}@example.net") == []
    assert [h["id"] for h in api(world, "acct-b", "GET", "/v1/webhooks").json()["webhooks"]] == [b_hook["id"]]
    context.close()

    # The operator chooses the account and sees b's list.
    context, page = log_in(browser, base, "root-op", world["op_password"], reader="lists")
    page.goto(base + "/suppressions")
    page.select_option("select[name=account]", "acct-b")
    page.click("form.chooser button")
    assert b_address in page.locator("#suppressions").inner_text()
    shot(page, "suppressions-operator-ja")
    context.close()
