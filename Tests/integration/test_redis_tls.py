"""Redis over TLS with an ACL user per role (issue 10, item 2), and no credentials in
output (item 6), end to end.

The TLS Redis (conftest ``tls_redis``) listens only on its TLS port, with a certificate
from a test CA and the ACL users printed by ``hikyaku redis acl`` (the ``default`` user
off). An ingest and a worker process, each with its own user over ``rediss://``, carry a
message from an SMTP client to the receiver; redis-cli over TLS shows what each role's
user is refused; a relay given the wrong CA refuses to talk to Redis, saying why.
"""

from __future__ import annotations

import smtplib
import subprocess

from hikyaku_testsupport.binaries import HIKYAKU_BIN, REPO
from hikyaku_testsupport.certs import make_ca
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

SECRET = "Pw-0f-the-0perator-7731"


def hikyaku(config_path, *args: str, redis_url: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    argv = [HIKYAKU_BIN, *args, "--config", str(config_path)]
    if redis_url:
        argv += ["--redis-url", redis_url]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60, env=child_environment())


def refused(reply: str) -> bool:
    """An ACL refusal: NOPERM for a command, or the script error when a function's
    `redis.call` touches a key or command the calling user may not."""
    return "NOPERM" in reply or "user executing the script can't" in reply or "no permissions" in reply


def role_config(tls_redis, role: str, ca_file=None) -> dict:
    return {"redis": {"url": tls_redis.url(role), "tls": {"ca_file": str(ca_file or tls_redis.ca[0])}}}


def test_ingest_and_worker_deliver_over_tls_each_with_its_own_acl_user(make_relay, tls_redis, receiver):
    ingest = make_relay("ingest", role_config(tls_redis, "ingest"), start=False)
    worker = make_relay("worker", role_config(tls_redis, "worker"))

    # Neither role's user may load functions: until the admin user has, they refuse to work
    # and say what to do.
    wait_for(lambda: "hikyaku redis load-functions" in worker.process.log_text(), timeout=20,
             what="the worker to report that the functions are not loaded")
    assert "NOPERM" in tls_redis.cli("worker", "FUNCTION", "LOAD", "#!lua name=evil\nredis.register_function('x', function() return 1 end)")
    admin_config = ingest.config_path.with_name("admin.yaml")
    admin_config.write_text(ingest.config_path.read_text())
    loaded = hikyaku(admin_config, "redis", "load-functions", redis_url=tls_redis.url("admin"))
    assert loaded.returncode == 0, loaded.stderr
    assert "hikyaku" in loaded.stdout

    ingest.start()
    tok = token()
    recipient = f"tls-{tok}@example.test"
    message = make_message("app@relay.test", [recipient], f"over TLS {tok}", f"body {tok}\n")
    with smtplib.SMTP("127.0.0.1", ingest.relay_port, timeout=30) as smtp:
        smtp.sendmail("app@relay.test", [recipient], message)
    wait_for(lambda: receiver.messages_to(recipient), what="the message to reach the receiver")

    # Each process logged in as its own user, over TLS.
    clients = tls_redis.cli("root", "CLIENT", "LIST")
    assert "user=hikyaku-ingest" in clients and "user=hikyaku-worker" in clients, clients
    for process in (ingest, worker):
        log = process.process.log_text()
        assert tls_redis.passwords["ingest"] not in log and tls_redis.passwords["worker"] not in log


# The function call `hikyaku domain delete` makes (its keys declared, as every FCALL does).
DELETE_DOMAIN = ["FCALL", "hka_domain_delete", "3", "hk:domain:signed.test", "hk:domains", "hk:acct:version", "signed.test"]


def test_each_role_user_is_refused_what_it_does_not_need(make_relay, tls_redis):
    admin = make_relay("worker", role_config(tls_redis, "admin"), start=False)
    added = hikyaku(admin.config_path, "domain", "add", "signed.test")
    assert added.returncode == 0, added.stderr
    assert tls_redis.cli("admin", "EXISTS", "hk:domain:signed.test") == "1"
    account = hikyaku(admin.config_path, "account", "add", "tenant1", "--password-stdin", "--domain", "signed.test", stdin=SECRET + "\n")
    assert account.returncode == 0, account.stderr
    assert "$" in tls_redis.cli("admin", "GET", "hk:acct:tenant1")  # the password hash is there

    # The worker: no DKIM private keys, no accounts (password hashes), no API keys,
    # nothing dangerous, no function loading — also not through a function.
    for command in (["GET", "hk:domain:signed.test"], ["SMEMBERS", "hk:domains"], ["GET", "hk:acct:tenant1"],
                    ["SET", "hk:domain:signed.test", "x"], ["FLUSHALL"], ["KEYS", "*"], ["CONFIG", "GET", "*"],
                    ["EVAL", "return redis.call('GET', 'hk:domain:signed.test')", "0"],
                    DELETE_DOMAIN,
                    ["FUNCTION", "FLUSH"], ["GET", "other:key"]):
        reply = tls_redis.cli("worker", *command)
        assert refused(reply), (command, reply)
    assert "PRIVATE KEY" not in tls_redis.cli("worker", "GET", "hk:domain:signed.test")
    # What it needs works.
    assert tls_redis.cli("worker", "ZCARD", "hk:deferred") == "0"
    assert tls_redis.cli("worker", "XLEN", "hk:events").isdigit()

    # Ingest: reads keys and accounts but may not change them, nor the worker's state.
    assert "PRIVATE KEY" in tls_redis.cli("ingest", "GET", "hk:domain:signed.test") or \
        tls_redis.cli("ingest", "EXISTS", "hk:domain:signed.test") == "1"
    for command in (["SET", "hk:domain:signed.test", "x"], ["DEL", "hk:domain:signed.test"],
                    DELETE_DOMAIN, ["ZADD", "hk:deferred", "1", "x"],
                    ["FLUSHALL"], ["FUNCTION", "FLUSH"], ["SET", "hk:acct:tenant1", "{}"]):
        reply = tls_redis.cli("ingest", *command)
        assert refused(reply), (command, reply)
    assert tls_redis.cli("admin", "EXISTS", "hk:domain:signed.test") == "1"
    # Even the admin user may not wipe the server.
    assert "NOPERM" in tls_redis.cli("admin", "FLUSHALL")


