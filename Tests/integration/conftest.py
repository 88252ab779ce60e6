"""End-to-end harness for Hikyaku: real processes on 127.0.0.1, driven by pytest.

Every test talks to the real `hikyaku` binary (``$HIKYAKU_BIN``, default
``<repo>/.build/debug/hikyaku``) over real sockets, with real collaborators:

* ``redis_server`` (per test) -- ``redis-server`` on a free port with AOF and
  ``appendfsync always``, data in the test's tmp_path; ``stop()``/``start()``/``restart()``
  keep the port and the data directory.
* ``redis_ha`` (per test, on request) -- a primary and a replica redis-server and three
  Sentinels (``hikyaku_testsupport.sentinel``); ``redis_config()`` is the relay's `redis`
  section through them, ``fail_over()`` SIGKILLs the primary and brings it back as a replica.
* ``redis_cluster`` (per test, on request) -- a Redis Cluster of three primaries and three
  replicas (``hikyaku_testsupport.redis_cluster``); ``redis_config(prefix)`` is the relay's
  `redis` section on it, ``kill_primary_of(slot)`` and ``move_slot(slot, port)`` change it
  under load.
* ``dns_server`` (per session) -- ``dnsmasq`` on a free port serving MX records for the
  test domains (``example.test`` and ``k1.test`` .. ``k5.test``); every MX host has the
  A record 127.0.0.1. The relay is pointed at it with ``delivery.dns_servers`` and
  reaches the receiver through ``delivery.mx_port``. ``static.test`` is not in DNS: it is
  delivered via ``delivery.routes``.
* ``receiver`` (per test) -- ``smtp_receiver.py``, an aiosmtpd server with STARTTLS that
  records every message it accepts (envelope, raw bytes, peer, TLS, time) to a JSONL
  file and acts on the recipient's local part: ``reject-*`` gets ``550 5.1.1``,
  ``grey-*`` gets ``451 4.7.1`` once, ``slow-*`` waits 2 s before answering the dot.
  ``Receiver(..., behaviours={domain: kind})`` adds per-domain behaviours (``tempfail``,
  ``throttle:N``, ``slow:S``; see smtp_receiver.py) and records refused RCPTs
  (``Receiver.refusals()``); test_engine.py uses them with the ``ENGINE_MX`` domains
  (their own MX host names in dnsmasq, so that the relay's sites follow MX hosts).
* ``relay`` / ``make_relay`` (per test) -- writes a configuration file (JSON, which is
  YAML) and runs ``hikyaku serve --config FILE --role ROLE``; waits until its SMTP
  listeners accept connections. ``Relay.kill9()``, ``stop()``, ``restart()``,
  ``events(...)`` (runs ``hikyaku events tail`` and parses the JSON lines).
* ``wait_for(predicate, ...)`` polls until the predicate returns something truthy
  (generous timeout; nothing asserts on elapsed time).

Every process writes its stdout and stderr to a log file in the test's tmp_path (the
relay runs with ``log_level: debug``; the receiver logs every SMTP command and reply).
When a test fails, the last 100 lines of each process's log are attached to the failure
report. Processes under test get our environment minus every ``HIKYAKU_*`` variable:
hikyaku reads those as configuration overrides (and refuses unknown ones such as
``HIKYAKU_BIN``). Notes such as the kill -9 test's duplicate count are repeated in the
terminal summary ("Hikyaku integration notes").

Run from the repository root:  ``HIKYAKU_BIN=.build/debug/hikyaku python3 -m pytest Tests/integration -q``
(needs redis-server, dnsmasq, swaks, openssl and ``pip install aiosmtpd``; dnsmasq is
run with ``--user=root`` so the suite is meant to run as root, as on the build machines).

This file holds only the fixtures and pytest hooks; the helpers they and the tests use
(processes, Redis, dnsmasq, the receiver, relay configuration, events, SMTP) are the
package ``hikyaku_testsupport`` at the repository root, shared with load-tests/ and
cluster/ (pytest.ini puts the repository root on the path).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from hikyaku_testsupport import notes, processes
from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.certs import self_signed
from hikyaku_testsupport.dns import Dnsmasq
from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.receiver import Receiver
from hikyaku_testsupport.redis_cluster import RedisCluster, start_redis_cluster
from hikyaku_testsupport.redis_servers import RedisServer, TLSRedisServer
from hikyaku_testsupport.relay import Relay, deep_merge
from hikyaku_testsupport.sentinel import RedisHA, start_redis_ha
from hikyaku_testsupport.world import AUTH_PASSWORD, AUTH_USER, STATIC_DOMAIN, mx_records


# --------------------------------------------------------------------------- failure reports

@pytest.fixture(autouse=True)
def _track_current_test(request):
    processes.set_owner(request.node.nodeid)
    yield
    processes.set_owner(None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # Notes travel in the report: with pytest-xdist it is the controller that prints them.
    report.user_properties.extend(("hikyaku-note", note) for note in notes.take())
    if report.failed and report.when in ("setup", "call"):
        for process in processes.owned_by(item.nodeid):
            report.sections.append(
                (f"log of {process.name} (pid {process.pid}), last 100 lines: {process.log_path}",
                 process.tail(100)))


_summary_notes: list[str] = []


def pytest_sessionfinish(session):
    """The safety net: a process a test started and did not stop (its own receiver, say)
    must not outlive the run — it would hold its port and CPU on the machine after CI (each
    pytest-xdist worker runs this for its own processes)."""
    leftovers = processes.kill_leftovers()
    if leftovers:
        print(f"\nkilled {len(leftovers)} process(es) the tests left running: {', '.join(leftovers)}")


def pytest_runtest_logreport(report):
    _summary_notes.extend(value for name, value in report.user_properties if name == "hikyaku-note")


def pytest_terminal_summary(terminalreporter):
    if _summary_notes:
        terminalreporter.section("Hikyaku integration notes")
        for note in _summary_notes:
            terminalreporter.write_line(note)


# --------------------------------------------------------------------------- certificates

@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """Self-signed certificates: one for the relay's listeners, one for the receiver."""
    directory = tmp_path_factory.mktemp("certs")
    return {name: self_signed(directory, name, cn, f"DNS:{cn},IP:127.0.0.1")
            for name, cn in (("relay", "relay.test"), ("receiver", "mx.example.test"))}


