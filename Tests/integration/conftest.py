"""End-to-end harness for Hikyaku: real processes on 127.0.0.1, driven by pytest.

Every test talks to the real `hikyaku` binary (``$HIKYAKU_BIN``, default
``<repo>/.build/debug/hikyaku``) over real sockets, with real collaborators:

* ``redis_server`` (per test) -- ``redis-server`` on a free port with AOF and
  ``appendfsync always``, data in the test's tmp_path; ``stop()``/``start()``/``restart()``
  keep the port and the data directory.
* ``dns_server`` (per session) -- ``dnsmasq`` on a free port serving MX records for the
  test domains (``example.test`` and ``k1.test`` .. ``k5.test``); every MX host has the
  A record 127.0.0.1. The relay is pointed at it with ``delivery.dns_servers`` and
  reaches the receiver through ``delivery.mx_port``. ``static.test`` is not in DNS: it is
  delivered via ``delivery.routes``.
* ``receiver`` (per test) -- ``receiver.py``, an aiosmtpd server with STARTTLS that
  records every message it accepts (envelope, raw bytes, peer, TLS, time) to a JSONL
  file and acts on the recipient's local part: ``reject-*`` gets ``550 5.1.1``,
  ``grey-*`` gets ``451 4.7.1`` once, ``slow-*`` waits 2 s before answering the dot.
  ``Receiver(..., behaviours={domain: kind})`` adds per-domain behaviours (``tempfail``,
  ``throttle:N``, ``slow:S``; see receiver.py) and records refused RCPTs
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
"""

from __future__ import annotations

import base64
import copy
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _resolve_binary() -> str:
    configured = os.environ.get("HIKYAKU_BIN")
    if not configured:
        return str(REPO / ".build" / "debug" / "hikyaku")
    if os.sep not in configured:
        return shutil.which(configured) or configured
    return str(Path(configured).resolve())


HIKYAKU_BIN = _resolve_binary()

MX_DOMAINS = ["example.test", "k1.test", "k2.test", "k3.test", "k4.test", "k5.test"]
# Destinations of the delivery-engine tests (test_engine.py): domain -> MX host. Domains
# sharing an MX host belong to one receiving site (MX rollup); each MX host resolves to
# 127.0.0.1, where the receiver listens.
ENGINE_MX = {
    **{f"lim{i}.test": "mx.limited.test" for i in range(1, 7)},         # site "limited"
    "capped.test": "mx.capped.test",                                    # site "capped"
    "single.test": "mx.single.test",                                    # site "single"
    "fast.test": "mx.fast.test", "fast2.test": "mx.fast2.test",         # unconfigured: mx:fast.test, ...
    "tempfail.test": "mx.tempfail.test",                                # receiver: 421 to every RCPT
    **{f"throttle{i}.test": "mx.throttle.test" for i in range(1, 13)},  # receiver: 421 "slow down" first N per IP
    "slow.test": "mx.slow.test",                                        # receiver: slow end of DATA
    **{f"spread{i}.test": f"mx.spread{i}.test" for i in range(1, 7)},
}
STATIC_DOMAIN = "static.test"
AUTH_USER = "app"
AUTH_PASSWORD = "secret"
DEFAULT_TIMEOUT = 30.0


