"""`hikyaku-cluster scale`: the same loads with 1, 2 and 3 worker hosts, each on a fresh
cluster (two ingest hosts, Redis primary + replica + Sentinels as always).

Two runs per worker count:
- "latency-bound": mail to slow.sim (100 ms per message at the MX, like a real remote
  server) plus the two rate-limited sites. What a worker host adds is concurrent SMTP
  transactions, so slow.sim's rate should grow with the hosts, perip.sim's with the egress
  IPs (2/s each), and limited.sim's must stay at its 5/s whatever the number of hosts.
- "flat-out": 1 KiB messages to bulk.sim (no latency) as fast as the generator gets them
  accepted: bound by the CPU of this machine, which every host shares.
"""

from __future__ import annotations

import json
import time

from hikyaku_testsupport.console import Console
from hikyaku_testsupport.machine import load_average, machine, now_text

from . import netns
from .accounting import summary_lines
from .cluster import REPO, Cluster, ClusterError, Settings
from .load import LoadRun, LoadSpec, write_result

RUNS = {
    "latency-bound": dict(messages=5400, rate=0, connections=16, per_connection=200,
                          mix={"slow.sim": 16, "limited.sim": 1, "perip.sim": 1}),
    "flat-out": dict(messages=20000, rate=0, connections=32, per_connection=500, mix={"bulk.sim": 1}),
}


def cpu_ms_per_message(result: dict) -> dict:
    delivered = result["throughput"]["delivered"] or 1
    groups: dict[str, float] = {}
    for name, usage in result["resources"]["by_process"].items():
        group = name.split("-")[0] if name.startswith(("ingest", "worker", "sentinel")) else name
        groups[group] = groups.get(group, 0.0) + usage.get("cpu_seconds", 0)
    return {k: round(v * 1000 / delivered, 3) for k, v in sorted(groups.items())}


def run_scale(bins: dict, args) -> int:
    counts = [int(x) for x in str(args.workers).split(",")]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = (args.out or REPO / "var" / "scale" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    console.say(f"scale: worker hosts {counts}; binaries {bins['hikyaku']}; output {out}")
    load_before = load_average()
    rows = []
    results = {}
    for workers in counts:
        settings = Settings(workers=workers, log_level="notice")
        for run_name, load in RUNS.items():
            spec = LoadSpec(**load)
            if args.messages:
                spec.messages = args.messages
            spec.run = f"{run_name.replace('-', '')}{workers}w{time.strftime('%H%M%S')}"
            key = f"{workers}-workers-{run_name}"
            directory = out / key
            cluster = Cluster(directory / "cluster", bins, settings,
                              say=lambda text, k=key: console.say(f"[{k}] {text}"))
            try:
                cluster.up()
                result = LoadRun(cluster, spec, directory, key, console).execute()
            except (ClusterError, netns.NetworkError, RuntimeError) as error:
                result = {"error": f"{type(error).__name__}: {error}", "checks": []}
            finally:
                cluster.down(quiet=True)
            write_result(result, directory)
            results[key] = result
            if "error" in result:
                console.say(f"[{key}] ERROR {result['error']}")
                rows.append({"workers": workers, "run": run_name, "error": result["error"]})
                continue
            for line in summary_lines(result):
                console.say(f"[{key}]{line}")
            by_site = result["cluster"]["limits"]
            arrivals_by_site = result["simulator"]["arrivals_by_site"]
            row = {
                "workers": workers, "egress_ips": 2 * workers, "run": run_name,
                "accepted_per_second": result["throughput"]["accepted_per_second"],
                "delivered_per_second_end_to_end": result["throughput"]["delivered_per_second"],
                "missing": result["loss"]["missing"], "duplicates": result["loss"]["duplicates"],
                "limit_violations": result["simulator"]["limit_violations"],
                "arrivals_by_site": arrivals_by_site,
                "site_rates_per_second": result["cluster"].get("site_rates"),
                "limited_max_in_10s": by_site["limited"]["max_in_any_10s"],
                "limited_mean_per_second": by_site["limited"]["mean_rate_per_second"],
                "perip_max_in_10s_one_ip": by_site["perip"]["max_in_any_10s_from_one_ip"],
                "cpu_ms_per_message": cpu_ms_per_message(result),
                "machine_busy_fraction": round(result["machine_during_run"]["busy_cpu_seconds"] /
                                               max(result["machine_during_run"]["cpu_capacity_seconds"], 0.1), 2),
                "checks_ok": all(c["ok"] for c in result["checks"]),
            }
            rows.append(row)
    text = scale_table(rows)
    report = {"finished_at": now_text(), "binaries": bins,
              "machine": machine() | {"load_average_before": load_before, "load_average_after": load_average()},
              "runs": RUNS, "rows": rows}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=sorted) + "\n")
    (out / "summary.txt").write_text(f"Hikyaku cluster scaling — {now_text()}\n\n{text}\n")
    console.say("")
    console.say(text)
    console.say(f"report: {out / 'report.json'}")
    return 0 if all(r.get("checks_ok") for r in rows) else 3


def scale_table(rows: list[dict]) -> str:
    lines = ["latency-bound (slow.sim 100 ms/message + rate-limited sites), generator flat out:",
             f"{'hosts':>5} {'IPs':>4} {'slow.sim/s':>10} {'perip/s':>8} {'perip max/10s/IP':>17} "
             f"{'limited/s':>9} {'limited max/10s':>15} {'violations':>10} {'missing':>7} {'dups':>5}"]
    for r in rows:
        if r["run"] != "latency-bound" or "error" in r:
            continue
        rates = r.get("site_rates_per_second") or {}
        lines.append(f"{r['workers']:>5} {r['egress_ips']:>4} {rates.get('slow', '-'):>10} {rates.get('perip', '-'):>8} "
                     f"{r['perip_max_in_10s_one_ip']:>17} {r['limited_mean_per_second']:>9} "
                     f"{r['limited_max_in_10s']:>15} {r['limit_violations']:>10} {r['missing']:>7} {r['duplicates']:>5}")
    lines.append("")
    lines.append("flat-out (bulk.sim, 1 KiB, no latency), generator flat out:")
    lines.append(f"{'hosts':>5} {'accepted/s':>10} {'delivered/s e2e':>15} {'machine busy':>12} {'missing':>7}  "
                 "CPU ms per message by process")
    for r in rows:
        if r["run"] != "flat-out" or "error" in r:
            continue
        lines.append(f"{r['workers']:>5} {r['accepted_per_second']:>10} {r['delivered_per_second_end_to_end']:>15} "
                     f"{r['machine_busy_fraction']:>12} {r['missing']:>7}  {r['cpu_ms_per_message']}")
    return "\n".join(lines)
