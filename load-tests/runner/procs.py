"""Child processes with their logs, CPU and memory accounting, and a clean stop.

CPU seconds are utime+stime from ``/proc/PID/stat`` and peak RSS is ``VmHWM`` from
``/proc/PID/status``, both polled while the process runs (``Child.sample``). A child that
exits is reaped with ``os.wait4``, whose resource usage gives its exact final CPU time (the
same utime+stime the kernel kept in /proc, including whatever it spent after the last poll).
Its ``ru_maxrss`` is not used for memory: on Linux it includes the pages the child had as a
fork of the runner before exec, so it reads as the runner's own size.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def child_environment(extra: dict | None = None) -> dict:
    """Our environment without ``HIKYAKU_*`` variables: hikyaku reads every one of them as
    a configuration override and refuses unknown ones (such as a test's ``HIKYAKU_BIN``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIKYAKU_")}
    env.update(extra or {})
    return env


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user/nice
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def read_proc_stat(pid: int) -> dict | None:
    """utime, stime, cutime, cstime (seconds), ppid, comm and state of a live process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    open_paren, close_paren = data.find("("), data.rfind(")")
    comm = data[open_paren + 1:close_paren]
    fields = data[close_paren + 2:].split()
    # fields[0] is field 3 (state); utime is field 14 -> index 11.
    return {
        "comm": comm,
        "state": fields[0],
        "ppid": int(fields[1]),
        "utime": int(fields[11]) / CLOCK_TICKS,
        "stime": int(fields[12]) / CLOCK_TICKS,
        "cutime": int(fields[13]) / CLOCK_TICKS,
        "cstime": int(fields[14]) / CLOCK_TICKS,
    }


def read_proc_memory(pid: int) -> dict | None:
    """VmHWM (peak RSS) and VmRSS in KiB."""
    result = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:") or line.startswith(b"VmRSS:"):
                    key, value = line.split(b":", 1)
                    result[key.decode()] = int(value.split()[0])
    except OSError:
        return None
    return result


class Incarnation:
    """One run of a child (a restarted child has several)."""

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


_ALL_CHILDREN: list["Child"] = []


def kill_leftovers() -> list[str]:
    """SIGKILLs any child still running (the safety net if a stop step failed)."""
    killed = []
    for child in _ALL_CHILDREN:
        if child.alive():
            try:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(10)
                killed.append(child.name)
            except OSError:
                pass
    return killed


class Child:
    """A process of the run: output to ``log_path`` (stdout and stderr, or stdout to its
    own file), its own session (a Ctrl-C at the terminal reaches the runner only), every
    ``HIKYAKU_*`` variable removed from its environment."""

    def __init__(self, name: str, argv: list, log_path: Path, stdout_path: Path | None = None,
                 env: dict | None = None, cwd: Path | None = None, role: str = ""):
        self.name = name
        self.role = role
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.stdout_path = Path(stdout_path) if stdout_path else None
        self.env = env
        self.cwd = cwd
        self.incarnations: list[Incarnation] = []
        _ALL_CHILDREN.append(self)

    # ---------------------------------------------------------------- lifecycle

    @property
    def current(self) -> Incarnation | None:
        return self.incarnations[-1] if self.incarnations else None

    @property
    def pid(self) -> int | None:
        return self.current.pid if self.current else None

    def start(self) -> "Child":
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
        try:
            pid, status, usage = os.wait4(inc.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            # Reaped elsewhere (should not happen); keep the polled figures.
            inc.exit_code = inc.proc.returncode if inc.proc.returncode is not None else -1
            inc.ended = time.time()
            return True
        if pid == 0:
            return False
        inc.exit_code = os.waitstatus_to_exitcode(status)
        inc.proc.returncode = inc.exit_code
        inc.ended = time.time()
        inc.cpu_seconds = usage.ru_utime + usage.ru_stime
        # ru_maxrss of a child counts the runner's own pages it had before exec (Linux), so
        # it is only a fallback for a process that ended before it was ever polled.
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

    def stop(self, timeout: float = 30.0) -> int | None:
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

    def mark(self, text: str):
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} {text}\n".encode())

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


class ProcessTree:
    """Processes not started by us (Postfix's master and its children): polled by walking
    /proc for the descendants of a root pid. The total CPU is the root's own time plus
    the time of its children it has reaped (cutime+cstime) plus each live descendant's own
    time at the last poll. Memory: the largest VmHWM of any one process, per program name,
    and the largest sum of VmRSS over all processes of the tree at one poll."""

    def __init__(self, root_pid: int):
        self.root_pid = root_pid
        self.root_cpu = 0.0          # utime+stime+cutime+cstime of the root at the last poll
        self.live: dict[int, tuple[str, float]] = {}
        self.peak_rss_by_name: dict[str, int] = {}
        self.cpu_by_name_seen: dict[str, float] = {}
        self.pids_seen: set[int] = set()
        self.peak_total_rss_kib = 0

    def sample(self):
        stat = read_proc_stat(self.root_pid)
        if stat is None:
            return
        self.root_cpu = stat["utime"] + stat["stime"] + stat["cutime"] + stat["cstime"]
        total_rss = self._memory(self.root_pid, stat["comm"])
        parents: dict[int, int] = {}
        stats: dict[int, dict] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            s = read_proc_stat(pid)
            if s is None:
                continue
            parents[pid] = s["ppid"]
            stats[pid] = s
        live = {}
        for pid, s in stats.items():
            p, depth = pid, 0
            while p in parents and p != self.root_pid and depth < 10:
                p, depth = parents[p], depth + 1
            if p == self.root_pid and pid != self.root_pid:
                own = s["utime"] + s["stime"]
                live[pid] = (s["comm"], own)
                self.pids_seen.add(pid)
                total_rss += self._memory(pid, s["comm"])
                previous = self.live.get(pid)
                gained = own - (previous[1] if previous else 0.0)
                self.cpu_by_name_seen[s["comm"]] = self.cpu_by_name_seen.get(s["comm"], 0.0) + max(gained, 0.0)
        self.live = live
        self.peak_total_rss_kib = max(self.peak_total_rss_kib, total_rss)

    def _memory(self, pid: int, name: str) -> int:
        memory = read_proc_memory(pid)
        if not memory:
            return 0
        if "VmHWM" in memory:
            self.peak_rss_by_name[name] = max(self.peak_rss_by_name.get(name, 0), memory["VmHWM"])
        return memory.get("VmRSS", 0)

    def usage(self) -> dict:
        live_cpu = sum(cpu for _, cpu in self.live.values())
        return {
            "cpu_seconds": round(self.root_cpu + live_cpu, 3),
            "processes_seen": len(self.pids_seen) + 1,
            "cpu_seconds_seen_by_program": {k: round(v, 2) for k, v in sorted(self.cpu_by_name_seen.items())},
            "peak_rss_mib_by_program": {k: round(v / 1024, 1) for k, v in sorted(self.peak_rss_by_name.items())},
            "peak_rss_mib": round(max(self.peak_rss_by_name.values(), default=0) / 1024, 1),
            "peak_total_rss_mib": round(self.peak_total_rss_kib / 1024, 1),
        }
