"""One-click unsubscribe (issue 15, item 4; RFC 8058 and RFC 2369), end to end: mail sent
through the HTTP API with `"unsubscribe": true` and over SMTP with `X-Hikyaku-Unsubscribe:
one-click` arrives at the recording receiver with `List-Unsubscribe` and
`List-Unsubscribe-Post`, covered by DKIM (checked with dkimpy); curl POSTs the link (200,
no redirect, no cookie) and the address is suppressed for the account (`hikyaku
suppression list`) with one `unsubscribed` event however often it is repeated; the next
message to it is dropped. GET only shows a page; forged and expired tokens are refused and
record nothing. The mailto form goes to the bounce listener over SMTP. Tokens are also
made here independently (HKDF of the key file, HMAC-SHA256, base32), which checks the
documented format and carries a campaign.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import re
import smtplib
import subprocess
import time

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

from test_api import API, make_account, wait_loaded
from test_dkim import KeyServer, verify_all, zone_records

ACCOUNT_IP = "127.0.0.9"
MAILTO_DOMAIN = "unsub.example.test"
LINK = re.compile(r"<(http://127\.0\.0\.1:\d+/u/([a-z2-7]+))>")
MAILTO = re.compile(r"<mailto:(u-([a-z2-7]+)@" + re.escape(MAILTO_DOMAIN) + r")>")


def hikyaku(relay, *args: str, check: bool = True) -> str:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment())
    if check:
        assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out.stdout + out.stderr


def curl(*args: str) -> tuple[int, dict[str, str], str]:
    """(status, headers with lower-cased names, body) of one curl request."""
    out = subprocess.run(["curl", "-sS", "-i", "--max-time", "20", *args], capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body.decode()


def unsubscribed_events(relay, account: str) -> list[dict]:
    out = hikyaku(relay, "events", "tail", "--account", account)
    return [e for e in (json.loads(line) for line in out.splitlines() if line.startswith("{")) if e["event"] == "unsubscribed"]


def suppressed(relay, account: str) -> str:
    return hikyaku(relay, "suppression", "list", "--account", account)


def make_token(key_file, account: str, recipient: str, campaign: str | None, day: int) -> str:
    """A token made without the relay's code (README "One-click unsubscribe"): key byte,
    version, day, account and campaign with their lengths, recipient, 8 bytes of HMAC-SHA256
    under the HKDF-SHA256 (RFC 5869) key of purpose `unsubscribe`; base32, lower case."""
    key_id, material = next(line.split()[1:] for line in key_file.read_text().splitlines() if line.startswith("key "))
    prk = hmac.new(b"hikyaku-secrets-v1", base64.b64decode(material), hashlib.sha256).digest()
    key = hmac.new(prk, b"hmac:unsubscribe\x01", hashlib.sha256).digest()
    data = bytes([hashlib.sha256(key_id.encode()).digest()[0], 0x10 | (campaign is not None)]) + day.to_bytes(2, "big")
    for field in [account] + ([campaign] if campaign is not None else []):
        data += bytes([len(field.encode())]) + field.encode()
    data += recipient.encode()
    data += hmac.new(key, data, hashlib.sha256).digest()[:8]
    return base64.b32encode(data).decode().rstrip("=").lower()


@pytest.fixture
def unsub_relay(make_relay, tmp_path):
    """Every role with a key file, the API and the console on plain HTTP, the bounce
    listener, and `campaigns:` pointing the links at the API."""
    key_file = tmp_path / "secrets.key"
    subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], check=True, capture_output=True)
    api, console, bounce = free_ports(3)
    relay = make_relay("all", {
        "accounts": {"refresh_interval": "200ms"},
        "secrets": {"key_file": str(key_file)},
        "api": {"plain_listen": [f"127.0.0.1:{api}"]},
        "console": {"plain_listen": [f"127.0.0.1:{console}"]},
        "bounces": {"listen": f"127.0.0.1:{bounce}"},
        "campaigns": {"unsubscribe_base_url": f"http://127.0.0.1:{api}", "unsubscribe_mailto_domain": MAILTO_DOMAIN,
                      "unsubscribe_token_validity": "60d"},
    })
    relay.api_port, relay.console_port, relay.bounce_port, relay.key_file = api, console, bounce, key_file
    wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    wait_for(lambda: "console listening" in relay.process.log_text(), what="the console to listen")
    return relay


def headers_of(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_api_one_click_link_is_signed_and_unsubscribes_once(unsub_relay, receiver, tmp_path):
    relay = unsub_relay
    tok = token()
    domain = f"u{tok}.example"
    records = zone_records(hikyaku(relay, "domain", "add", domain))
    key = make_account(relay, "acme", domain)
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    rcpt = f"r{tok}@static.test"     # 4 + 21 octets: the mailto form still fits 64
    answer = api.post("/v1/messages", {"from": f"news@{domain}", "to": rcpt, "subject": "news", "text": "hello",
                                       "unsubscribe": True})
    assert answer.status_code == 202, answer.text
    two = api.post("/v1/messages", {"from": f"news@{domain}", "to": [rcpt, f"x{tok}@static.test"], "subject": "s",
                                    "text": "t", "unsubscribe": True})
    assert two.status_code == 422 and "unsubscribe" in two.text, two.text

    data = wait_for(lambda: receiver.messages_to(rcpt), what="the message to arrive")[0]["data"]
    message = headers_of(data)
    value = " ".join(str(message["List-Unsubscribe"]).split())
    link, text = LINK.search(value).groups()
    mailto, mailto_text = MAILTO.search(value).groups()
    assert value.index("http://") < value.index("mailto:"), "the HTTPS URI comes first (RFC 2369 §2)"
    assert text == mailto_text and len(mailto.split("@")[0]) <= 64
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert b"X-Hikyaku-Unsubscribe" not in data
    # DKIM (RFC 8058 §4): the signatures cover both fields and verify.
    with KeyServer(tmp_path / "keys", records) as keys:
        results = verify_all(data, keys)
        tampered = data.replace(text.encode(), text[:-1].encode() + (b"a" if text[-1] != "a" else b"b"), 1)
        assert tampered != data and not any(ok for _, _, ok in verify_all(tampered, keys))
    assert results and all(ok for _, _, ok in results), results
    unfolded = data.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    signed = re.findall(rb"(?im)^DKIM-Signature:.*?\bh=([^;]+);", unfolded)
    assert signed and all(b"list-unsubscribe:" in b"".join(h.lower().split()) + b":" or
                          b"list-unsubscribe" in h.lower() for h in signed), signed
    assert all(b"list-unsubscribe-post" in h.lower() for h in signed), signed

    # GET shows a page in the reader's language and changes nothing (link scanners).
    status, headers, body = curl("-H", "Accept-Language: ja,en;q=0.5", link)
    assert status == 200 and "配信を停止する" in body and 'method="post"' in body, (status, body)
    assert "default-src 'none'" in headers["content-security-policy"] and headers["cache-control"] == "no-store", headers
    status, _, body = curl("-H", "Accept-Language: en-US", link)
    assert status == 200 and "Unsubscribe" in body and rcpt in body
    assert rcpt not in suppressed(relay, "acme") and not unsubscribed_events(relay, "acme")

    # Forged or garbage tokens: 400, nothing recorded.
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    for bad in (forged, link.rsplit("/", 1)[0] + "/not-a-token"):
        status, _, body = curl("-X", "POST", "-d", "List-Unsubscribe=One-Click", bad)
        assert status == 400 and "無効" in body, (status, body)
        assert "Traceback" not in body and "Error" not in body
    assert rcpt not in suppressed(relay, "acme")

    # POST as a mail client does (RFC 8058 §3.2): 200, no redirect, no cookie; repeated: the same.
    for _ in range(3):
        status, headers, body = curl("-X", "POST", "-H", "Content-Type: application/x-www-form-urlencoded",
                                     "-d", "List-Unsubscribe=One-Click", link)
        assert status == 200, (status, body)
        assert "location" not in headers and "set-cookie" not in headers, headers
    listed = suppressed(relay, "acme")
    assert rcpt in listed and "unsubscribe" in listed, listed
    assert listed.count(rcpt) == 1
    events = unsubscribed_events(relay, "acme")
    assert len(events) == 1 and events[0]["recipient"] == rcpt and events[0]["account"] == "acme", events
    # The console serves the same link, outside its login: it says unsubscribed, records nothing more.
    console_link = link.replace(f":{relay.api_port}/", f":{relay.console_port}/")
    status, headers, body = curl("-X", "POST", "-d", "anything at all", console_link)
    assert status == 200 and "set-cookie" not in headers and "location" not in headers, (status, headers)
    assert len(unsubscribed_events(relay, "acme")) == 1

    # The next message to the address is dropped by the enqueue.
    again = api.post("/v1/messages", {"from": f"news@{domain}", "to": rcpt, "subject": "again", "text": "x"})
    assert again.status_code == 422 and "suppressed" in again.text, again.text
    time.sleep(1)
    assert len(receiver.messages_to(rcpt)) == 1


def test_tokens_made_independently_carry_the_campaign_and_expire(unsub_relay):
    relay = unsub_relay
    hikyaku(relay, "account", "add", "acme", "--domain", "acme.example")
    base = f"http://127.0.0.1:{relay.api_port}/u/"
    today = int(time.time() // 86400)
    tok = token()
    rcpt = f"c{tok}@static.test"
    status, _, body = curl("-X", "POST", "-d", "List-Unsubscribe=One-Click",
                           base + make_token(relay.key_file, "acme", rcpt, "winter-sale", today - 3))
    assert status == 200, (status, body)
    events = unsubscribed_events(relay, "acme")
    assert len(events) == 1 and events[0]["metadata"] == {"campaign": "winter-sale"}, events
    assert rcpt in suppressed(relay, "acme")
    # Older than its day plus unsubscribe_token_validity (60d): 410, nothing recorded.
    old = f"o{tok}@static.test"
    status, _, body = curl("-X", "POST", base + make_token(relay.key_file, "acme", old, None, today - 62))
    assert status == 410 and "有効期限" in body, (status, body)
    status, _, _ = curl(base + make_token(relay.key_file, "acme", old, None, today - 62))
    assert status == 410
    assert old not in suppressed(relay, "acme") and len(unsubscribed_events(relay, "acme")) == 1
    # The operator's view: `hikyaku unsubscribe decode` reads a link a reader forwarded.
    decoded = hikyaku(relay, "unsubscribe", "decode", base + make_token(relay.key_file, "acme", rcpt, "winter-sale", today))
    assert f"recipient {rcpt}" in decoded and "account acme" in decoded and "campaign winter-sale" in decoded, decoded
    old_link = base + make_token(relay.key_file, "acme", old, None, today - 62)
    out = subprocess.run([HIKYAKU_BIN, "unsubscribe", "decode", old_link, "--config", str(relay.config_path)],
                         capture_output=True, text=True, env=child_environment())
    assert out.returncode == 2 and "(expired)" in out.stdout, out
    forged = old_link[:-2] + ("aa" if not old_link.endswith("aa") else "bb")
    out = subprocess.run([HIKYAKU_BIN, "unsubscribe", "decode", forged, "--config", str(relay.config_path)],
                         capture_output=True, text=True, env=child_environment())
    assert out.returncode == 1 and "not a valid unsubscribe token" in out.stderr, out
    fields = hikyaku(relay, "unsubscribe", "link", "acme", rcpt, "--campaign", "c9")
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in fields
    made = LINK.search(fields).group(1)
    assert "campaign c9" in hikyaku(relay, "unsubscribe", "decode", made)
    # The body is bounded.
    status, _, _ = curl("-X", "POST", "--data-binary", "x" * 100_000,
                        base + make_token(relay.key_file, "acme", old, None, today))
    assert status == 413
    assert old not in suppressed(relay, "acme")


def test_smtp_header_and_the_mailto_form_through_the_bounce_listener(unsub_relay, receiver):
    relay = unsub_relay
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACCOUNT_IP}/32", "--domain", "acme.example")
    wait_loaded(relay, 1)
    tok = token()
    rcpt = f"m{tok}@static.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, source_address=(ACCOUNT_IP, 0), timeout=20) as client:
        client.sendmail("news@acme.example", [rcpt], make_message(
            "news@acme.example", [rcpt], "smtp", "hello\n", extra_headers=["X-Hikyaku-Unsubscribe: one-click"]))
        # Several recipients cannot share one recipient's link: refused at the dot.
        client.mail("news@acme.example")
        for other in (f"a{tok}@static.test", f"b{tok}@static.test"):
            assert client.rcpt(other)[0] == 250
        code, reply = client.data(make_message("news@acme.example", [], "two", "x\n",
                                               extra_headers=["X-Hikyaku-Unsubscribe: one-click"]))
        assert code == 550 and b"exactly one recipient" in reply, (code, reply)
    data = wait_for(lambda: receiver.messages_to(rcpt), what="the SMTP message to arrive")[0]["data"]
    message = headers_of(data)
    assert b"X-Hikyaku-Unsubscribe" not in data
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    mailto, _ = MAILTO.search(" ".join(str(message["List-Unsubscribe"]).split())).groups()

    with smtplib.SMTP("127.0.0.1", relay.bounce_port, timeout=20) as client:
        client.ehlo("mx.reader.example")
        client.mail(rcpt)
        local = mailto.split("@")[0]
        forged = local[:-2] + ("aa" if not local.endswith("aa") else "bb")
        assert client.rcpt(f"{forged}@{MAILTO_DOMAIN}")[0] == 550
        assert client.rcpt(mailto.upper())[0] == 250, "any case (RFC 5321 §2.4)"
        code, reply = client.data(make_message(rcpt, [mailto], "unsubscribe", "Please unsubscribe me.\n"))
        assert code == 250, reply
    listed = suppressed(relay, "acme")
    assert rcpt in listed and "unsubscribe" in listed, listed
    events = unsubscribed_events(relay, "acme")
    assert len(events) == 1 and events[0]["recipient"] == rcpt and "RFC 2369" in events[0]["reply"], events


def test_a_batch_gives_each_message_its_recipients_link(unsub_relay, receiver):
    relay = unsub_relay
    key = make_account(relay, "acme", "acme.example")
    wait_loaded(relay, 1)
    api = API(f"http://127.0.0.1:{relay.api_port}", key)
    tok = token()
    people = [f"{name}-{tok}@static.test" for name in ("ann", "bob")]
    batch = {"from": "news@acme.example", "subject": "s", "text": "Hello {{name}}", "unsubscribe": True,
             "personalizations": [{"to": rcpt, "variables": {"name": rcpt}} for rcpt in people]}
    # One item with two recipients: 422 naming it, nothing stored.
    bad = json.loads(json.dumps(batch))
    bad["personalizations"][1]["to"] = people
    answer = api.post("/v1/messages/batch", bad)
    assert answer.status_code == 422 and "personalizations[1]" in answer.text and "one recipient" in answer.text, answer.text
    answer = api.post("/v1/messages/batch", batch)
    assert answer.status_code == 202 and all("id" in r for r in answer.json()["results"]), answer.text
    links = {}
    for rcpt in people:
        message = headers_of(wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{rcpt}'s message")[0]["data"])
        links[rcpt] = LINK.search(" ".join(str(message["List-Unsubscribe"]).split())).group(1)
    assert links[people[0]] != links[people[1]]
    status, _, _ = curl("-X", "POST", "-d", "List-Unsubscribe=One-Click", links[people[1]])
    assert status == 200
    listed = suppressed(relay, "acme")
    assert people[1] in listed and people[0] not in listed, listed
