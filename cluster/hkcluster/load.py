"""Driving load through the cluster: `hikyaku-load` on the client host against both ingest
hosts, followed until every accepted message is accounted for, with faults fired from a
thread on their own timeline, then loss accounting (accounting.py)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hikyaku_testsupport.console import Console
from hikyaku_testsupport.events import FINAL_FAILURES, decode_stream_events
from hikyaku_testsupport.machine import load_average, machine, now_text
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.procfs import machine_cpu_seconds, read_proc_stat
from hikyaku_testsupport.records import GeneratorOutput, SimRecords, read_generator_records
from hikyaku_testsupport.resp import RedisError, StreamReader
from hikyaku_testsupport.waiting import wait_for

from . import netns
from .accounting import account, standard_checks, summary_lines
from .topology import Topology

POLL_SECONDS = 0.5
DEFAULT_MIX = {"bulk.sim": 8, "bulk2.sim": 2, "slow.sim": 4, "limited.sim": 2, "perip.sim": 3}


@dataclass
class LoadSpec:
    messages: int = 4000
    rate: float = 100
    connections: int = 16
    per_connection: int = 200
    size: int = 1024
    users: int = 1000
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))
    run: str = ""
    timeout: float = 600
    settle: float = 20

    def mix_argument(self) -> str:
        return ",".join(f"{d}={w}" for d, w in self.mix.items())

    @classmethod
    def from_args(cls, args) -> "LoadSpec":
        spec = cls()
        for key in ("messages", "rate", "connections", "per_connection", "size", "timeout"):
            value = getattr(args, key, None)
            if value is not None:
                setattr(spec, key, value)
        if getattr(args, "mix", None):
            spec.mix = {}
            for part in args.mix.split(","):
                domain, _, weight = part.partition("=")
                spec.mix[domain.strip()] = int(weight or 1)
        return spec


def add_load_arguments(parser):
    parser.add_argument("--messages", type=int, help="messages in total (default 4000)")
    parser.add_argument("--rate", type=float, help="messages/s, 0 = flat out (default 100)")
    parser.add_argument("--connections", type=int, help="parallel SMTP sessions (default 16)")
    parser.add_argument("--per-connection", type=int, help="messages per session (default 200)")
    parser.add_argument("--size", type=int, help="message size in octets (default 1024)")
    parser.add_argument("--mix", help="domain=weight,… of bulk.sim, bulk2.sim, slow.sim, limited.sim, perip.sim "
                                      f"(default {','.join(f'{d}={w}' for d, w in DEFAULT_MIX.items())})")
    parser.add_argument("--timeout", type=float, help="give up after this many seconds (default 600)")
    parser.add_argument("--out", type=Path, help="results directory (default var/cluster/runs/<run>/)")


class FaultThread(threading.Thread):
    """Runs a fault's script (a function of a FaultContext) next to the load."""

    def __init__(self, script, context):
        super().__init__(daemon=True, name="fault")
        self.script = script
        self.context = context
        self.error: str | None = None

    def run(self):
        try:
            self.script(self.context)
        except Exception as error:  # noqa: BLE001 -- reported as a failed check
            self.error = f"{type(error).__name__}: {error}"
            self.context.note(f"fault script failed: {self.error}\n{traceback.format_exc()}")


class FaultContext:
    """What a fault script gets: the cluster, the clock of the run, a log."""

    def __init__(self, cluster, run: "LoadRun"):
        self.cluster = cluster
        self.run = run
        self.t0 = time.monotonic()
        self.log: list[dict] = []
        self.facts: dict = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def sleep_until(self, at_seconds: float):
        delay = at_seconds - self.elapsed()
        if delay > 0:
            time.sleep(delay)

    def note(self, text: str, **facts):
        entry = {"at_seconds": round(self.elapsed(), 2), "what": text, **facts}
        self.log.append(entry)
        self.run.console.say(f"[{self.run.label}] {entry['at_seconds']:6.1f}s  {text}")

    def wait_for(self, predicate, timeout: float, what: str, interval: float = 0.2):
        return wait_for(predicate, timeout=timeout, interval=interval, what=what)


