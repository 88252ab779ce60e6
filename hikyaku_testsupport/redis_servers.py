"""``redis-server`` processes on 127.0.0.1: durable (AOF, ``appendfsync always``, the level
every figure and test relies on), optionally a replica; and TLS-only with the relay's ACL
users."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .certs import issue_cert, make_ca
from .ports import free_port
from .processes import ManagedProcess
from .relay import acl_users
from .resp import Redis, redis_ping
from .waiting import wait_for


def redis_cli(port: int, *args: str) -> str:
    """One command with redis-cli against 127.0.0.1:port; its output, stripped."""
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=10).stdout.strip()


class RedisServer:
    """Data in ``directory``; ``stop()``/``start()``/``restart()`` keep the port and the data.
    ``replica_of``: the port of a primary on 127.0.0.1."""

    def __init__(self, directory: Path, port: int | None = None, replica_of: int | None = None,
                 name: str = "redis-server", log_path: Path | None = None):
        self.port = port or free_port()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", self.port, "--bind", "127.0.0.1", "--dir", directory,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"]
        if replica_of:
            argv += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.process = ManagedProcess(name, argv, log_path or directory / "redis.log", role="redis")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        return Redis(self.port)

    def start(self) -> "RedisServer":
        self.process.start()
        wait_for(lambda: redis_ping(self.port), timeout=20, interval=0.05,
                 what=f"{self.process.name} on {self.port} to answer PING", alive=self.process.alive)
        return self

    def stop(self, timeout: float = 15.0):
        """Graceful shutdown (SIGTERM): the AOF is complete; the port is free afterwards."""
        self.process.stop(timeout)

    def restart(self):
        self.stop()
        self.start()

    def command(self, *args: str) -> bytes:
        """Runs one command with redis-cli (for diagnostics)."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, timeout=10).stdout


class TLSRedisServer:
    """``redis-server`` with TLS only (``--port 0 --tls-port P``), its certificate from a
    test CA (names ``redis.test`` and ``127.0.0.1``), and the ACL users of
    ``hikyaku redis acl`` (``default`` off; a test-only superuser ``hikyaku-root`` to look
    at the server). ``url(role)`` is that role's ``rediss://`` URL; ``cli(role, ...)`` runs
    redis-cli over TLS as that role's user."""

    ROLES = ("ingest", "worker", "webhooks", "console", "admin")

    def __init__(self, directory: Path, hikyaku: str):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.ca = make_ca(directory, "redis")
        self.cert = issue_cert(directory, "redis-server", self.ca, "DNS:redis.test,IP:127.0.0.1")
        self.passwords = {role: f"{role}-{os.urandom(12).hex()}" for role in self.ROLES + ("root",)}
        acl = acl_users(hikyaku, {role: self.passwords[role] for role in self.ROLES})
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
        wait_for(lambda: self.cli("admin", "PING") == "PONG", timeout=20, interval=0.1,
                 what="redis-server to answer PING over TLS", alive=self.process.alive)

    def stop(self):
        self.process.stop()
