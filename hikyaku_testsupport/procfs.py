"""CPU time and memory of processes and of the whole machine, read from /proc."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it
    names one process, so a recycled pid is never mistaken for ours."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(data[data.rfind(")") + 2:].split()[19])


def context_switches(pid: int) -> int | None:
    """Voluntary + involuntary context switches of every live thread of ``pid``, summed over
    /proc/PID/task/*/status (the process's own status file counts its main thread only)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"voluntary_ctxt_switches:") or line.startswith(b"nonvoluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except OSError:
            continue  # a thread that exited while we read
    return total
