"""`hikyaku-cluster measure`: the inputs of the capacity model (cluster/README.md), taken
apart on a real cluster: what accepting a message costs Redis (one hk_enqueue) and what
delivering it costs (hk_next / hk_claim / hk_complete shares), in Redis CPU and FCALL
time; the ingest and worker CPU per message; and the memory a queued message takes.

1. Workers stopped; N × 1 KiB and N/4 × 10 KiB messages are accepted: they stay queued,
   so the memory they take is visible and only ingest work is measured.
2. Workers started: the queue drains to the simulator; only delivery work is measured.
Redis counters are reset (CONFIG RESETSTAT) before each phase.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from hikyaku_testsupport.machine import load_average, machine, now_text
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.procfs import read_proc_stat
from hikyaku_testsupport.records import SimRecords, read_generator_records

from . import netns
from .cluster import REPO, Cluster, ClusterError, Settings
from .topology import Topology


def redis_snapshot(client) -> dict:
    cpu = client.info("cpu")
    memory = client.info("memory")
    stats = client.info("commandstats")
    commands = {}
    for key, value in stats.items():
        if key.startswith("cmdstat_"):
            fields = dict(part.split("=", 1) for part in value.split(","))
            commands[key.removeprefix("cmdstat_")] = {"calls": int(fields["calls"]), "usec": int(fields["usec"])}
    return {"cpu": float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
            "used_memory": int(memory["used_memory"]), "commands": commands}


def process_cpu(cluster: Cluster, names: list[str]) -> float:
    total = 0.0
    for name in names:
        pid = cluster.pid(name)
        stat = read_proc_stat(pid) if pid else None
        if stat:
            total += stat["utime"] + stat["stime"]
    return total


def generate(cluster: Cluster, out: Path, run: str, messages: int, size: int) -> int:
    record = out / f"generator-{run}.jsonl"
    argv = [*(["stdbuf", "-oL"] if shutil.which("stdbuf") else []), cluster.bins["hikyaku-load"],
            "--server", ",".join(Topology().ingest_servers()), "--connections", 32, "--messages", messages,
            "--size", size, "--rate", 0, "--per-connection", 500, "--mix", "bulk.sim=1", "--run", run,
            "--record", record]
    child = ManagedProcess("hikyaku-load", netns.exec_argv("hk-client", argv), out / f"hikyaku-load-{run}.log")
    child.start()
    child.wait()
    return sum(1 for r in read_generator_records(record) if r.get("code") == 250)


def run_measure(bins: dict, args) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = (args.out or REPO / "var" / "measure" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    say = print
    cluster = Cluster(out / "cluster", bins, Settings(workers=3, log_level="notice"), say=say)
    n_small = args.messages
    n_big = max(1, args.messages // 4)
    report: dict = {"finished_at": None, "binaries": bins, "machine": machine() | {"load_average_before": load_average()}}
    try:
        cluster.up()
        for name in cluster.names("worker"):
            cluster.stop(name, timeout=40)
        primary = cluster.node_redis(cluster.host("hk-redis-a"))
        replica = cluster.node_redis(cluster.host("hk-redis-b"))
        ingest = cluster.names("ingest")
        phases = {}
        sim_offset = cluster.sim_records.stat().st_size if cluster.sim_records.exists() else 0
        accepted_total = 0
        for label, run, count, size in (("enqueue 1 KiB", f"m1k{stamp[-6:]}", n_small, 1024),
                                        ("enqueue 10 KiB", f"m10k{stamp[-6:]}", n_big, 10240)):
            for client in (primary, replica):
                client.call("CONFIG", "RESETSTAT")
            before, replica_before = redis_snapshot(primary), redis_snapshot(replica)
            cpu_before = process_cpu(cluster, ingest)
            started = time.monotonic()
            accepted = generate(cluster, out, run, count, size)
            seconds = time.monotonic() - started
            after, replica_after = redis_snapshot(primary), redis_snapshot(replica)
            accepted_total += accepted
            phases[label] = phase_figures(before, after, replica_before, replica_after, accepted,
                                          process_cpu(cluster, ingest) - cpu_before, seconds, "ingest")
            phases[label]["memory_bytes_per_queued_message"] = round((after["used_memory"] - before["used_memory"]) /
                                                                     max(accepted, 1))
            say(f"{label}: {json.dumps(phases[label])}")
        depth = int(primary.call("GET", "hk:depth:default") or 0)
        samples = {}
        for pattern in ("hk:msg:*", "hk:body:*", "hk:q:*"):
            _, keys = primary.call("SCAN", 0, "MATCH", pattern, "COUNT", 1000)
            if keys:
                samples[pattern] = primary.call("MEMORY", "USAGE", keys[0], "SAMPLES", 0)
        samples["hk:events"] = primary.call("MEMORY", "USAGE", "hk:events", "SAMPLES", 0)
        samples["hk:events entries"] = primary.call("XLEN", "hk:events")
        phases["queued"] = {"depth": depth, "memory_usage_samples": samples}
        say(f"queued: {json.dumps(phases['queued'])}")

        for client in (primary, replica):
            client.call("CONFIG", "RESETSTAT")
        before, replica_before = redis_snapshot(primary), redis_snapshot(replica)
        workers = cluster.names("worker")
        for name in workers:
            cluster.start(name)
        cpu_before = process_cpu(cluster, workers)
        started = time.monotonic()
        records = SimRecords(cluster.sim_records, offset=sim_offset, marker="@hikyaku-load")
        while True:
            time.sleep(0.5)
            records.update()
            if int(primary.call("GET", "hk:depth:default") or 0) == 0 and len(records.arrivals) >= accepted_total:
                break
            if time.monotonic() - started > 900:
                raise ClusterError("the queue did not drain in 15 minutes")
        seconds = time.monotonic() - started
        after, replica_after = redis_snapshot(primary), redis_snapshot(replica)
        phases["deliver"] = phase_figures(before, after, replica_before, replica_after, len(records.arrivals),
                                          process_cpu(cluster, workers) - cpu_before, seconds, "workers")
        phases["deliver"]["memory_after_drain_bytes"] = after["used_memory"]
        say(f"deliver: {json.dumps(phases['deliver'])}")
        primary.close()
        replica.close()
        report["phases"] = phases
    finally:
        cluster.down(quiet=True)
    report["finished_at"] = now_text()
    report["machine"]["load_average_after"] = load_average()
    small, big = report["phases"]["enqueue 1 KiB"], report["phases"]["enqueue 10 KiB"]
    per_byte = (big["memory_bytes_per_queued_message"] - small["memory_bytes_per_queued_message"]) / (10240 - 1024)
    report["memory_model"] = {"bytes_per_body_byte": round(per_byte, 3),
                              "overhead_bytes_per_message": round(small["memory_bytes_per_queued_message"] - per_byte * 1024)}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    say(f"memory per queued message ≈ {report['memory_model']['overhead_bytes_per_message']} B + "
        f"{report['memory_model']['bytes_per_body_byte']} × body size")
    say(f"report: {out / 'report.json'}")
    return 0


def phase_figures(before, after, replica_before, replica_after, messages, relay_cpu, seconds, who) -> dict:
    messages = max(messages, 1)
    commands = {}
    for name, stats in after["commands"].items():
        calls = stats["calls"] - before["commands"].get(name, {}).get("calls", 0)
        usec = stats["usec"] - before["commands"].get(name, {}).get("usec", 0)
        if calls:
            commands[name] = {"calls_per_message": round(calls / messages, 3), "usec_per_call": round(usec / calls, 1)}
    return {
        "messages": messages,
        "seconds": round(seconds, 2),
        "messages_per_second": round(messages / seconds, 1),
        "redis_cpu_us_per_message": round((after["cpu"] - before["cpu"]) * 1e6 / messages, 1),
        "replica_cpu_us_per_message": round((replica_after["cpu"] - replica_before["cpu"]) * 1e6 / messages, 1),
        f"{who}_cpu_us_per_message": round(relay_cpu * 1e6 / messages, 1),
        "fcall_usec_per_message": round(sum((after["commands"].get(c, {}).get("usec", 0) -
                                             before["commands"].get(c, {}).get("usec", 0))
                                            for c in ("fcall",)) / messages, 1),
        "commands": dict(sorted(commands.items(), key=lambda kv: -kv[1]["calls_per_message"])[:15]),
    }