def test_wrong_ca_is_refused_with_a_clear_error_and_no_password(make_relay, tls_redis, tmp_path):
    other_ca = make_ca(tmp_path, "other")
    relay = make_relay("worker", role_config(tls_redis, "admin", ca_file=other_ca[0]), start=False)
    out = hikyaku(relay.config_path, "queue")
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "TLS handshake" in text and "certificate" in text.lower(), text
    assert tls_redis.passwords["admin"] not in text

    worker = make_relay("worker", role_config(tls_redis, "worker", ca_file=other_ca[0]))
    wait_for(lambda: "TLS handshake" in worker.process.log_text(), timeout=20, what="the worker to log the TLS failure")
    assert tls_redis.passwords["worker"] not in worker.process.log_text()

    # A missing CA file stops the start, naming the key.
    missing = relay.config_path.with_name("missing-ca.yaml")
    missing.write_text(relay.config_path.read_text().replace(str(other_ca[0]), str(tmp_path / "nope.pem")))
    out = hikyaku(missing, "check-config")
    assert out.returncode != 0 and "redis.tls.ca_file" in out.stderr and "cannot read" in out.stderr, out.stderr

    # Clear text to a TLS-only port: a clear error, not a hang.
    plain = relay.config_path.with_name("plain.yaml")
    plain.write_text(relay.config_path.read_text().replace("rediss://", "redis://"))
    out = hikyaku(plain, "queue")
    assert out.returncode != 0 and tls_redis.passwords["admin"] not in out.stdout + out.stderr


def test_check_config_and_redis_errors_never_show_the_password(make_relay, tmp_path):
    relay = make_relay("worker", {"redis": {"url": f"redis://hikyaku-worker:{SECRET}@127.0.0.1:1/0"}}, start=False)

    out = hikyaku(relay.config_path, "check-config")
    assert out.returncode == 0, out.stderr
    assert "configuration OK" in out.stdout and "hikyaku-worker:***@127.0.0.1" in out.stdout, out.stdout
    assert SECRET not in out.stdout + out.stderr

    # Unreachable Redis: the command fails, the error names the host, not the password.
    out = hikyaku(relay.config_path, "queue")
    assert out.returncode != 0 and "127.0.0.1" in out.stdout + out.stderr
    assert SECRET not in out.stdout + out.stderr

    # Malformed URLs, from the file and from the environment override systemd units use.
    for url in (f"redis://:{SECRET}@127.0.0.1:notaport/0", f"http://u:{SECRET}@127.0.0.1/0", f"u:{SECRET}@127.0.0.1",
                f"redis://:{SECRET[:6]}/{SECRET[6:]}@127.0.0.1:6379/x"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(relay.config_path.read_text().replace(f"redis://hikyaku-worker:{SECRET}@127.0.0.1:1/0", url))
        for argv in (["check-config"], ["queue"]):
            out = hikyaku(bad, *argv)
            text = out.stdout + out.stderr
            assert out.returncode != 0, (url, argv, text)
            assert "redis.url" in text or "Redis URL" in text, (url, argv, text)
            assert SECRET not in text and SECRET[6:] not in text, (url, argv, text)

    # A serving worker that cannot reach Redis logs the endpoint without the password.
    worker = make_relay("worker", {"redis": {"url": f"redis://hikyaku-worker:{SECRET}@127.0.0.1:1/0"}})
    wait_for(lambda: "not reachable" in worker.process.log_text(), timeout=20, what="the worker to log that Redis is down")
    assert SECRET not in worker.process.log_text()


def test_the_example_acl_file_is_what_the_command_prints():
    out = subprocess.run([HIKYAKU_BIN, "redis", "acl"], capture_output=True, text=True, check=True, env=child_environment())
    assert (REPO / "config" / "redis-acl.example").read_text() == out.stdout
    hashed = subprocess.run([HIKYAKU_BIN, "redis", "acl", "--passwords-from-stdin"], input=f"worker={SECRET}\n",
                            capture_output=True, text=True, check=True, env=child_environment()).stdout
    assert SECRET not in hashed and "user hikyaku-worker on #" in hashed
