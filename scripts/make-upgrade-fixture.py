#!/usr/bin/env python3
"""Makes the fixture of Tests/integration/test_upgrade.py: a Redis RDB holding mail that
the PREVIOUS hikyaku queued, with that version's function libraries.

    scripts/make-upgrade-fixture.py OLD_HIKYAKU_BINARY COMMIT

Starts a scratch redis-server and the old binary, and queues with smtplib:
- one message whose delivery is tried and deferred (its destination refuses connections),
  so the RDB holds a retry-scheduled member of `deferred`;
- then, with the worker stopped, messages that are only queued (stream entries never
  claimed), one of them with two recipients in one domain and one in another.
It then saves the RDB (functions included, Redis >= 7.0) as
Tests/integration/fixtures/upgrade-<COMMIT>.rdb with a manifest
(upgrade-<COMMIT>.json: recipients and a token in each message's subject) and removes the
fixtures of older commits. Run it with the binary of the commit before the one that
changes the queue's data or functions (e.g. a worktree of `git worktree add … HEAD~1`).
"""
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "Tests/integration/fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    sys.exit(f"make-upgrade-fixture: timed out waiting for {what}")


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, commit = str(Path(sys.argv[1]).resolve()), sys.argv[2]
    work = Path(tempfile.mkdtemp(prefix="hk-upgrade-fixture-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIKYAKU_")}
    redis_port, smtp_port, refusing_port = free_port(), free_port(), free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(work),
                              "--appendonly", "no", "--save", "", "--dbfilename", "dump.rdb"],
                             stdout=open(work / "redis.log", "w"), stderr=subprocess.STDOUT)
    processes = [redis]

    def cli(*args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(redis_port), *args], capture_output=True, text=True).stdout.strip()

    def hikyaku(role: str) -> subprocess.Popen:
        process = subprocess.Popen([binary, "serve", "--config", str(config_path), "--role", role], env=env,
                                   stdout=open(work / f"hikyaku-{role}.log", "a"), stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    def stop(process: subprocess.Popen):
        process.terminate()
        process.wait(timeout=30)

    def send(recipients: list[str], token: str):
        message = EmailMessage()
        message["From"] = "sender@upgrade.test"
        message["To"] = ", ".join(recipients)
        message["Subject"] = f"queued before the upgrade {token}"
        message["Message-ID"] = f"<{token}@upgrade.test>"
        message.set_content(f"Queued by hikyaku {commit}. {token}\n")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.send_message(message)

    try:
        wait_for(lambda: cli("PING") == "PONG", "redis-server")
        domains = ["deferred.upgrade.test", "queued.upgrade.test", "other.upgrade.test"]
        config = {
            "hostname": "old.relay.test",
            "redis": {"url": f"redis://127.0.0.1:{redis_port}/0"},
            "ingest": {"listeners": [{"name": "relay", "address": f"127.0.0.1:{smtp_port}", "mode": "relay"}],
                       "relay_networks": ["127.0.0.1/32"]},
            "delivery": {
                # Nothing listens there: every attempt is refused, and deferred.
                "routes": {domain: f"127.0.0.1:{refusing_port}" for domain in domains},
                "allowed_mx_networks": ["127.0.0.0/8"],
                "dns_servers": ["127.0.0.1:53"],
                "retry_schedule": ["1s"], "retry_jitter": 0, "connect_timeout": "2s",
            },
        }
        config_path = work / "hikyaku.yaml"
        config_path.write_text(json.dumps(config, indent=2))
        manifest = {"commit": commit, "messages": []}

        ingest = hikyaku("ingest")
        wait_for(lambda: accepts(smtp_port), "the old ingest to listen")
        # 1. A message whose first attempt fails: deferred.
        worker = hikyaku("worker")
        token = uuid.uuid4().hex
        send(["late@deferred.upgrade.test"], token)
        manifest["messages"].append({"token": token, "recipients": ["late@deferred.upgrade.test"], "state": "deferred"})
        wait_for(lambda: cli("ZCARD", "hk:deferred") == "1", "the first attempt to be deferred")
        stop(worker)
        # 2. Messages only queued: no worker runs.
        for recipients in (["one@queued.upgrade.test", "two@queued.upgrade.test", "three@other.upgrade.test"],
                           ["four@queued.upgrade.test"]):
            token = uuid.uuid4().hex
            send(recipients, token)
            manifest["messages"].append({"token": token, "recipients": recipients, "state": "queued"})
        stop(ingest)
        if cli("ZCARD", "hk:deferred") != "1":
            sys.exit("make-upgrade-fixture: expected exactly one deferred item")
        if cli("SAVE") != "OK":
            sys.exit("make-upgrade-fixture: SAVE failed")
        for old in FIXTURES.glob("upgrade-*"):
            old.unlink()
        FIXTURES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "dump.rdb", FIXTURES / f"upgrade-{commit}.rdb")
        (FIXTURES / f"upgrade-{commit}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {FIXTURES}/upgrade-{commit}.rdb ({(work / 'dump.rdb').stat().st_size} bytes)")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
