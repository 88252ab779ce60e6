"""VERP return paths (issue 13, item 2, outbound half): an account with a return-path domain
sends each recipient in its own transaction on one connection, from
`b-<token>@<return-path domain>`; the token verifies with the key file (`hikyaku verp
decode`) to the message's queue id and the recipient's position in the recipient index
`hk:rix:<qid>`, which outlives the message by `bounces.window`. An account without one
sends as before."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import smtplib
import subprocess

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

VERP_IP = "127.0.0.9"
PLAIN_IP = "127.0.0.10"
RETURN_PATH = "bounces.example.test"
WINDOW_SECONDS = 2 * 86400
VERP_ADDRESS = re.compile(r"^b-[a-z2-7]{40}@" + re.escape(RETURN_PATH) + "$")


def hikyaku(relay, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment())
    if check:
        assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out


def send(source: str, sender: str, recipients: list[str], message_id: str) -> None:
    message = make_message(sender, recipients, "verp", "hello\n", message_id)
    with smtplib.SMTP("127.0.0.1", send.port, timeout=30, source_address=(source, 0)) as smtp:
        smtp.sendmail(sender, recipients, message)


def crockford(data: bytes) -> str:
    """11 bytes (48-bit time, 40 random bits) as the relay's 18-digit queue id."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    time_part, noise = int.from_bytes(data[:6], "big"), int.from_bytes(data[6:], "big")
    return ("".join(alphabet[(time_part >> (5 * (9 - i))) & 31] for i in range(10))
            + "".join(alphabet[(noise >> (5 * (7 - i))) & 31] for i in range(8)))


def verify_independently(key_file, local: str) -> tuple[str, int]:
    """The token checked without the relay's code: base32 (RFC 4648), the VERP key as HKDF-SHA256
    (RFC 5869) of the key file's key, HMAC-SHA256 truncated to 8 bytes. Returns (queue id, index)."""
    key_id, material = next(line.split()[1:] for line in key_file.read_text().splitlines() if line.startswith("key "))
    prk = hmac.new(b"hikyaku-secrets-v1", base64.b64decode(material), hashlib.sha256).digest()
    verp_key = hmac.new(prk, b"hmac:verp\x01", hashlib.sha256).digest()
    raw = base64.b32decode(local[2:].upper())
    assert len(raw) == 25 and raw[0] == hashlib.sha256(key_id.encode()).digest()[0]
    assert hmac.compare_digest(raw[17:], hmac.new(verp_key, raw[:17], hashlib.sha256).digest()[:8])
    assert raw[15:17] == hashlib.sha256(b"verp").digest()[:2]  # the account tag
    return crockford(raw[1:12]), int.from_bytes(raw[12:15], "big")


