"""The smtp-source profiles of `make bench` (issue 16): Postfix's own `smtp-source` as the
client of both relays and `smtp-sink` as the only destination, so neither side's figures
come from our tools.

    smtp-source [-d] -s 20 -l 1024 -m N -f FROM -t TO 127.0.0.1:RELAY  ->  relay  ->  smtp-sink -c

One `smtp-sink` per relay, on 127.0.1.1, is the recipient domain's destination: Hikyaku
reaches it by a static route (`delivery.routes`, no DNS), Postfix by its transport map
(runner/postfix.py). A timed run starts when smtp-source is launched and ends when the
sink's message counter (`-c`, read from its output file every 10 ms) has grown by N; the
relay's queue must then drain to empty (every 250 seen by the relay) before the next run.

CPU and context switches are read from /proc before and after each run: for Hikyaku the
relay process (utime+stime; voluntary+nonvoluntary switches summed over its threads) and
redis-server apart; for Postfix the master and every descendant (CPU exact through the
master's cutime+cstime; switches of processes that exited between two polls, every 0.25 s,
are counted up to their last poll, so Postfix's figure is a slight undercount).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from hikyaku_testsupport.ports import free_port, port_accepts
from hikyaku_testsupport.procfs import CLOCK_TICKS, context_switches
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.redis_servers import RedisServer
from hikyaku_testsupport.relay import Relay, check_config, deep_merge
from hikyaku_testsupport.resp import Redis
from hikyaku_testsupport.waiting import wait_for

from . import postfix

SMTP_SOURCE, SMTP_SINK = "/usr/sbin/smtp-source", "/usr/sbin/smtp-sink"
SINK_ADDRESS = "127.0.1.1"
DOMAIN = "bulk.sim"
SENDER = "loadtest@hikyaku-load.test"   # runner/postfix.py discards bounces to this domain
RECIPIENT = f"user@{DOMAIN}"
SESSIONS, SIZE = 20, 1024               # issue 16: 20 sessions, 1 KiB
# key -> (label, extra smtp-source flags)
PROFILES = {
    "per-connection": ("one connection per message", []),
    "reuse": ("connection reuse (smtp-source -d)", ["-d"]),
}
MESG = re.compile(rb"mesg=(\d+)")


def available() -> str | None:
    """None when both tools are there, else what is missing."""
    for tool in (SMTP_SOURCE, SMTP_SINK):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing (Debian's postfix package; scripts/install-deps.sh --bench)"
    return None


class Usage:
    """CPU seconds and context switches of ``root`` (with ``tree``: and of every descendant),
    polled from /proc. ``totals()`` is cumulative over each process's life, so a run is the
    difference of two totals."""

    def __init__(self, root: int, tree: bool = False):
        self.root, self.tree = root, tree
        self.root_cpu = 0.0
        self.root_ctx = 0
        self.live_cpu: dict[tuple[int, int], float] = {}
        self.last_ctx: dict[tuple[int, int], int] = {}   # every descendant ever seen -> its last count

    @staticmethod
    def _stat(pid: int) -> tuple[int, int, float, float] | None:
        """(ppid, start time, own CPU s, CPU s of reaped children)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                data = f.read()
        except OSError:
            return None
        fields = data[data.rfind(b")") + 2:].split()
        own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        children = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
        return int(fields[1]), int(fields[19]), own, children

    def sample(self):
        stat = self._stat(self.root)
        if stat is None:
            return
        self.root_cpu = stat[2] + stat[3]
        self.root_ctx = context_switches(self.root) or self.root_ctx
        if not self.tree:
            return
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (s := self._stat(int(entry))):
                stats[int(entry)] = s
        live = {}
        for pid, (ppid, start, own, _) in stats.items():
            p, depth = ppid, 0
            while p != self.root and p in stats and depth < 10:
                p, depth = stats[p][0], depth + 1
            if p == self.root and pid != self.root:
                live[(pid, start)] = own
                ctx = context_switches(pid)
                if ctx is not None:
                    self.last_ctx[(pid, start)] = ctx
        self.live_cpu = live

    def totals(self) -> tuple[float, int]:
        self.sample()
        return self.root_cpu + sum(self.live_cpu.values()), self.root_ctx + sum(self.last_ctx.values())


class UsageSum:
    """The sum of several processes' ``Usage`` (the relay's roles run apart)."""
    tree = False

    def __init__(self, parts: list[Usage]):
        self.parts = parts

    def totals(self) -> tuple[float, int]:
        totals = [part.totals() for part in self.parts]
        return sum(t[0] for t in totals), sum(t[1] for t in totals)


