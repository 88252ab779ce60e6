"""Child processes with their logs, a clean stop, and CPU and memory accounting.

Every process writes stdout and stderr to a log file (or stdout to a file of its own),
runs in its own session (a Ctrl-C at the terminal reaches only the harness), and gets our
environment minus every ``HIKYAKU_*`` variable: hikyaku reads those as configuration
overrides (and refuses unknown ones such as a test's ``HIKYAKU_BIN``).

CPU seconds are utime+stime from ``/proc/PID/stat`` and peak RSS is ``VmHWM`` from
``/proc/PID/status``, both polled while the process runs (``sample``). A child that exits
is reaped with ``os.wait4``, whose resource usage gives its exact final CPU time. Its
``ru_maxrss`` is not used for memory: on Linux it includes the pages the child had as a
fork of the harness before exec, so it reads as the harness's own size.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .procfs import read_proc_memory, read_proc_stat
from .waiting import ProcessDied

_all: list["ManagedProcess"] = []
_owner: str | None = None


def child_environment(extra: dict | None = None) -> dict:
    """Our environment without ``HIKYAKU_*`` variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIKYAKU_")}
    env.update(extra or {})
    return env


def set_owner(owner: str | None):
    """Processes made from now on belong to ``owner`` (a test's node id), for failure reports."""
    global _owner
    _owner = owner


def owned_by(owner: str) -> list["ManagedProcess"]:
    """The processes of ``owner`` and the session-wide ones (owner None)."""
    return [p for p in _all if p.owner in (None, owner)]


def kill_leftovers() -> list[str]:
    """SIGKILLs every process still running (the safety net if a stop step failed)."""
    killed = []
    for process in _all:
        if process.alive():
            try:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
                killed.append(process.name)
            except OSError:
                pass
    return killed


class Incarnation:
    """One run of a process (a restarted process has several)."""

    def __init__(self, proc: subprocess.Popen, started: float):
        self.proc = proc
        self.pid = proc.pid
        self.started = started
        self.ended: float | None = None
        self.cpu_seconds = 0.0
        self.peak_rss_kib = 0
        self.exit_code: int | None = None
        self.exact = False  # final figures from wait4

    def absorb_sample(self):
        stat = read_proc_stat(self.pid)
        if stat is None:
            return
        self.cpu_seconds = max(self.cpu_seconds, stat["utime"] + stat["stime"])
        memory = read_proc_memory(self.pid)
        if memory and "VmHWM" in memory:
            self.peak_rss_kib = max(self.peak_rss_kib, memory["VmHWM"])


class ManagedProcess:
    """``session=True``: not owned by the current test (shown in every failure report)."""

    def __init__(self, name: str, argv: list, log_path: Path, env: dict | None = None, session: bool = False,
                 stdout_path: Path | None = None, cwd: Path | None = None, role: str = ""):
        self.name = name
        self.role = role
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.stdout_path = Path(stdout_path) if stdout_path else None
        self.env = env
        self.cwd = cwd
        self.owner = None if session else _owner
        self.incarnations: list[Incarnation] = []
        _all.append(self)

    # ---------------------------------------------------------------- lifecycle

    @property
    def current(self) -> Incarnation | None:
        return self.incarnations[-1] if self.incarnations else None

    @property
    def proc(self) -> subprocess.Popen | None:
        return self.current.proc if self.current else None

    @property
    def pid(self) -> int | None:
        return self.current.pid if self.current else None

    def start(self) -> "ManagedProcess":
        assert not self.alive(), f"{self.name} is already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            out = open(self.stdout_path, "ab") if self.stdout_path else log
            try:
                proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=log,
                                        env=child_environment(self.env), cwd=self.cwd, start_new_session=True)
            finally:
                if out is not log:
                    out.close()
        self.incarnations.append(Incarnation(proc, time.time()))
        return self

    def _reap(self, block: bool = False) -> bool:
        """Reaps the current incarnation if it has exited; True when it is gone."""
        inc = self.current
        if inc is None or inc.exit_code is not None:
            return True
        if inc.proc.returncode is not None:
            # Reaped through the Popen object (a test's proc.wait()): no resource usage.
            inc.exit_code, inc.ended = inc.proc.returncode, time.time()
            return True
        try:
            pid, status, usage = os.wait4(inc.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            inc.exit_code = inc.proc.returncode if inc.proc.returncode is not None else -1
            inc.ended = time.time()
            return True
        if pid == 0:
            return False
        inc.exit_code = os.waitstatus_to_exitcode(status)
        inc.proc.returncode = inc.exit_code
        inc.ended = time.time()
        inc.cpu_seconds = usage.ru_utime + usage.ru_stime
        # ru_maxrss counts the harness's own pages the child had before exec (Linux), so it
        # is only a fallback for a process that ended before it was ever polled.
        if inc.peak_rss_kib == 0:
            inc.peak_rss_kib = usage.ru_maxrss
        inc.exact = True
        return True

    def alive(self) -> bool:
        return self.current is not None and not self._reap()

    @property
    def exit_code(self) -> int | None:
        self._reap()
        return self.current.exit_code if self.current else None

    def require_alive(self):
        """Raises ``ProcessDied`` (with the end of the log) if the process has exited."""
        if not self.alive():
            raise ProcessDied(f"{self.name} exited (status {self.exit_code}); last lines of its log:\n{self.tail(40)}")

    def sample(self):
        """Polls /proc for CPU and peak RSS (call regularly, and before stopping)."""
        if self.alive():
            self.current.absorb_sample()

    def send_signal(self, sig: int):
        if self.alive():
            self.mark(f"sending {signal.Signals(sig).name}")
            self.current.absorb_sample()
            os.kill(self.current.pid, sig)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._reap():
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
        return self.current.exit_code

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it is still running after ``timeout`` seconds."""
        if self.current is None:
            return None
        if self.alive():
            self.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.mark(f"still running {timeout:.0f}s after SIGTERM; sending SIGKILL")
                os.kill(self.current.pid, signal.SIGKILL)
                self.wait()
        self.mark(f"exited with status {self.current.exit_code}")
        return self.current.exit_code

    def kill9(self):
        assert self.alive(), f"{self.name} is not running"
        self.mark("sending SIGKILL (kill -9)")
        os.kill(self.current.pid, signal.SIGKILL)
        self.wait()

    # ---------------------------------------------------------------- the log

    def mark(self, text: str):
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} {text}\n".encode())

    def log_text(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError as error:
            return f"(no log: {error})"
        return "\n".join(text.splitlines()[-lines:])

    # ---------------------------------------------------------------- accounting

    def usage(self) -> dict:
        """CPU seconds (summed over restarts) and peak RSS (the largest of any run)."""
        self._reap()
        return {
            "cpu_seconds": round(sum(i.cpu_seconds for i in self.incarnations), 3),
            "peak_rss_mib": round(max((i.peak_rss_kib for i in self.incarnations), default=0) / 1024, 1),
            "starts": len(self.incarnations),
            "exit_codes": [i.exit_code for i in self.incarnations],
            "exact": all(i.exact for i in self.incarnations),
        }