# --------------------------------------------------------------------------- utilities

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def child_environment(extra: dict | None = None) -> dict:
    """The environment for processes under test: ours without any ``HIKYAKU_*`` variable
    (hikyaku reads every ``HIKYAKU_*`` variable as a configuration override, and refuses
    unknown ones such as our own ``HIKYAKU_BIN``), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIKYAKU_")}
    env.update(extra or {})
    return env


class WaitTimeout(AssertionError):
    pass


class ProcessDied(AssertionError):
    """A process the test depends on has exited; waiting any longer is pointless."""


def wait_for(predicate, timeout: float = DEFAULT_TIMEOUT, interval: float = 0.2, what: str = "condition"):
    """Polls ``predicate()`` until it returns a truthy value, which is returned.

    Exceptions raised by the predicate count as "not yet" (the last one is reported on
    timeout), so a predicate may run a command that fails while a server restarts.
    """
    deadline = time.monotonic() + timeout
    last_value = None
    last_error = None
    while True:
        try:
            last_value = predicate()
            last_error = None
            if last_value:
                return last_value
        except ProcessDied:
            raise
        except Exception as error:  # noqa: BLE001 -- reported on timeout
            last_error = error
        if time.monotonic() >= deadline:
            detail = f"last error: {last_error!r}" if last_error else f"last value: {last_value!r}"
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}; {detail}")
        time.sleep(interval)


# --------------------------------------------------------------------------- processes

_current_test: str | None = None
_processes: list["ManagedProcess"] = []


class ManagedProcess:
    """A subprocess with its output in a log file; registered for failure reports."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict | None = None, session: bool = False):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.owner = None if session else _current_test
        _processes.append(self)

    def start(self) -> "ManagedProcess":
        assert not self.alive(), f"{self.name} is already running"
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=child_environment(self.env), start_new_session=True)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _mark(self, text: str):
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} {text}\n".encode())

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited after ``timeout`` seconds."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._mark("sending SIGTERM")
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._mark(f"still running {timeout:.0f}s after SIGTERM; sending SIGKILL")
                self.proc.kill()
                self.proc.wait()
        self._mark(f"exited with status {self.proc.returncode}")
        return self.proc.returncode

    def kill9(self):
        assert self.alive(), f"{self.name} is not running"
        self._mark("sending SIGKILL (kill -9)")
        self.proc.kill()
        self.proc.wait()

    def tail(self, lines: int = 100) -> str:
        try:
            text = self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError as error:
            return f"(no log: {error})"
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def require_alive(self):
        if not self.alive():
            code = self.proc.returncode if self.proc else None
            raise ProcessDied(f"{self.name} exited (status {code}); last lines of its log:\n{self.tail(40)}")


@pytest.fixture(autouse=True)
def _track_current_test(request):
    global _current_test
    _current_test = request.node.nodeid
    yield
    _current_test = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        for process in _processes:
            if process.owner in (None, item.nodeid):
                report.sections.append(
                    (f"log of {process.name} (pid {process.pid}), last 100 lines: {process.log_path}",
                     process.tail(100)))


# --------------------------------------------------------------------------- certificates

@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """Self-signed certificates: one for the relay's listeners, one for the receiver."""
    directory = tmp_path_factory.mktemp("certs")
    result = {}
    for name, cn in (("relay", "relay.test"), ("receiver", "mx.example.test")):
        cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={cn}",
             "-addext", f"subjectAltName=DNS:{cn},IP:127.0.0.1"],
            check=True, capture_output=True)
        result[name] = (cert, key)
    return result