def decode(relay, address: str) -> dict[str, str]:
    out = hikyaku(relay, "verp", "decode", address, "--account", "verp")
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def test_verp_sends_one_recipient_per_transaction_on_one_connection(make_relay, receiver, redis_server, tmp_path):
    key_file = tmp_path / "secrets.key"
    out = subprocess.run([HIKYAKU_BIN, "secrets", "generate-key", str(key_file)], capture_output=True, text=True,
                         env=child_environment())
    assert out.returncode == 0, out.stderr
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "secrets": {"key_file": str(key_file)},
                               "bounces": {"window": "2d"}})
    send.port = relay.relay_port
    hikyaku(relay, "account", "add", "verp", "--network", f"{VERP_IP}/32", "--domain", "verp.example",
            "--return-path-domain", RETURN_PATH.upper())
    hikyaku(relay, "account", "add", "plain", "--network", f"{PLAIN_IP}/32", "--domain", "plain.example")
    shown = hikyaku(relay, "account", "show", "verp").stdout
    assert f"b-<token>@{RETURN_PATH}" in shown, shown
    wait_for(lambda: "loaded 2 account(s)" in relay.process.log_text(), what="the relay to load the accounts")

    tok = token()
    recipients = [f"{name}-{tok}@example.test" for name in ("ann", "bob", "cy")]
    send(VERP_IP, "app@verp.example", recipients, f"<verp-{tok}@verp.example>")
    got = wait_for(lambda: len(received := [m for m in receiver.messages() if m["rcpt_tos"][0] in recipients]) == 3 and received,
                   what="three VERP transactions")
    # One transaction per recipient, all on one connection (same client port).
    assert sorted(m["rcpt_tos"][0] for m in got) == sorted(recipients)
    assert all(len(m["rcpt_tos"]) == 1 for m in got), got
    assert len({tuple(m["peer"]) for m in got}) == 1, [m["peer"] for m in got]
    senders = [m["mail_from"] for m in got]
    assert len(set(senders)) == 3, senders
    assert all(VERP_ADDRESS.match(s) for s in senders), senders

    decoded = {m["rcpt_tos"][0]: decode(relay, m["mail_from"]) for m in got}
    queue_ids = {d["queue_id"] for d in decoded.values()}
    assert len(queue_ids) == 1, decoded
    qid = queue_ids.pop()
    index = redis_server.command("HGET", f"hk:rix:{qid}", "r").decode().rstrip("\n").split("\n")
    assert sorted(index) == sorted(recipients)
    for recipient, d in decoded.items():
        assert index[int(d["recipient_index"])] == recipient, (recipient, d, index)
        assert d["account"] == "verp matches"
    for m in got:
        assert verify_independently(key_file, m["mail_from"].split("@")[0]) == (qid, index.index(m["rcpt_tos"][0]))
    # --lookup: the recipient index names the recipient, for an operator holding a bounce.
    looked = hikyaku(relay, "verp", "decode", got[0]["mail_from"], "--lookup").stdout
    assert f"recipient {got[0]['rcpt_tos'][0]}" in looked and "index_account verp" in looked, looked
    assert "sender app@verp.example" in looked, looked
    # Any case decodes (MTAs that upper-case local parts); a tampered token does not.
    upper = got[0]["mail_from"].upper()
    assert decode(relay, upper)["queue_id"] == qid
    local = got[0]["mail_from"].split("@")[0]
    tampered = local[:10] + ("a" if local[10] != "a" else "b") + local[11:]
    assert hikyaku(relay, "verp", "decode", tampered, check=False).returncode != 0

    fields = redis_server.command("HGETALL", f"hk:rix:{qid}").decode().split("\n")
    rix = dict(zip(fields[0::2], fields[1::2]))
    assert rix["a"] == "verp" and rix["s"] == "app@verp.example" and rix["m"] == f"<verp-{tok}@verp.example>", rix
    # After the last recipient is final the index expires after bounces.window, not before.
    ttl = wait_for(lambda: (t := int(redis_server.command("TTL", f"hk:rix:{qid}"))) <= WINDOW_SECONDS and t,
                   what="the recipient index to get the window's expiry")
    assert WINDOW_SECONDS - 120 <= ttl <= WINDOW_SECONDS, ttl
    assert int(redis_server.command("EXISTS", f"hk:msg:{qid}")) == 0
    # Events keep the original envelope sender.
    delivered = wait_for(lambda: len(e := [x for x in relay.events() if x.get("queue_id") == qid and x["event"] == "delivered"]) == 3 and e,
                         what="three delivered events")
    assert {e["sender"] for e in delivered} == {"app@verp.example"}

    # Without a return-path domain: one transaction for all three, from the original sender, no index.
    plain = [f"{name}-{tok}p@example.test" for name in ("ann", "bob", "cy")]
    send(PLAIN_IP, "app@plain.example", plain, f"<plain-{tok}@plain.example>")
    message = wait_for(lambda: [m for m in receiver.messages() if plain[0] in m["rcpt_tos"]], what="the plain message")[0]
    assert sorted(message["rcpt_tos"]) == sorted(plain)
    assert message["mail_from"] == "app@plain.example"
    plain_qid = next(e["queue_id"] for e in relay.events() if e["event"] == "accepted" and plain[0] in e.get("recipients", []))
    assert int(redis_server.command("EXISTS", f"hk:rix:{plain_qid}")) == 0

    # The account can go back to its own sender.
    hikyaku(relay, "account", "set", "verp", "--no-return-path-domain")
    assert "original envelope sender" in hikyaku(relay, "account", "show", "verp").stdout


def test_without_a_key_file_verp_is_skipped_with_a_warning(make_relay, receiver, redis_server):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    send.port = relay.relay_port
    hikyaku(relay, "account", "add", "verp", "--network", f"{VERP_IP}/32", "--domain", "verp.example",
            "--return-path-domain", RETURN_PATH)
    wait_for(lambda: "loaded 1 account(s)" in relay.process.log_text(), what="the relay to load the account")
    tok = token()
    recipients = [f"ann-{tok}@example.test", f"bob-{tok}@example.test"]
    send(VERP_IP, "app@verp.example", recipients, f"<nokey-{tok}@verp.example>")
    message = wait_for(lambda: [m for m in receiver.messages() if recipients[0] in m["rcpt_tos"]], what="the message")[0]
    assert message["mail_from"] == "app@verp.example"
    assert sorted(message["rcpt_tos"]) == sorted(recipients)
    assert "secrets.key_file is not set: VERP tokens cannot be signed" in relay.process.log_text()