class Sink:
    """`smtp-sink -c` on SINK_ADDRESS:port; its running counters go to a file."""

    def __init__(self, out: Path):
        self.port = free_port((SINK_ADDRESS,))
        self.counters = out / "smtp-sink.counters"
        user = ["-u", "postfix"] if os.geteuid() == 0 else []
        self.process = ManagedProcess("smtp-sink", [SMTP_SINK, *user, "-c", f"{SINK_ADDRESS}:{self.port}", "256"],
                                      out / "smtp-sink.log", stdout_path=self.counters, role="sink")

    def start(self) -> "Sink":
        self.process.start()
        wait_for(lambda: port_accepts(self.port, SINK_ADDRESS), timeout=20, interval=0.05, what="smtp-sink",
                 alive=self.process.alive)
        return self

    def messages(self) -> int:
        """The last `mesg=` counter the sink printed (it rewrites the line per event)."""
        try:
            with open(self.counters, "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 256))
                found = MESG.findall(f.read())
        except OSError:
            return 0
        return int(found[-1]) if found else 0

    def stop(self):
        self.process.stop(timeout=5)
        self.counters.unlink(missing_ok=True)  # ~100 bytes per message, nothing to keep


class DirectToSink:
    """No relay: smtp-source straight into the sink, the ceiling of client and sink together."""
    label = "smtp-source → smtp-sink directly"

    def __init__(self, sink_port: int):
        self.host, self.port = SINK_ADDRESS, sink_port

    def start(self) -> int:
        return self.port

    def usage(self) -> dict[str, Usage]:
        return {}

    def pending(self) -> int:
        return 0

    def describe(self) -> dict:
        return {"relay": None}

    def stop(self):
        pass


class HikyakuUnderTest:
    label = "Hikyaku"
    host = "127.0.0.1"

    # With split_roles: the roles of `--role all` that the profiles use, one process each.
    SPLIT_ROLES = ("ingest", "worker", "webhooks", "campaigns")

    def __init__(self, hikyaku: str, scenario, out: Path, sink_port: int, split_roles: bool = False):
        self.out = out
        self.redis_server = RedisServer(out / "redis", log_path=out / "redis.log")
        self.port = free_port()
        relay = scenario.data.get("relay", {})
        base = {
            "hostname": "relay.loadtest", "log_level": "notice",
            "redis": {"url": self.redis_server.url},
            "ingest": {"listeners": [{"name": "relay", "address": f"127.0.0.1:{self.port}", "mode": "relay"}],
                       "relay_networks": ["127.0.0.0/8"]},
            "delivery": {"routes": {DOMAIN: f"{SINK_ADDRESS}:{sink_port}"}, "allowed_mx_networks": ["127.0.0.0/8"]},
        }
        if relay.get("egress"):
            base["delivery"]["egress"] = relay["egress"]
        # The scenario's relay settings (concurrency, shaping), never its listener, Redis or routes.
        config = deep_merge(deep_merge(base, relay.get("config", {})), {"redis": base["redis"], "ingest": base["ingest"]})
        config["delivery"]["routes"] = base["delivery"]["routes"]
        self.config = config
        self.split_roles = split_roles
        if split_roles:
            self.relay = Relay(hikyaku, "ingest", config, out / "hikyaku.yaml", "ingest", out / "hikyaku-ingest.log")
            self.others = [Relay(hikyaku, role, config, out / "hikyaku.yaml", role, out / f"hikyaku-{role}.log")
                           for role in self.SPLIT_ROLES[1:]]
        else:
            self.relay = Relay(hikyaku, "relay", config, out / "hikyaku.yaml", "all", out / "hikyaku.log")
            self.others = []
        check_config(hikyaku, self.relay.config_path)
        self.redis: Redis | None = None

    def start(self) -> int:
        self.redis_server.start()
        self.redis = Redis(self.redis_server.port)
        self.relay.start()
        for other in self.others:
            other.start()
        return self.port

    def usage(self) -> dict[str, Usage | UsageSum]:
        """`relay` is every relay process together; split, each role is also apart."""
        redis = Usage(self.redis_server.process.pid)
        if not self.split_roles:
            return {"relay": Usage(self.relay.pid), "redis": redis}
        roles = {role: Usage(process.pid) for role, process in zip(self.SPLIT_ROLES, [self.relay, *self.others])}
        return {"relay": UsageSum(list(roles.values())), **roles, "redis": redis}

    def pending(self) -> int:
        return self.redis.get_int("hk:depth:default") or 0

    def describe(self) -> dict:
        processes = (", ".join(f"hikyaku serve --role {role}" for role in self.SPLIT_ROLES) if self.split_roles
                     else "hikyaku serve --role all")
        return {"config": self.config, "durability": "Redis AOF, appendfsync always", "processes": processes}

    def stop(self):
        for other in self.others:
            other.stop(timeout=45)
        self.relay.stop(timeout=45)
        if self.redis:
            self.redis.close()
        self.redis_server.stop(timeout=30)
        shutil.rmtree(self.out / "redis", ignore_errors=True)


class PostfixUnderTest:
    label = "Postfix"
    host = "127.0.0.1"

    def __init__(self, scenario, out: Path, sink_port: int):
        stub = SimpleNamespace(domain_addresses=lambda: {DOMAIN: [SINK_ADDRESS]},
                               simulator={"sites": [{"addresses": [SINK_ADDRESS]}]})
        main_cf = scenario.peer.get("postfix", {}).get("main_cf", {})
        self.system = postfix.PostfixSystem(stub, out, sink_port, main_cf)

    def start(self) -> int:
        return self.system.start()[1]

    def usage(self) -> dict[str, Usage]:
        return {"relay": Usage(self.system.master_pid, tree=True)}

    def pending(self) -> int:
        return self.system.pending() or 0

    def describe(self) -> dict:
        return self.system.describe()

    def stop(self):
        self.system.stop_relay()
        self.system.stop_rest()


def timed_run(system, relay_port: int, sink: Sink, usage: dict[str, Usage], messages: int, flags: list[str],
              log: Path, timeout: float) -> dict:
    """One run: from launching smtp-source until the sink has `messages` more; then waits for
    the relay's queue to be empty. msg/s = messages / that time."""
    wait_for(lambda: system.pending() == 0, timeout=120, interval=0.1, what=f"{system.label}'s queue to be empty")
    start_count = sink.messages()
    before = {name: u.totals() for name, u in usage.items()}
    argv = [SMTP_SOURCE, *flags, "-s", str(SESSIONS), "-l", str(SIZE), "-m", str(messages), "-f", SENDER,
            "-t", RECIPIENT, f"{system.host}:{relay_port}"]
    stop_polling = threading.Event()
    tree_usages = [u for u in usage.values() if u.tree]

    def poll_trees():  # descendants that exit between polls lose only their last 0.25 s of switches
        while not stop_polling.wait(0.25):
            for u in tree_usages:
                u.sample()

    poller = threading.Thread(target=poll_trees, daemon=True)
    poller.start()
    with open(log, "ab") as out:
        started = time.monotonic()
        source = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        source_seconds = delivered_at = None
        received = 0
        try:
            while time.monotonic() - started < timeout:
                received = sink.messages() - start_count
                if source_seconds is None and source.poll() is not None:
                    source_seconds = time.monotonic() - started
                    if source.returncode != 0:
                        raise RuntimeError(f"smtp-source exited with {source.returncode} (see {log})")
                if received >= messages:
                    delivered_at = time.monotonic() - started
                    break
                time.sleep(0.01)
        finally:
            stop_polling.set()
            poller.join()
            if delivered_at is None and source.poll() is None:
                source.kill()  # timed out or interrupted: no smtp-source left behind
        after = {name: u.totals() for name, u in usage.items()}
        if source.wait(timeout=60) != 0:
            raise RuntimeError(f"smtp-source exited with {source.returncode} (see {log})")
        if source_seconds is None:
            source_seconds = time.monotonic() - started
    if delivered_at is None:
        raise RuntimeError(f"only {received} of {messages} messages reached smtp-sink in {timeout:.0f} s")
    wait_for(lambda: system.pending() == 0, timeout=120, interval=0.1, what=f"{system.label}'s queue to drain")
    result = {"messages": messages, "seconds": round(delivered_at, 3),
              "messages_per_second": round(messages / delivered_at, 1),
              "smtp_source_seconds": round(source_seconds, 3),
              "accepted_per_second": round(messages / source_seconds, 1),
              "argv": argv}
    for name in usage:
        cpu = after[name][0] - before[name][0]
        ctx = after[name][1] - before[name][1]
        result[name] = {"cpu_seconds": round(cpu, 3), "cpu_ms_per_message": round(cpu * 1000 / messages, 3),
                        "context_switches": ctx, "context_switches_per_message": round(ctx / messages, 2)}
    return result
