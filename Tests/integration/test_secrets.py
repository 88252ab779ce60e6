"""Secrets at rest (issue 10, item 2): DKIM private keys are sealed in Redis with a key file
only ingest nodes hold (mode 0600 enforced), still sign mail that dkimpy verifies, are
re-sealed by `hikyaku secrets rotate` after a key is added — without restarting the relay —
and plaintext keys stored before there was a key file keep working until they are re-sealed.
A delivery worker does not need the key file."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for
from test_dkim import KeyServer, hikyaku, send, verify_all, zone_records


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HIKYAKU_BIN, *args], capture_output=True, text=True, timeout=60, env=child_environment())


def generate_key(path, *extra: str) -> str:
    out = run("secrets", "generate-key", str(path), *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    match = re.search(r"key ([0-9a-f]{8})", out.stdout)
    assert match, out.stdout
    return match.group(1)


def stored_keys(redis_server, domain: str) -> tuple[bytes, list[dict]]:
    raw = redis_server.command("GET", f"hk:domain:{domain}").strip()
    return raw, json.loads(raw)["keys"]


def signed_and_verified(relay, receiver, tmp_path, domain: str, records: dict, label: str):
    tok = token()
    rcpt = send(relay.relay_port, f"app@{domain}", f"{label}-{tok}@static.test", f"App <app@{domain}>", f"{label}\n")
    data = wait_for(lambda: receiver.messages_to(rcpt), what=f"the {label} message to arrive")[0]["data"]
    with KeyServer(tmp_path / f"keys-{label}", records) as keys:
        results = verify_all(data, keys)
    assert sorted(a for a, _, _ in results) == ["ed25519-sha256", "rsa-sha256"], results
    assert all(ok for _, _, ok in results), results


def signing_loads(relay) -> int:
    return len(re.findall(r"loaded \d+ account\(s\) and 1 signing domain\(s\)", relay.process.log_text()))


def test_dkim_keys_are_sealed_in_redis_sign_and_are_resealed_on_rotation(make_relay, receiver, redis_server, tmp_path):
    key_file = tmp_path / "secrets.key"
    first_id = generate_key(key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "secrets": {"key_file": str(key_file)}})
    domain = f"sealed{token()}.example"
    records = zone_records(hikyaku(relay, "domain", "add", domain))

    raw, keys = stored_keys(redis_server, domain)
    assert b"PRIVATE KEY" not in raw, "a DKIM private key is stored in plain text"
    assert all(k["private_key"].startswith(f"hks1:{first_id}:") for k in keys), keys
    wait_for(lambda: signing_loads(relay) >= 1, what="the relay to load the keys")
    signed_and_verified(relay, receiver, tmp_path, domain, records, "before")

    # Rotation without a restart: a newer key in the file, then re-seal.
    loads = signing_loads(relay)
    second_id = generate_key(key_file, "--append")
    out = hikyaku(relay, "secrets", "rotate")
    assert "re-sealed 2 DKIM key(s) of 1 domain(s)" in out, out
    raw, keys = stored_keys(redis_server, domain)
    assert all(k["private_key"].startswith(f"hks1:{second_id}:") for k in keys), keys
    assert "re-sealed 0 DKIM key(s)" in hikyaku(relay, "secrets", "rotate")
    wait_for(lambda: signing_loads(relay) > loads, what="the relay to reload the re-sealed keys")
    signed_and_verified(relay, receiver, tmp_path, domain, records, "after")
    log = relay.process.log_text()
    assert "unusable" not in log, "the relay could not open a re-sealed key"
    assert "PRIVATE KEY" not in log


def test_plaintext_keys_from_before_keep_signing_until_resealed(make_relay, receiver, redis_server, tmp_path):
    key_file = tmp_path / "secrets.key"
    generate_key(key_file)
    # Keys stored without a key file (as before sealing existed): plain text, with a warning.
    plain = make_relay("worker", start=False)
    domain = f"legacy{token()}.example"
    out = subprocess.run([HIKYAKU_BIN, "domain", "add", domain, "--config", str(plain.config_path)],
                         capture_output=True, text=True, timeout=60, env=child_environment())
    assert out.returncode == 0 and "plain text" in out.stderr, out.stdout + out.stderr
    records = zone_records(out.stdout)
    raw, _ = stored_keys(redis_server, domain)
    assert b"BEGIN PRIVATE KEY" in raw

    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "secrets": {"key_file": str(key_file)}})
    wait_for(lambda: signing_loads(relay) >= 1, what="the relay to load the plaintext keys")
    signed_and_verified(relay, receiver, tmp_path, domain, records, "legacy")
    assert "re-sealed 2 DKIM key(s)" in hikyaku(relay, "secrets", "rotate")
    raw, _ = stored_keys(redis_server, domain)
    assert b"PRIVATE KEY" not in raw


def test_a_readable_key_file_is_refused_and_a_worker_needs_none(make_relay, tmp_path):
    key_file = tmp_path / "secrets.key"
    generate_key(key_file)
    os.chmod(key_file, 0o644)
    ingest = make_relay("ingest", {"secrets": {"key_file": str(key_file)}}, start=False)
    ingest.process.start()
    wait_for(lambda: not ingest.alive(), what="the ingest node to refuse a world-readable key file")
    assert "mode 644" in ingest.process.log_text() and "chmod 600" in ingest.process.log_text()

    required = make_relay("ingest", {"secrets": {"required": True}}, start=False)
    required.process.start()
    wait_for(lambda: not required.alive(), what="the ingest node to refuse to start without a key file")
    assert "secrets.key_file" in required.process.log_text()

    # A worker needs none (it reads one only to sign VERP return paths): a key file that does
    # not even exist is a warning, not a refusal.
    worker = make_relay("worker", {"secrets": {"key_file": str(tmp_path / "absent.key"), "required": True}})
    wait_for(lambda: "delivery worker" in worker.process.log_text() and "started" in worker.process.log_text(),
             what="the worker to start without the key file")
    assert worker.alive()
    assert "VERP return paths cannot be signed by this worker" in worker.process.log_text()
    assert os.path.exists(key_file) and not os.path.exists(tmp_path / "absent.key")
