"""A throwaway PostgreSQL server on 127.0.0.1 (Debian's ``postgresql``), for the
PostgreSQL log store's tests.

``initdb`` and ``postgres`` refuse to run as root: as root they run as the ``postgres``
user (``runuser`` for initdb; ``setpriv`` for the server, which execs so that signals reach
postgres itself), with the data directory and the Unix socket directory in a temporary
directory owned by that user. Host connections need the password (SCRAM), so the relay's
``logs.postgres_password_file`` is exercised; ``psql()`` runs queries for the tests.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess
from .waiting import wait_for


def postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs Debian's postgresql)")
    return Path(found[-1]).parent


class PostgresServer:
    """``user``/``password`` own database ``database``; ``url`` has no password (it is in
    ``password_file``). ``stop()`` removes the data unless ``keep``."""

    def __init__(self, log_path: Path, user: str = "hikyaku", database: str = "hikyaku"):
        self.bin = postgres_bin()
        self.port = free_port()
        self.user, self.database = user, database
        self.password = "pg-" + os.urandom(9).hex()
        self.directory = Path(tempfile.mkdtemp(prefix="hikyaku-pg-"))
        self.data = self.directory / "data"
        self.socket_dir = self.directory / "socket"
        self.socket_dir.mkdir()
        self.password_file = log_path.parent / "postgres-password"
        self.password_file.write_text(self.password + "\n")
        pwfile = self.directory / "pwfile"
        pwfile.write_text(self.password + "\n")
        as_postgres: list[str] = []
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in (self.directory, self.socket_dir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            as_postgres = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups", "--"]
            initdb_prefix = ["runuser", "-u", "postgres", "--"]
        else:
            initdb_prefix = []
        subprocess.run(initdb_prefix + [str(self.bin / "initdb"), "-D", str(self.data), "-U", user, f"--pwfile={pwfile}",
                                        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"],
                       check=True, capture_output=True, timeout=120)
        pwfile.unlink()
        self.process = ManagedProcess(
            "postgres",
            as_postgres + [self.bin / "postgres", "-D", self.data, "-h", "127.0.0.1", "-p", self.port,
                           "-k", self.socket_dir, "-c", "fsync=off", "-c", "synchronous_commit=off",
                           "-c", "full_page_writes=off", "-c", "max_connections=100"],
            log_path, role="postgres")

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.database}?sslmode=disable"

    def start(self) -> "PostgresServer":
        self.process.start()
        wait_for(lambda: self.psql_status("SELECT 1") == 0, timeout=60, interval=0.1,
                 what=f"postgres on {self.port} to accept connections", alive=self.process.alive)
        if self.database != "postgres" and not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",
                                                         database="postgres"):
            self.psql(f"CREATE DATABASE {self.database}", database="postgres")
        return self

    def _psql_argv(self, sql: str, database: str | None) -> list[str]:
        # Over the Unix socket (trust): the tests' own reads need no password.
        return [str(self.bin / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user,
                "-d", database or self.database, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]

    def psql_status(self, sql: str) -> int:
        return subprocess.run(self._psql_argv(sql, "postgres"), capture_output=True, timeout=30).returncode

    def psql(self, sql: str, database: str | None = None) -> list[list[str]]:
        """Rows of ``sql`` (tab-separated fields as strings)."""
        out = subprocess.run(self._psql_argv(sql, database), capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def stop(self, keep: bool = False):
        self.process.stop(30)
        if not keep:
            shutil.rmtree(self.directory, ignore_errors=True)
