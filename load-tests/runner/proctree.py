"""Processes not started by the runner (Postfix's master and its children), followed
through /proc."""

from __future__ import annotations

import os

from hikyaku_testsupport.procfs import read_proc_memory, read_proc_stat


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
