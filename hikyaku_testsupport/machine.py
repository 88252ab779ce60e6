"""What machine a figure was measured on, and when."""

from __future__ import annotations

import os
import platform
import subprocess
import time


def machine() -> dict:
    info: dict = {}
    try:
        info["nproc"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["nproc"] = os.cpu_count()
    info["cpu_count"] = os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["model_name"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_mib"] = int(line.split()[1]) // 1024
                    break
    except OSError:
        pass
    info["kernel"] = platform.release()
    try:
        info["debian_version"] = open("/etc/debian_version").read().strip()
    except OSError:
        pass
    info["python"] = platform.python_version()
    for name, argv in (("redis_server", ["redis-server", "--version"]), ("dnsmasq", ["dnsmasq", "--version"])):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
            info[name] = out.splitlines()[0].strip() if out else None
        except (OSError, subprocess.TimeoutExpired):
            info[name] = None
    return info


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")
