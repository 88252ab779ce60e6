"""Queued mail and the Redis functions survive an upgrade from the previous commit.

The fixture (``fixtures/upgrade-<commit>.rdb``, made by ``scripts/make-upgrade-fixture.py``
with the previous commit's binary) is a Redis snapshot holding that version's function
libraries and mail it queued: one message already tried once and deferred, and messages
only queued. This version starts on it, replaces the libraries, delivers every old
recipient exactly once, and takes new mail.
"""

import json
import shutil
import smtplib
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from hikyaku_testsupport.binaries import REPO
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.redis_servers import RedisServer
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LIBRARIES = {path.stem: path.read_text() for path in (REPO / "Sources/Queue/Lua").glob("*.lua")}


def fixture_files() -> tuple[Path, dict]:
    manifests = sorted(FIXTURES.glob("upgrade-*.json"))
    assert len(manifests) == 1, f"expected one upgrade fixture in {FIXTURES}, found {manifests}"
    return manifests[0].with_suffix(".rdb"), json.loads(manifests[0].read_text())


@pytest.fixture
def redis_server(tmp_path):
    """The conftest's redis_server, started from the old version's snapshot (no AOF: with
    appendonly on and no AOF yet, Redis would start empty instead of loading the RDB)."""
    rdb, _ = fixture_files()
    server = RedisServer(tmp_path / "redis")
    shutil.copyfile(rdb, server.directory / "dump.rdb")
    server.process = ManagedProcess(
        "redis-server (upgrade fixture)",
        ["redis-server", "--port", server.port, "--bind", "127.0.0.1", "--dir", server.directory,
         "--dbfilename", "dump.rdb", "--appendonly", "no", "--save", "", "--daemonize", "no"],
        server.directory / "redis.log")
    server.start()
    yield server
    server.stop()


def function_code(redis_server) -> dict[str, str]:
    """library name -> code, from FUNCTION LIST LIBRARYNAME … WITHCODE, one library at a
    time: redis-cli --raw prints each field on its own line, library_code last, then a
    line break of its own."""
    code = {}
    for name in LIBRARIES:
        out = subprocess.run(["redis-cli", "-p", str(redis_server.port), "--raw", "FUNCTION", "LIST",
                              "LIBRARYNAME", name, "WITHCODE"], capture_output=True, text=True, timeout=10).stdout
        marker = "library_code\n"
        if marker in out:
            # LIBRARYNAME matches by prefix ("hikyaku" also matches "hikyaku_admin"): take
            # the library of exactly this name.
            for entry in out.split("library_name\n")[1:]:
                if entry.startswith(name + "\n"):
                    value = entry.split(marker, 1)[1]
                    code[name] = value[:-1] if value.endswith("\n") else value
    return code


def send(port: int, recipients: list[str], tok: str):
    message = EmailMessage()
    message["From"] = "sender@upgrade.test"
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"sent after the upgrade {tok}"
    message.set_content(f"New mail. {tok}\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message)


def test_queued_mail_and_functions_survive_an_upgrade(redis_server, receiver, make_relay):
    _, manifest = fixture_files()
    old_code = function_code(redis_server)
    # The old commit had these libraries; a library added since is loaded by the upgrade.
    assert {"hikyaku", "hikyaku_accounts", "hikyaku_admin"} <= set(old_code) <= set(LIBRARIES), sorted(old_code)
    assert any(old_code[name].strip() != LIBRARIES[name].strip() for name in old_code), \
        "the fixture already holds this version's functions: it proves nothing"
    assert redis_server.command("ZCARD", "hk:deferred").strip() == b"1", "the fixture's deferred item is missing"
    old_recipients = [rcpt for message in manifest["messages"] for rcpt in message["recipients"]]

    domains = {rcpt.split("@")[1] for rcpt in old_recipients}
    overrides = {"delivery": {"routes": {domain: f"127.0.0.1:{receiver.port}" for domain in domains},
                              # The old mail was accepted when the fixture was made.
                              "max_age": "3650d"}}
    ingest = make_relay("ingest", overrides)
    make_relay("worker", overrides)

    # This version's libraries replaced the old ones (each byte as in Sources/Queue/Lua).
    def replaced():
        return function_code(redis_server) == LIBRARIES
    wait_for(replaced, timeout=20, what="the new function libraries to be loaded")

    def old_mail_delivered():
        return all(any(message["token"] in m["data"].decode("utf-8", "replace") for m in receiver.messages_to(rcpt))
                   for message in manifest["messages"] for rcpt in message["recipients"])
    wait_for(old_mail_delivered, timeout=60, what="every previously queued recipient to be delivered")

    new = token()
    send(ingest.relay_port, ["new@queued.upgrade.test"], new)
    wait_for(lambda: receiver.messages_with(new.encode()), timeout=30, what="new mail to be delivered")

    # Exactly once: nothing left in the queue that could be sent again, and one copy each.
    def settled():
        return (redis_server.command("GET", "hk:depth:default").strip() == b"0"
                and redis_server.command("ZCARD", "hk:deferred").strip() == b"0")
    wait_for(settled, timeout=20, what="the queue to be empty")
    time.sleep(1.5)  # a duplicate would be one more claim away (the worker polls well within this)
    for message in manifest["messages"]:
        for rcpt in message["recipients"]:
            copies = [m for m in receiver.messages_to(rcpt) if message["token"].encode() in m["data"]]
            assert len(copies) == 1, f"{rcpt} ({message['state']} before the upgrade) got {len(copies)} copies"
    assert len(receiver.messages_with(new.encode())) == 1