@pytest.fixture(scope="session")
def password_hash():
    out = subprocess.run(["openssl", "passwd", "-6", AUTH_PASSWORD], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# --------------------------------------------------------------------------- servers

@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def tls_redis(tmp_path):
    server = TLSRedisServer(tmp_path / "redis-tls", HIKYAKU_BIN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_ha(tmp_path) -> RedisHA:
    """A primary, a replica and three Sentinels (hikyaku_testsupport.sentinel)."""
    ha = start_redis_ha(tmp_path)
    yield ha
    ha.stop()


@pytest.fixture
def redis_cluster(tmp_path) -> RedisCluster:
    """Three primaries, three replicas (hikyaku_testsupport.redis_cluster)."""
    cluster = start_redis_cluster(tmp_path / "redis-cluster")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def dns_server(tmp_path_factory):
    """dnsmasq with the MX records of the test domains (hikyaku_testsupport.world)."""
    server = Dnsmasq(tmp_path_factory.mktemp("dns"), ["--local=/test/", *mx_records()], probe="example.test",
                     session=True).start()
    yield server
    server.stop()


@pytest.fixture
def receiver(tmp_path, certs):
    directory = tmp_path / "receiver"
    directory.mkdir()
    server = Receiver(directory, *certs["receiver"]).start()
    yield server
    server.stop()


# --------------------------------------------------------------------------- relay

@pytest.fixture
def relay_config(tmp_path, redis_server, dns_server, receiver, certs, password_hash) -> dict:
    """The base configuration of this test's relay processes (fresh ports)."""
    cert, key = certs["relay"]
    relay_port, submission_port = free_ports(2)
    return {
        "hostname": "relay.test",
        "log_level": "debug",
        "redis": {"url": redis_server.url, "command_timeout": "2s"},
        "ingest": {
            "listeners": [
                {"name": "relay", "address": f"127.0.0.1:{relay_port}", "mode": "relay"},
                {"name": "submission", "address": f"127.0.0.1:{submission_port}", "mode": "submission"},
            ],
            "relay_networks": ["127.0.0.1/32"],
            "tls": {"certificate": str(cert), "private_key": str(key)},
            "users": [{"username": AUTH_USER, "password_hash": password_hash}],
            "max_message_size": "25MiB",
            "enqueue_timeout": "3s",
        },
        "delivery": {
            "concurrency": 4,
            "dns_servers": [dns_server.address],
            "mx_port": receiver.port,
            # The test MX hosts are on 127.0.0.1, which workers refuse by default.
            "allowed_mx_networks": ["127.0.0.0/8"],
            "routes": {STATIC_DOMAIN: f"127.0.0.1:{receiver.port}"},
            "retry_schedule": ["1s"],
            "retry_jitter": 0,
            "claim_timeout": "3s",
            "max_age": "1h",
        },
    }


@pytest.fixture
def make_relay(tmp_path, relay_config):
    """``make_relay(role="all", overrides=None, start=True)`` -> Relay.

    Relays made in one test share the base configuration (same Redis, same listener
    ports), so an ``ingest`` and a ``worker`` process form one relay.
    """
    if not os.access(HIKYAKU_BIN, os.X_OK):
        pytest.fail(f"hikyaku binary not found or not executable: {HIKYAKU_BIN} (set HIKYAKU_BIN)")
    made: list[Relay] = []

    def make(role: str = "all", overrides: dict | None = None, start: bool = True) -> Relay:
        name = f"{role}-{len(made) + 1}"
        relay = Relay(HIKYAKU_BIN, name, deep_merge(relay_config, overrides or {}), tmp_path / f"hikyaku-{name}.yaml",
                      role, tmp_path / f"hikyaku-{name}.log")
        made.append(relay)
        if start:
            relay.start()
        return relay

    yield make
    for relay in made:
        relay.stop()


@pytest.fixture
def relay(make_relay) -> Relay:
    """A single ``hikyaku serve --role all`` with the base configuration, ready."""
    return make_relay("all")
