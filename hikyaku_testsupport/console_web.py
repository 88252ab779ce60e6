"""The web console's browser tests (Tests/integration/test_console*.py): the CLI, the
HTTP API, a relay with accounts, users and delivered mail, logging in with Playwright,
and screenshots under ``Tests/integration/output/console/<set>/``."""

from __future__ import annotations

import pathlib
import re
import subprocess

import requests

from .binaries import HIKYAKU_BIN
from .processes import child_environment
from .smtp import token
from .waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
SHOTS = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "integration" / "output" / "console"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def hikyaku(relay, *args: str, stdin: str | None = None) -> str:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment(), input=stdin)
    assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out.stdout


def send(relay, key: str, sender: str, rcpt: str, expect: int = 202) -> requests.Response:
    answer = requests.post(relay.api_base + "/v1/messages", timeout=30, headers={"Authorization": f"Bearer {key}"},
                           json={"from": sender, "to": rcpt, "subject": "件名", "text": "本文"})
    assert expect is None or answer.status_code == expect, answer.text
    return answer


def build_world(relay, receiver) -> dict:
    """Accounts acct-a and acct-b, each with a delivered message (b's second one refused
    with 550); an operator, root-op, and a console user per account (alice, bob)."""
    tok = token()
    sent = {}
    for name in ("acct-a", "acct-b"):
        domain = f"{name}{tok}.example"
        hikyaku(relay, "domain", "add", domain)
        hikyaku(relay, "account", "add", name, "--domain", domain)
        key = hikyaku(relay, "account", "api-key", "create", name, "--scope", "send,read,suppressions,webhooks")
        wait_for(lambda: name in hikyaku(relay, "account", "list"), what="the account")
        sent[name] = (domain, key.strip().splitlines()[-1])
    wait_for(lambda: "loaded 2 account(s)" in relay.process.log_text(), what="the accounts to load")
    ids = {
        "a": send(relay, sent["acct-a"][1], f"news@{sent['acct-a'][0]}", f"ok-a-{tok}@static.test").json()["id"],
        "b": send(relay, sent["acct-b"][1], f"news@{sent['acct-b'][0]}", f"ok-b-{tok}@static.test").json()["id"],
        "b-bounce": send(relay, sent["acct-b"][1], f"news@{sent['acct-b'][0]}", f"reject-b-{tok}@static.test").json()["id"],
    }
    wait_for(lambda: receiver.messages_to(f"ok-a-{tok}@static.test") and receiver.messages_to(f"ok-b-{tok}@static.test"),
             what="both messages to arrive")
    out = hikyaku(relay, "operator", "add", "root-op")
    op_password = re.search(r"password \(shown once, store it now\): (\S+)", out).group(1)
    hikyaku(relay, "account", "console-user", "add", "acct-a", "alice", "--password-stdin", stdin="alice-secret-1\n")
    hikyaku(relay, "account", "console-user", "add", "acct-b", "bob", "--password-stdin", stdin="bob-secret-1\n")
    return {"relay": relay, "tok": tok, "ids": ids, "op_password": op_password, "sent": sent}


def log_in(browser, base: str, name: str, password: str, locale: str = "ja-JP", reader: str = "stream",
           **options):
    """A new browser context logged in as `name`; `reader` names the screenshot set."""
    context = browser.new_context(locale=locale, timezone_id="Asia/Tokyo", accept_downloads=True, **options)
    context.reader = reader
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def shot(page, name: str):
    """`output/console/<set>/<name>.png`, the set from the page's context."""
    directory = SHOTS / page.context.reader
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def csrf_of(page) -> str:
    return CSRF.search(page.content()).group(1)


def post_form(page, base: str, path: str, fields: dict):
    """POSTs a form with the page's session (cookies) and its CSRF token, as a browser
    would; returns Playwright's APIResponse (redirects not followed)."""
    return page.request.post(base + path, form={"csrf": csrf_of(page), **fields}, max_redirects=0)