@pytest.fixture(scope="session")
def password_hash():
    out = subprocess.run(["openssl", "passwd", "-6", AUTH_PASSWORD], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# --------------------------------------------------------------------------- redis

def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            "redis-server",
            ["redis-server", "--port", self.port, "--bind", "127.0.0.1", "--dir", directory,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            directory / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process.start()

        def up():
            self.process.require_alive()
            return redis_ping(self.port)
        wait_for(up, timeout=20, interval=0.05, what="redis-server to answer PING")

    def stop(self):
        """Graceful shutdown (SIGTERM): the AOF is complete; the port is free afterwards."""
        self.process.stop()

    def restart(self):
        self.stop()
        self.start()

    def command(self, *args: str) -> bytes:
        """Runs one command with redis-cli (for diagnostics)."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, timeout=10).stdout


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway CA (certificate, key) made with openssl."""
    cert, key = directory / f"{name}-ca.pem", directory / f"{name}-ca-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name} test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True)
    return cert, key


def issue_cert(directory: Path, name: str, ca: tuple[Path, Path], san: str) -> tuple[Path, Path]:
    """A leaf certificate and key for ``san`` (e.g. ``DNS:redis.test,IP:127.0.0.1``), signed by ``ca``."""
    cert, key, csr = directory / f"{name}-cert.pem", directory / f"{name}-key.pem", directory / f"{name}.csr"
    extensions = directory / f"{name}.ext"
    extensions.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                    "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions)],
                   check=True, capture_output=True)
    return cert, key


class TLSRedisServer:
    """``redis-server`` with TLS only (``--port 0 --tls-port P``), its certificate from a
    test CA (names ``redis.test`` and ``127.0.0.1``), and the ACL users of
    ``hikyaku redis acl`` (``default`` off; a test-only superuser ``hikyaku-root`` to look
    at the server). ``url(role)`` is that role's ``rediss://`` URL; ``cli(role, ...)`` runs
    redis-cli over TLS as that role's user."""

    ROLES = ("ingest", "worker", "admin")

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.ca = make_ca(directory, "redis")
        self.cert = issue_cert(directory, "redis-server", self.ca, "DNS:redis.test,IP:127.0.0.1")
        self.passwords = {role: f"{role}-{os.urandom(12).hex()}" for role in self.ROLES + ("root",)}
        stdin = "".join(f"{role}={self.passwords[role]}\n" for role in self.ROLES)
        acl = subprocess.run([HIKYAKU_BIN, "redis", "acl", "--passwords-from-stdin"], input=stdin, capture_output=True,
                             text=True, check=True, env=child_environment()).stdout
        self.acl_path = directory / "users.acl"
        self.acl_path.write_text(acl + "user default off resetkeys -@all\n"
                                 f"user hikyaku-root on >{self.passwords['root']} ~* &* +@all\n")
        self.process = ManagedProcess(
            "redis-server (TLS)",
            ["redis-server", "--port", "0", "--tls-port", self.port, "--bind", "127.0.0.1", "--dir", directory,
             "--tls-cert-file", self.cert[0], "--tls-key-file", self.cert[1], "--tls-ca-cert-file", self.ca[0],
             "--tls-auth-clients", "no", "--aclfile", self.acl_path, "--appendonly", "no", "--save", "",
             "--daemonize", "no"],
            directory / "redis.log")

    def url(self, role: str) -> str:
        return f"rediss://hikyaku-{role}:{self.passwords[role]}@127.0.0.1:{self.port}/0"

    def cli(self, role: str, *args: str) -> str:
        """One command as ``role``'s user; the reply (or error) as redis-cli prints it."""
        out = subprocess.run(["redis-cli", "--tls", "--cacert", str(self.ca[0]), "-h", "127.0.0.1", "-p", str(self.port),
                              "--user", f"hikyaku-{role}", "--pass", self.passwords[role], "--no-auth-warning", *args],
                             capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip()

    def start(self):
        self.process.start()

        def up():
            self.process.require_alive()
            return self.cli("admin", "PING") == "PONG"
        wait_for(up, timeout=20, interval=0.1, what="redis-server to answer PING over TLS")

    def stop(self):
        self.process.stop()


@pytest.fixture
def tls_redis(tmp_path):
    server = TLSRedisServer(tmp_path / "redis-tls")
    server.start()
    yield server
    server.stop()


# --------------------------------------------------------------------------- DNS

def dns_query(port: int, name: str, qtype: int = 15, timeout: float = 0.5) -> int | None:
    """Sends one query over UDP; returns the answer count, or None without a response."""
    tid = random.randrange(65536)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", tid, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(packet, ("127.0.0.1", port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
    rid, _flags, _qd, ancount = struct.unpack(">HHHH", data[:8])
    return ancount if rid == tid else None


class DNSServer:
    def __init__(self, directory: Path):
        self.port = free_port()
        argv = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=127.0.0.1", f"--port={self.port}", "--user=root", "--conf-file=/dev/null",
                f"--pid-file={directory / 'dnsmasq.pid'}", "--log-facility=-", "--log-queries", "--local=/test/"]
        mx_of = {domain: "mx.example.test" if domain == "example.test" else f"mx.{domain}" for domain in MX_DOMAINS}
        mx_of.update(ENGINE_MX)
        for domain, mx_host in mx_of.items():
            argv.append(f"--mx-host={domain},{mx_host},10")
        for mx_host in sorted(set(mx_of.values())):
            argv.append(f"--host-record={mx_host},127.0.0.1")
        self.process = ManagedProcess("dnsmasq", argv, directory / "dnsmasq.log", session=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.process.start()

        def answers():
            self.process.require_alive()
            return dns_query(self.port, "example.test")
        wait_for(answers, timeout=20, interval=0.1, what="dnsmasq to answer the MX query for example.test")


@pytest.fixture(scope="session")
def dns_server(tmp_path_factory):
    server = DNSServer(tmp_path_factory.mktemp("dns"))
    server.start()
    yield server
    server.process.stop()


# --------------------------------------------------------------------------- receiver

class Receiver:
    """``behaviours``: ``{domain: "tempfail" | "throttle:N" | "slow:SECONDS"}`` (see receiver.py);
    ``starttls=False``: a receiver that does not offer STARTTLS; ``port``: listen on this
    port (e.g. to replace a receiver), else a free one."""

    def __init__(self, directory: Path, cert: Path, key: Path, behaviours: dict[str, str] | None = None,
                 starttls: bool = True, port: int | None = None):
        self.port = port or free_port()
        self.record_path = directory / "received.jsonl"
        self.refusal_path = directory / "refused.jsonl"
        argv = [sys.executable, HERE / "receiver.py", "--port", self.port, "--record", self.record_path,
                "--refusals", self.refusal_path, "--cert", cert, "--key", key]
        if not starttls:
            argv.append("--no-starttls")
        for domain, behaviour in (behaviours or {}).items():
            argv += ["--behaviour", f"{domain}={behaviour}"]
        self.process = ManagedProcess("receiver (aiosmtpd)", argv, directory / "receiver.log")

    def start(self):
        self.process.start()

        def listening():
            self.process.require_alive()
            return "receiver listening" in self.process.log_text()
        wait_for(listening, timeout=20, interval=0.05, what="the receiver to listen")

    def messages(self) -> list[dict]:
        """Every recorded message, oldest first, with ``data`` as bytes."""
        try:
            lines = self.record_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        result = []
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            record["data"] = base64.b64decode(record["data"])
            result.append(record)
        return result

    def messages_to(self, address: str) -> list[dict]:
        address = address.lower()
        return [m for m in self.messages() if address in (r.lower() for r in m["rcpt_tos"])]

    def messages_with(self, needle: bytes) -> list[dict]:
        return [m for m in self.messages() if needle in m["data"]]

    def refusals(self) -> list[dict]:
        """Every RCPT the receiver refused because of a domain behaviour (tempfail,
        throttle), oldest first: ``{"time", "peer", "rcpt", "reply"}``."""
        try:
            lines = self.refusal_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def receiver(tmp_path, certs):
    directory = tmp_path / "receiver"
    directory.mkdir()
    server = Receiver(directory, *certs["receiver"])
    server.start()
    yield server
    server.process.stop()


# --------------------------------------------------------------------------- relay

def deep_merge(base: dict, overrides: dict) -> dict:
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class Relay:
    """One ``hikyaku serve`` process and its configuration file."""

    def __init__(self, name: str, config: dict, config_path: Path, role: str, log_path: Path):
        self.name = name
        self.config = config
        self.config_path = config_path
        self.role = role
        config_path.write_text(json.dumps(config, indent=2) + "\n")
        self.process = ManagedProcess(f"hikyaku {name} (--role {role})",
                                      [HIKYAKU_BIN, "serve", "--config", config_path, "--role", role], log_path)

    @property
    def ports(self) -> dict[str, int]:
        return {l["name"]: int(l["address"].rsplit(":", 1)[1]) for l in self.config["ingest"]["listeners"]}

    @property
    def relay_port(self) -> int:
        return self.ports["relay"]

    @property
    def submission_port(self) -> int:
        return self.ports["submission"]

    @property
    def pid(self):
        return self.process.pid

    def start(self) -> "Relay":
        self.process.start()
        if self.role in ("ingest", "all"):
            self.wait_ready()
        return self

    def wait_ready(self):
        def ready():
            self.process.require_alive()
            return all(port_accepts(port) for port in self.ports.values())
        wait_for(ready, timeout=DEFAULT_TIMEOUT, interval=0.1, what=f"{self.process.name} to accept SMTP connections")

    def stop(self):
        return self.process.stop()

    def kill9(self):
        self.process.kill9()

    def restart(self):
        self.stop()
        self.start()

    def alive(self) -> bool:
        return self.process.alive()

    def events(self, message_id: str | None = None, recipient: str | None = None) -> list[dict]:
        """``hikyaku events tail --config FILE [...]``, parsed; oldest first."""
        argv = [HIKYAKU_BIN, "events", "tail", "--config", str(self.config_path)]
        if message_id:
            argv += ["--message-id", message_id]
        if recipient:
            argv += ["--recipient", recipient]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=child_environment())
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited with {out.returncode}: {out.stderr.strip()[-2000:]}")
        events = []
        for line in out.stdout.splitlines():
            if line.strip():
                events.append(json.loads(line))
        return events


@pytest.fixture
def relay_config(tmp_path, redis_server, dns_server, receiver, certs, password_hash) -> dict:
    """The base configuration of this test's relay processes (fresh ports)."""
    cert, key = certs["relay"]
    relay_port, submission_port = free_port(), free_port()
    while submission_port == relay_port:
        submission_port = free_port()
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
        index = len(made) + 1
        name = f"{role}-{index}"
        config = deep_merge(relay_config, overrides or {})
        relay = Relay(name, config, tmp_path / f"hikyaku-{name}.yaml", role, tmp_path / f"hikyaku-{name}.log")
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


# --------------------------------------------------------------------------- event helpers

def events_of_kind(events: list[dict], kind: str, recipient: str | None = None) -> list[dict]:
    found = [e for e in events if e.get("event") == kind]
    if recipient is not None:
        found = [e for e in found if (e.get("recipient") or "").lower() == recipient.lower()]
    return found


def wait_for_event(relay: Relay, kind: str, recipient: str, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
    """Waits for a ``kind`` event for ``recipient``; returns all events for that recipient."""
    def check():
        events = relay.events(recipient=recipient)
        return events if events_of_kind(events, kind, recipient) else None
    return wait_for(check, timeout=timeout, what=f"a '{kind}' event for {recipient}")


# --------------------------------------------------------------------------- messages and SMTP

def token() -> str:
    """A short unique string to tell this test's addresses and messages apart."""
    return os.urandom(4).hex()


def make_message(sender: str, recipients: list[str], subject: str, body: bytes | str,
                 message_id: str | None = None, extra_headers: list[str] | None = None) -> bytes:
    """An RFC 5322 message with CRLF line ends, ending in CRLF."""
    headers = [f"From: <{sender}>", f"To: {', '.join(f'<{r}>' for r in recipients)}", f"Subject: {subject}",
               "Date: Thu, 01 Jan 2026 00:00:00 +0000", "MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii"]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    headers += extra_headers or []
    if isinstance(body, str):
        body = body.encode()
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def header_fields(data: bytes) -> tuple[list[bytes], bytes]:
    """Splits a message into its header fields (each with its folded lines and CRLFs) and
    everything after the header section (the empty line and the body)."""
    fields: list[bytes] = []
    position = 0
    while position < len(data):
        end = data.find(b"\r\n", position)
        if end < 0:
            end = len(data) - 2
        line = data[position:end + 2]
        if line == b"\r\n":
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
        position = end + 2
    return fields, data[position:]


def field_name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().lower().decode("ascii", "replace")


def field_value(field: bytes) -> str:
    return field.split(b":", 1)[1].replace(b"\r\n", b"").strip().decode("ascii", "replace")


def strip_relay_additions(received: bytes, original: bytes) -> tuple[bytes, bytes, str | None]:
    """Checks the relay's additions and returns ``(received minus them, Received field,
    added Message-ID or None)``.

    The relay must put exactly one ``Received:`` field at the very top, and add a
    ``Message-ID:`` field only when the original has none. The caller compares the rest
    with the original, byte for byte.
    """
    fields, rest = header_fields(received)
    assert fields, f"no header section in the received message: {received[:200]!r}"
    assert field_name(fields[0]) == "received", f"first header field is not Received: {fields[0]!r}"
    received_field = fields.pop(0)
    original_fields, _ = header_fields(original)
    original_ids = [f for f in original_fields if field_name(f) == "message-id"]
    ids = [f for f in fields if field_name(f) == "message-id"]
    added_id = None
    if original_ids:
        assert ids == original_ids, f"Message-ID changed or duplicated: {ids!r} vs {original_ids!r}"
    else:
        assert len(ids) == 1, f"expected the relay to add exactly one Message-ID, found {ids!r}"
        added_id = field_value(ids[0])
        fields.remove(ids[0])
    return b"".join(fields) + rest, received_field, added_id


def insecure_tls_context():
    import ssl
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class RawSMTP:
    """An SMTP client on a plain socket, for input no library would send: malformed line
    ends, trickled bytes, floods. ``source`` binds the client's address (any 127.x.y.z
    works on Linux), so a test can be a client outside ``ingest.relay_networks``."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self.buffer = b""

    def send(self, data: bytes | str):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def reply(self) -> tuple[int, str]:
        """The next reply: ``(code, text)`` with the lines' texts joined by newlines.
        Raises ``ConnectionError`` if the server closes the connection first."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"connection closed by the server; partial reply {self.buffer!r}")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text[4:])
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), "\n".join(lines)

    def command(self, line: str | bytes) -> tuple[int, str]:
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def has_input(self, timeout: float) -> bool:
        """Whether a reply (or the end of the connection) arrives within ``timeout``."""
        import select
        if self.buffer:
            return True
        readable, _, _ = select.select([self.sock], [], [], timeout)
        return bool(readable)

    def closed_by_server(self) -> bool:
        """Whether the server has closed the connection (reads the end of stream)."""
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.sock.close()

    def __enter__(self) -> "RawSMTP":
        return self

    def __exit__(self, *exc):
        self.close()


def has_bare_line_ends(data: bytes) -> bool:
    """Whether ``data`` holds a CR not followed by LF or an LF not preceded by CR."""
    import re
    return re.search(rb"\r(?!\n)|(?<!\r)\n", data) is not None


def queue_id_from(reply: bytes | str) -> str:
    import re
    text = reply.decode() if isinstance(reply, bytes) else reply
    match = re.search(r"queued as (\S+)", text)
    assert match, f"no 'queued as <id>' in the reply {text!r}"
    return match.group(1)


_notes: list[str] = []


def report_note(text: str):
    """Prints ``text`` and repeats it in the terminal summary (visible with -q)."""
    print(text)
    _notes.append(text)


def pytest_terminal_summary(terminalreporter):
    if _notes:
        terminalreporter.section("Hikyaku integration notes")
        for note in _notes:
            terminalreporter.write_line(note)