class LoadRun:
    def __init__(self, cluster, spec: LoadSpec, out: Path, label: str, console: Console | None = None):
        self.cluster = cluster
        self.spec = spec
        self.out = Path(out)
        self.label = label
        self.console = console or Console()
        self.run_name = spec.run or f"run{time.strftime('%H%M%S')}"
        self.finals: dict[str, str] = {}
        self.deferred: set[str] = set()
        self.event_counts: dict[str, int] = {}

    # ------------------------------------------------------------------ running

    def _cpu_snapshot(self) -> dict[str, float]:
        snapshot = {}
        for name in self.cluster.processes:
            pid = self.cluster.pid(name)
            stat = read_proc_stat(pid) if pid else None
            if stat:
                snapshot[name] = stat["utime"] + stat["stime"]
        return snapshot

    def execute(self, fault_script=None) -> dict:
        """Runs the load (and the fault), waits until everything is accounted for, and
        returns the analysed result (also written to out/result.json)."""
        out = self.out
        out.mkdir(parents=True, exist_ok=True)
        cluster = self.cluster
        spec = self.spec
        sim_path = cluster.sim_records
        offset = sim_path.stat().st_size if sim_path.exists() else 0
        started_wall = time.time()
        self.records = SimRecords(sim_path, offset=offset, since_us=int(started_wall * 1e6), marker=f".{self.run_name}@")
        self.redis = cluster.primary_redis()
        self.events = StreamReader(self.redis, cluster.key("events"))
        try:
            last = self.redis.call("XREVRANGE", self.cluster.key("events"), "+", "-", "COUNT", 1)
            if last:
                self.events.last_id = last[0][0]
        except (OSError, EOFError, RedisError):
            pass
        gen_record = out / "generator-records.jsonl"
        for path in (gen_record, out / "hikyaku-load.out"):
            if path.exists():
                path.unlink()
        servers = ",".join(Topology().ingest_servers())
        argv = [*(["stdbuf", "-oL"] if shutil.which("stdbuf") else []), cluster.bins["hikyaku-load"],
                "--server", servers, "--connections", spec.connections, "--messages", spec.messages,
                "--size", spec.size, "--rate", spec.rate, "--per-connection", spec.per_connection,
                "--mix", spec.mix_argument(), "--users", spec.users, "--run", self.run_name,
                "--record", gen_record, "--progress"]
        generator = ManagedProcess("hikyaku-load", netns.exec_argv("hk-client", argv), out / "hikyaku-load.log",
                          stdout_path=out / "hikyaku-load.out", role="generator")
        self.generator = generator
        gen_out = GeneratorOutput(out / "hikyaku-load.out")
        cpu_before = self._cpu_snapshot()
        machine_before = (machine_cpu_seconds(), os.getloadavg(), time.monotonic())
        self.console.say(f"[{self.label}] hikyaku-load on hk-client → {servers}: {spec.messages} messages "
                         f"at {spec.rate or 'full speed'}/s, mix {spec.mix_argument()}; output {out}")
        generator.start()
        context = FaultContext(cluster, self)
        fault = FaultThread(fault_script, context) if fault_script else None
        if fault:
            fault.start()
        self.context = context
        end = self._follow(generator, gen_out, gen_record, fault, context)
        if generator.alive():
            generator.stop(10)
        if fault and fault.is_alive():
            self.console.say(f"[{self.label}] waiting for the fault script to finish")
            fault.join(120)
        self._poll_events()
        self.records.update()
        gen_out.update()
        cpu_after = self._cpu_snapshot()
        machine_after = (machine_cpu_seconds(), os.getloadavg(), time.monotonic())
        self.redis.close()

        processes = {name: {"cpu_seconds": round(cpu_after.get(name, 0) - cpu_before.get(name, 0), 3)}
                     for name in cluster.processes if name in cpu_after and name in cpu_before}
        processes["hikyaku-load"] = generator.usage()
        (busy0, _), load0, m0 = machine_before
        (busy1, _), load1, m1 = machine_after
        raw = {
            "label": self.label,
            "started_at": started_wall,
            "generator": {"records": read_generator_records(gen_record), "summary": gen_out.summary,
                          "argv": generator.argv, "exit_code": generator.exit_code, "started_wall": started_wall},
            "sim": {"arrivals": self.records.arrivals, "refusals": self.records.refusals,
                    "bad_lines": self.records.bad_lines, "probe_arrivals": self.records.probe_arrivals},
            "finals": self.finals,
            "deferred": self.deferred,
            "processes": processes,
            "machine_during_run": {"wall_seconds": round(m1 - m0, 2), "busy_cpu_seconds": round(busy1 - busy0, 1),
                                   "cpu_capacity_seconds": round((m1 - m0) * (os.cpu_count() or 1), 1),
                                   "load_average_at_start": [round(x, 2) for x in load0],
                                   "load_average_at_end": [round(x, 2) for x in load1]},
            "faults": context.log,
            "teardown_problems": [],
            "end": end,
            "system": {"name": "hikyaku-cluster", "label": "Hikyaku cluster",
                       "describe": {"settings": asdict(cluster.settings), "workers": cluster.settings.workers,
                                    "load": asdict(spec), "run": self.run_name},
                       "extra": {"events": dict(sorted(self.event_counts.items()))}},
        }
        result = account(raw, spec.messages, cluster.settings.workers)
        result["fault_log"] = context.log
        result["fault_facts"] = context.facts
        result["fault_error"] = fault.error if fault else None
        result["checks"] = standard_checks(result)
        if fault and fault.error:
            result["checks"].append({"check": "fault script ran to the end", "ok": False, "detail": fault.error})
        result["finished_at"] = now_text()
        return result

    def _poll_events(self):
        try:
            entries = self.events.read_new()
        except (OSError, EOFError, RedisError):
            self.redis.close()
            return
        for event in decode_stream_events(entries):
            kind = event.get("event", "?")
            self.event_counts[kind] = self.event_counts.get(kind, 0) + 1
            if kind in FINAL_FAILURES:
                self.finals[event.get("queue_id")] = kind
            elif kind == "deferred":
                self.deferred.add(event.get("queue_id"))

    def _pending(self) -> int | None:
        try:
            return int(self.redis.call("GET", self.cluster.key("depth:default")) or 0)
        except (OSError, EOFError, RedisError, ValueError):
            self.redis.close()
            return None

    def _follow(self, generator, gen_out, gen_record, fault, context) -> dict:
        spec = self.spec
        arrived: dict[int, int] = {}
        processed = 0
        outstanding: set[int] | None = None
        qid_to_seq: dict[str, int] = {}
        accounted_since = None
        lost_since = None
        last_delivered, last_time, rate_now = 0, time.monotonic(), 0.0
        t0 = time.monotonic()
        line = ""
        while True:
            time.sleep(POLL_SECONDS)
            now = time.monotonic()
            elapsed = now - t0
            generator.sample()
            gen_out.update()
            self.records.update()
            self._poll_events()
            for seq, *_ in self.records.arrivals[processed:]:
                if seq is not None:
                    arrived[seq] = arrived.get(seq, 0) + 1
                    if outstanding is not None:
                        outstanding.discard(seq)
            processed = len(self.records.arrivals)
            if outstanding is not None:
                for queue_id in list(self.finals):
                    if queue_id in qid_to_seq:
                        outstanding.discard(qid_to_seq[queue_id])
            pending = self._pending()
            if not generator.alive() and outstanding is None:
                gen_out.update()
                accepted = [r for r in read_generator_records(gen_record) if r.get("code") == 250]
                qid_to_seq = {r["queue_id"]: r["seq"] for r in accepted if r.get("queue_id")}
                failed = {qid_to_seq[q] for q in self.finals if q in qid_to_seq}
                outstanding = {r["seq"] for r in accepted} - set(arrived) - failed
                self.console.say(f"[{self.label}] generator finished after {elapsed:.1f}s: {len(accepted)} of "
                                 f"{spec.messages} accepted; waiting for {len(outstanding)} to be accounted for")
                if not accepted:
                    return {"reason": "the generator got no message accepted", "elapsed_seconds": round(elapsed, 1)}
            delivered = len(self.records.arrivals)
            if now - last_time >= 1.0:
                rate_now = (delivered - last_delivered) / (now - last_time)
                last_delivered, last_time = delivered, now
            line = (f"[{self.label}] {elapsed:6.1f}s  accepted {gen_out.accepted}/{spec.messages}  delivered {delivered}"
                    f"  rate {rate_now:6.1f}/s  queue {pending if pending is not None else '?'}")
            if outstanding is not None:
                line += f"  outstanding {len(outstanding)}"
            self.console.progress(line)
            fault_running = fault is not None and fault.is_alive()
            if outstanding is not None and not outstanding and not fault_running:
                if pending == 0:
                    return self._end("every accepted message accounted for; queue empty", t0, pending, outstanding)
                accounted_since = accounted_since or now
                if now - accounted_since >= spec.settle:
                    return self._end(f"every accepted message accounted for; queue still reports {pending} "
                                     f"after {spec.settle:.0f}s", t0, pending, outstanding)
            # Nothing left in Redis (depth 0) while accepted messages have not arrived: they
            # are gone. Wait `settle` seconds for stragglers on the wire, then say so.
            if outstanding and pending == 0 and not fault_running:
                lost_since = lost_since or now
                if now - lost_since >= spec.settle:
                    return self._end(f"queue empty but {len(outstanding)} accepted message(s) never arrived",
                                     t0, pending, outstanding)
            else:
                lost_since = None
            if elapsed >= spec.timeout:
                return self._end(f"timeout after {spec.timeout:.0f}s", t0, pending, outstanding)

    def _end(self, reason: str, t0: float, pending, outstanding) -> dict:
        self.console.say(f"[{self.label}] done: {reason}")
        return {"reason": reason, "elapsed_seconds": round(time.monotonic() - t0, 2), "queue_at_end": pending,
                "outstanding_at_end": len(outstanding) if outstanding is not None else None}


def write_result(result: dict, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=2, default=sorted) + "\n")


def run_load_command(cluster, spec: LoadSpec, args) -> int:
    """`hikyaku-cluster run-load`: against the cluster that `up` left running."""
    spec.run = spec.run or f"load{time.strftime('%H%M%S')}"
    out = args.out or cluster.dir / "runs" / spec.run
    run = LoadRun(cluster, spec, out, "run-load")
    result = run.execute()
    result["machine"] = machine() | {"load_average_after": load_average()}
    write_result(result, Path(out))
    print("\n".join(summary_lines(result)))
    failed = [c for c in result["checks"] if not c["ok"]]
    for check in result["checks"]:
        print(f"  [{'ok' if check['ok'] else 'FAILED'}] {check['check']}: {check['detail']}")
    print(f"  result: {Path(out) / 'result.json'}")
    return 3 if failed else 0
