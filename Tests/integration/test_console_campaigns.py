"""The account's campaigns in the console (issue 15 item 6), in Debian's chromium: a small
campaign (20 rows, to a gmail-like site and to a bouncing address) paused and resumed from
its page and run to `sent`, the page's counters equal to `hikyaku campaign show --json`;
and account A's user never seeing or changing B's campaign, by URL or by form.
Screenshots: `output/console/campaigns/`.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.console_web import CHROMIUM, build_world, hikyaku, log_in, post_form, shot
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (scripts/install-deps.sh)")

COUNTED = ["rows", "queued", "delivered", "deferred", "bounced", "unsubscribed", "suppressed"]


@pytest.fixture
def world(make_relay, receiver, tmp_path):
    key_file = tmp_path / "secrets.key"
    subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], check=True, capture_output=True,
                   env=child_environment())
    api, console = free_ports(2)
    relay = make_relay("all", {
        "accounts": {"refresh_interval": "200ms"}, "api": {"plain_listen": [f"127.0.0.1:{api}"]},
        "console": {"plain_listen": [f"127.0.0.1:{console}"]}, "secrets": {"key_file": str(key_file)},
        "campaigns": {"unsubscribe_base_url": f"http://127.0.0.1:{console}"},
        "delivery": {"sites": [{"name": "gmail", "mx": ["mx.gmail.test"]}]}})
    relay.api_base, relay.console_base = f"http://127.0.0.1:{api}", f"http://127.0.0.1:{console}"
    wait_for(lambda: "console listening" in relay.process.log_text(), what="the console to listen")
    return build_world(relay, receiver)


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def create_campaign(world, tmp_path, account: str, name: str, rows: list[str], max_rate: str) -> str:
    relay = world["relay"]
    list_file = tmp_path / f"{account}-{name}.csv"
    list_file.write_text("email,name\n" + "".join(f"{r},会員{i}\n" for i, r in enumerate(rows)), encoding="utf-8")
    assert f"{len(rows)} rows" in hikyaku(relay, "list", "import", account, name, str(list_file))
    text = tmp_path / f"{account}-{name}.txt"
    text.write_text("{{name}}様\n\n12月のお知らせです。\n")
    # A window open now, in UTC: the page shows it in the viewer's zone (Asia/Tokyo) too.
    hour = time.gmtime().tm_hour
    window = f"{(hour + 23) % 24:02d}:00-{(hour + 3) % 24:02d}:00"
    out = hikyaku(relay, "campaign", "create", "--account", account, "--name", name,
                  "--from", f"news@{world['sent'][account][0]}", "--subject", "{{name}}様へ 12月のご案内", "--text", str(text),
                  "--list", name, "--max-rate", max_rate, "--window", window, "--time-zone", "UTC")
    return re.search(r"created campaign (c[0-9a-z]+)", out).group(1)


def shown(world, cid: str) -> dict:
    return json.loads(hikyaku(world["relay"], "campaign", "show", cid, "--json"))


def page_counts(page, cid: str) -> dict[str, int]:
    row = page.locator(f"#campaigns tr[data-id='{cid}']")
    return {name: int(row.locator(f"td.{name}").inner_text()) for name in COUNTED}


def test_a_campaign_paused_resumed_and_sent_from_the_console(world, browser, tmp_path):
    tok, base = world["tok"], world["relay"].console_base
    rows = [f"m{i:02d}-{tok}@gmail.test" for i in range(15)] + [f"reject-{i}-{tok}@gmail.test" for i in range(3)] \
        + [f"s{i}-{tok}@static.test" for i in range(2)]
    cid = create_campaign(world, tmp_path, "acct-a", "december", rows, "2/s")
    context, page = log_in(browser, base, "alice", "alice-secret-1", reader="campaigns")
    page.click("a[href='/campaigns']")
    assert page.locator("h1").inner_text() == "キャンペーン: acct-a"
    page.click(f"#campaigns tr[data-id='{cid}'] a")
    assert page.locator("h1").inner_text() == "キャンペーン: december"

    # Pause from the page: the runner stops enqueueing (the CLI sees the same state).
    page.click("#campaign-pause")
    assert page.locator("#notice").inner_text() == "キャンペーンを一時停止しました。"
    assert page.locator("#campaign td.state").inner_text() == "一時停止中"
    assert shown(world, cid)["state"] == "paused"
    time.sleep(1.5)
    held = shown(world, cid)["statistics"].get("queued", 0)
    time.sleep(1.5)
    assert shown(world, cid)["statistics"].get("queued", 0) == held < 20
    assert page.locator("#campaign-pause").count() == 0 and page.locator("#campaign-resume").count() == 1

    page.click("#campaign-resume")
    assert page.locator("#notice").inner_text() == "キャンペーンの送信を再開しました。"
    assert shown(world, cid)["state"] in ("running", "sent")
    # Sent, and every row's outcome counted (the counter reads the events stream).
    wait_for(lambda: (lambda s: s["state"] == "sent" and s["statistics"].get("delivered", 0) == 17
                      and s["statistics"].get("bounced", 0) == 3)(shown(world, cid)), timeout=90,
             what="the campaign to be sent and counted")
    cli = shown(world, cid)
    page.goto(base + "/campaigns")
    counts = page_counts(page, cid)
    assert counts == {"rows": cli["rows"], **{k: cli["statistics"].get(k, 0) for k in COUNTED[1:]}}, (counts, cli)
    assert counts["rows"] == 20 and counts["queued"] == 20 and counts["delivered"] == 17 and counts["bounced"] == 3
    row = page.locator(f"#campaigns tr[data-id='{cid}']")
    assert row.locator("td.state").inner_text() == "送信完了"
    assert row.locator("svg.progress rect.settled").get_attribute("width") == "200"
    assert "gmail: 配信成功 15 · 再送待ち 0 · バウンス 3" in row.locator("td.sites").inner_text()
    # The window in the viewer's zone (Asia/Tokyo, UTC+9) and as the campaign set it.
    local_start, local_end, utc_start, utc_end = map(int, re.search(
        r"(\d\d):00–(\d\d):00 \S+ \((\d\d):00–(\d\d):00 UTC\)", row.inner_text()).groups())
    assert (local_start, local_end) == ((utc_start + 9) % 24, (utc_end + 9) % 24), row.inner_text()
    shot(page, "campaigns-ja")  # README's docs/images/console-campaigns.png

    page.click(f"#campaigns tr[data-id='{cid}'] a")
    sites = page.locator("#sites tr[data-site='gmail']")
    assert sites.locator("td.delivered").inner_text() == "15" and sites.locator("td.bounced").inner_text() == "3"
    assert page.locator("#counts td.delivered").inner_text() == "17"
    assert page.locator("#campaign-cancel").count() == 0, "a sent campaign has nothing to change"
    shot(page, "campaign-ja")
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Campaigns: december"
    shot(page, "campaign-en")
    page.goto(base + "/campaigns")
    assert page.locator(f"#campaigns tr[data-id='{cid}'] td.state").inner_text() == "sent"
    shot(page, "campaigns-en")
    # A form for a state the campaign is not in: 409, nothing changed.
    assert post_form(page, base, f"/campaigns/{cid}/resume", {}).status == 409
    context.close()

    context, page = log_in(browser, base, "root-op", world["op_password"], reader="campaigns")
    page.goto(base + "/ops/audit")
    text = page.locator("#audit").inner_text()
    assert "campaign.pause" in text and "campaign.resume" in text and cid in text, text
    context.close()


def test_account_a_never_reaches_bs_campaign(world, browser, tmp_path):
    tok, base = world["tok"], world["relay"].console_base
    a_id = create_campaign(world, tmp_path, "acct-a", "a-news", [f"a{i}-{tok}@gmail.test" for i in range(3)], "1/s")
    b_id = create_campaign(world, tmp_path, "acct-b", "b-news", [f"b{i}-{tok}@gmail.test" for i in range(20)], "20/min")
    context, page = log_in(browser, base, "alice", "alice-secret-1", reader="campaigns")
    for path in (f"/campaigns/{b_id}", "/campaigns?account=acct-b"):
        response = page.goto(base + path)
        main = page.locator("main").inner_html()  # (the language link carries the URL back)
        assert response.status == 404 and "b-news" not in main and b_id not in main, path
    page.goto(base + "/campaigns")
    assert page.locator(f"#campaigns tr[data-id='{a_id}']").count() == 1
    assert b_id not in page.content() and "b-news" not in page.content()
    for action in ("pause", "cancel", "resume"):
        assert post_form(page, base, f"/campaigns/{b_id}/{action}", {"account": "acct-b"}).status == 404, action
    assert shown(world, b_id)["state"] in ("scheduled", "running")
    # Without the token: refused before anything is looked up.
    assert page.request.post(base + f"/campaigns/{a_id}/pause", form={"csrf": "0" * 64}, max_redirects=0).status == 403
    assert shown(world, a_id)["state"] != "paused"
    context.close()

    # The operator sees both, with the account, and may filter by it; and may pause b's.
    context, page = log_in(browser, base, "root-op", world["op_password"], reader="campaigns")
    page.goto(base + "/campaigns")
    assert page.locator(f"#campaigns tr[data-id='{b_id}'] td.account").inner_text() == "acct-b"
    assert page.locator(f"#campaigns tr[data-id='{a_id}'] td.account").inner_text() == "acct-a"
    page.select_option("select[name=account]", "acct-b")
    page.click("form.chooser button")
    assert page.locator("#campaigns tr[data-id]").count() == 1 and b_id in page.content()
    shot(page, "campaigns-operator-ja")
    page.click(f"#campaigns tr[data-id='{b_id}'] a")
    page.click("#campaign-cancel")
    assert page.locator("#notice").inner_text() == "キャンペーンを中止しました。投入済みのメールは引き続き配信されます。"
    assert shown(world, b_id)["state"] == "cancelled"
    context.close()
