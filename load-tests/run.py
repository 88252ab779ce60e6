#!/usr/bin/env python3
"""Hikyaku load-test runner.

    python3 load-tests/run.py SCENARIO.json [--out DIR] [--smoke] [--peer postfix] [--bin-dir DIR]

Starts on loopback, each as a child process with its log under --out: a private
redis-server (AOF, appendfsync always), dnsmasq with the simulator's DNS records,
`hikyaku-sim serve`, the relay (`hikyaku serve`, one `--role all` process or separate
ingest and worker processes, configured from the scenario) and `hikyaku-load --record`.
Shows a live progress line, waits until every accepted message is accounted for (arrived
at the simulator, or bounced/expired in the relay's events) or the timeout, injects the
scenario's faults, stops everything, and writes report.json, summary.txt and chart.svg.

With --api the same load then runs through the relay's HTTP API (a fresh relay with
`api.plain_listen`, an account and an API key), once with one message per request and
once with --api-batch messages per batch request, and the summary sets the submissions/s
and recipients/s of SMTP and both API modes side by side.

With --peer postfix the same load runs a second time through Debian's Postfix, configured
as a relay to the same simulator, and both results are printed side by side. With
--half-peak both then run again at a fixed rate of half the end-to-end rate Hikyaku
reached, for latency below saturation, and --low-rate R runs Hikyaku at a fixed R msg/s
for its idle-path latency (make bench passes all three). With --smtp-source the
smtp-source profiles (smtp_source_bench.py: Postfix's smtp-source into smtp-sink through
both relays) run first and their table heads the summary.

Exit status: 0 when every check of the scenario holds (by default: no accepted message
missing), 3 when a check fails, 1 when the run could not be carried out, 2 for usage errors.
load-tests/README.md describes scenarios, the report and the Postfix comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

from hikyaku_testsupport import machine
from hikyaku_testsupport.analysis import LATENCY_METHOD, analyze
from hikyaku_testsupport.binaries import DEFAULT_BIN_DIRS, REPO, find_binaries
from hikyaku_testsupport.console import Console
from hikyaku_testsupport.processes import kill_leftovers
from hikyaku_testsupport.relay import deep_merge
from runner import chart, postfix, report
from runner.hikyaku import HikyakuSystem
from runner.postfix import PostfixSystem
from runner.runpass import Pass
from runner.scenario import Scenario, ScenarioError
from runner.smtpsource_passes import run_all as run_smtp_source, table_text as smtp_source_table
from smtp_source_bench import add_arguments as add_smtp_source_arguments, problems as smtp_source_problems

HERE = Path(__file__).resolve().parent


def resolve_scenario(text: str) -> Path | None:
    path = Path(text)
    if path.exists():
        return path
    for candidate in (HERE / "scenarios" / text, HERE / "scenarios" / f"{text}.json"):
        if candidate.exists():
            return candidate
    return None


def binary_info(bins: dict) -> dict:
    return {name: {"path": path, "built": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(path).st_mtime))}
            for name, path in bins.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Scenarios: " + ", ".join(sorted(p.stem for p in (HERE / "scenarios").glob("*.json"))))
    parser.add_argument("scenario", help="scenario file, or the name of one in load-tests/scenarios/")
    parser.add_argument("--out", help="output directory (default var/loadtest/<scenario>-<timestamp>/)")
    parser.add_argument("--smoke", action="store_true",
                        help="CI-sized: apply the scenario's \"smoke\" overrides, skip variant passes")
    parser.add_argument("--peer", choices=["postfix"], help="run the same load through Postfix too, side by side")
    parser.add_argument("--bin-dir", help="where hikyaku, hikyaku-load and hikyaku-sim are "
                                          f"(default: the first of {', '.join(DEFAULT_BIN_DIRS)} that has all three)")
    parser.add_argument("--messages", type=int, help="override load.messages")
    parser.add_argument("--rate", type=float, help="override load.rate (messages/s; 0 = flat out)")
    parser.add_argument("--timeout", type=float, help="override timeout_seconds (per pass)")
    parser.add_argument("--no-variants", action="store_true", help="skip the scenario's variant passes")
    parser.add_argument("--keep-data", action="store_true", help="keep Redis's AOF under --out after the run")
    parser.add_argument("--api", action="store_true",
                        help="also submit the same load through the relay's HTTP API: one pass with one message per "
                             "request (POST /v1/messages), one with --api-batch per request (POST /v1/messages/batch)")
    parser.add_argument("--api-batch", type=int, default=100, metavar="N",
                        help="personalizations per batch request with --api (default 100; 0 skips the batch pass)")
    parser.add_argument("--half-peak", action="store_true",
                        help="then run again at a fixed rate of half the end-to-end rate Hikyaku reached, "
                             "to measure latency below saturation (Postfix too with --peer); make bench does this")
    parser.add_argument("--low-rate", type=float, metavar="R",
                        help="then run Hikyaku at a fixed R msg/s for 20 s (at least 200 messages): latency when "
                             "idle (issue 16: p50 under 10 ms at 50/s); make bench passes 50")
    parser.add_argument("--smtp-source", action="store_true",
                        help="first run the smtp-source profiles (smtp_source_bench.py) for the relays in "
                             "--smtp-source-relays; their table heads the summary; make bench does this")
    add_smtp_source_arguments(parser, prefix="smtp-source-")
    args = parser.parse_args(argv)

    scenario_path = resolve_scenario(args.scenario)
    if scenario_path is None:
        print(f"error: no scenario {args.scenario} (files are in {HERE / 'scenarios'})", file=sys.stderr)
        return 2
    try:
        scenario = Scenario.load_file(scenario_path, smoke=args.smoke)
        if args.messages or args.timeout or args.rate is not None:
            overrides: dict = {"load": {}}
            if args.messages:
                overrides["load"]["messages"] = args.messages
            if args.rate is not None:
                overrides["load"]["rate"] = args.rate
            if args.timeout:
                overrides["timeout_seconds"] = args.timeout
            scenario = Scenario(scenario_path, deep_merge(scenario.data, overrides), smoke=False)
            scenario.smoke = args.smoke
    except ScenarioError as error:
        print(f"error: {scenario_path}: {error}", file=sys.stderr)
        return 2
    for tool in ("redis-server", "dnsmasq"):
        if not shutil.which(tool) and not os.access(f"/usr/sbin/{tool}", os.X_OK):
            print(f"error: {tool} is not installed (scripts/install-deps.sh installs it)", file=sys.stderr)
            return 1
    if args.peer == "postfix":
        problem = postfix.available()
        if problem:
            print(f"error: --peer postfix: {problem}", file=sys.stderr)
            return 1
    smtp_source_relays = [r.strip() for r in args.smtp_source_relays.split(",") if r.strip()]
    if args.smtp_source and (found := smtp_source_problems(smtp_source_relays)):
        print("error: --smtp-source: " + "; ".join(found), file=sys.stderr)
        return 1
    bins = find_binaries(args.bin_dir, allow_mixed=True)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else REPO / "var" / "loadtest" / f"{scenario.name}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()

    # SIGTERM (e.g. from CI) stops the run as Ctrl-C does: children stopped, partial report written.
    def terminate(_signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, terminate)

    console = Console(interval=5.0 if not args.smoke else 5.0)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    load_before = machine.load_average()
    console.say(f"scenario {scenario.name}{' (smoke)' if args.smoke else ''}: {scenario.description}")
    console.say(f"binaries: {bins['hikyaku']} (and hikyaku-load, hikyaku-sim beside it)")
    console.say(f"load average before: {' '.join(map(str, load_before))}; output: {out}")

    passes: list[tuple[str, str, callable]] = []

    def hikyaku_pass(scn, overrides=None, egress=None, api=False):
        return lambda sim_port, sim_path, directory: HikyakuSystem(
            scn, bins, directory, sim_port, sim_path, config_overrides=overrides, egress_override=egress, api=api)

    def postfix_pass(scn):
        main_cf = scn.peer.get("postfix", {}).get("main_cf", {})
        return lambda sim_port, sim_path, directory: PostfixSystem(scn, directory, sim_port, main_cf)

    passes.append(("hikyaku", "Hikyaku", hikyaku_pass(scenario)))
    # The HTTP API passes: key -> messages per request (0: POST /v1/messages, one each).
    http_batch: dict[str, int] = {}
    if args.api:
        http_batch["hikyaku-api"] = 0
        passes.append(("hikyaku-api", "Hikyaku HTTP API (one message per request)", hikyaku_pass(scenario, api=True)))
        if args.api_batch > 0:
            http_batch["hikyaku-api-batch"] = args.api_batch
            passes.append(("hikyaku-api-batch", f"Hikyaku HTTP API (batches of {args.api_batch})",
                           hikyaku_pass(scenario, api=True)))
    if not args.smoke and not args.no_variants:
        for variant in scenario.variants:
            relay = variant.get("relay", {})
            passes.append((f"hikyaku-{variant['name']}", f"Hikyaku ({variant['name']})",
                           hikyaku_pass(scenario, relay.get("config", {}), relay.get("egress"))))
    if args.peer == "postfix":
        passes.append(("postfix", "Postfix", postfix_pass(scenario)))

    results: dict[str, dict] = {}
    scenario_of: dict[str, Scenario] = {}
    interrupted = False

    def run_pass(key, label, factory, scn) -> bool:
        """Runs one pass into results[key]; returns False when the run was interrupted."""
        nonlocal interrupted
        directory = out / key
        scenario_of[key] = scn
        one = Pass(label, scn, bins, directory, console,
                   make_system=lambda port, path, d=directory, f=factory: f(port, path, d),
                   with_faults=key == "hikyaku" or (key.startswith("hikyaku-") and not key.endswith(("half-peak", "low-rate"))),
                   run_name=f"{scn.name}-{key}", http_batch=http_batch.get(key))
        try:
            raw = one.run()
            results[key] = analyze(raw, scn)
            if raw.get("interrupted"):
                interrupted = True
        except KeyboardInterrupt:
            interrupted = True
            console.say(f"[{label}] interrupted")
            results[key] = {"label": label, "error": "interrupted"}
        except Exception as error:  # noqa: BLE001 -- reported, the other passes still run
            console.say(f"[{label}] failed: {type(error).__name__}: {error}")
            results[key] = {"label": label, "error": f"{type(error).__name__}: {error}"}
        finally:
            leftovers = kill_leftovers()
            if leftovers:
                console.say(f"[{label}] killed processes left running: {', '.join(leftovers)}")
            if not args.keep_data:
                shutil.rmtree(directory / "redis", ignore_errors=True)
        if "error" not in results[key]:
            result = results[key]
            svg = chart.render(f"{label}: {scn.name}", result["series"]["accepted_per_second"],
                               result["series"]["delivered_per_second"],
                               subtitle=f"{result['accepted']:,} accepted, {result['throughput']['delivered']:,} delivered; "
                                        f"{result['throughput']['delivered_per_second']}/s end to end")
            name = "chart.svg" if key == "hikyaku" else f"chart-{key}.svg"
            (out / name).write_text(svg)
            (directory / "result.json").write_text(json.dumps(result, indent=2) + "\n")
        return not interrupted

    smtp_source = None
    if args.smtp_source:
        try:
            smtp_source = run_smtp_source(bins, scenario, out / "smtp-source", smtp_source_relays,
                                          args.smtp_source_messages, args.smtp_source_runs, args.smtp_source_warmup,
                                          console.say, args.smtp_source_split_roles)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            kill_leftovers()

    for key, label, factory in passes:
        if interrupted or not run_pass(key, label, factory, scenario):
            break

    # Latency below saturation: the same load at a fixed rate of half what Hikyaku reached
    # end to end (the "p99 enqueue-to-delivery under 1 s at half of the peak rate").
    half_rate = None
    if args.half_peak and not interrupted and "error" not in results.get("hikyaku", {"error": ""}):
        half_rate = max(1, int(results["hikyaku"]["throughput"]["delivered_per_second"] / 2))
        messages = min(scenario.load["messages"], max(1000, half_rate * 20))
        half = Scenario(scenario_path, deep_merge(scenario.data, {"load": {"rate": half_rate, "messages": messages}}),
                        smoke=False)
        half_passes = [("hikyaku-half-peak", f"Hikyaku at {half_rate}/s (half of its peak)", hikyaku_pass(half))]
        if args.peer == "postfix":
            half_passes.append(("postfix-half-peak", f"Postfix at {half_rate}/s", postfix_pass(half)))
        for key, label, factory in half_passes:
            if not run_pass(key, label, factory, half):
                break

    # Latency when idle: a low fixed rate, Hikyaku only.
    if args.low_rate and not interrupted:
        messages = max(200, int(args.low_rate * 20))
        low = Scenario(scenario_path, deep_merge(scenario.data, {"load": {"rate": args.low_rate, "messages": messages}}),
                       smoke=False)
        run_pass("hikyaku-low-rate", f"Hikyaku at {args.low_rate:g}/s (low rate)", hikyaku_pass(low), low)

    primary = results.get("hikyaku", {"label": "Hikyaku", "error": "did not run"})
    others = {k.removeprefix("hikyaku-"): v for k, v in results.items()
              if k != "hikyaku" and not k.endswith(("half-peak", "low-rate"))}
    checks = report.evaluate_checks(scenario.expect, primary, others)
    for key in http_batch:
        checks += report.api_checks(results.get(key, {"label": key, "error": "did not run"}))
    full = {
        "scenario": scenario.name,
        "scenario_file": str(scenario_path),
        "description": scenario.description,
        "smoke": args.smoke,
        "command": command,
        "cwd": os.getcwd(),
        "finished_at": machine.now_text(),
        "machine": machine.machine() | {"load_average_before": load_before, "load_average_after": machine.load_average()},
        "binaries": binary_info(bins),
        "load": scenario.load,
        "durability": {
            "hikyaku": "redis-server with appendonly yes, appendfsync always (250 only after the AOF write is fsynced)",
            "postfix": "Postfix's cleanup fsyncs the queue file before smtpd answers 250" if args.peer else None,
        },
        "latency_method": LATENCY_METHOD,
        "runs": results,
        "checks": checks,
        "interrupted": interrupted,
    }
    text_parts = [f"Hikyaku load test: {scenario.name}{' (smoke)' if args.smoke else ''} — {machine.now_text()}",
                  f"command: {command}", f"  (in {os.getcwd()})"]
    m = full["machine"]
    text_parts.append(f"machine: {m.get('nproc')} CPU ({m.get('model_name')}), {m.get('memory_mib')} MiB, "
                      f"Linux {m.get('kernel')}, Debian {m.get('debian_version')}; "
                      f"load average before {' '.join(map(str, load_before))}, after {' '.join(map(str, m['load_average_after']))}")
    text_parts.append("durability: Redis AOF appendfsync always" +
                      ("; Postfix fsyncs each queue file before 250" if args.peer else ""))
    text_parts.append(f"output: {out}")
    text = "\n".join(text_parts) + "\n\n"
    if smtp_source is not None:
        full["smtp_source"] = smtp_source
        text += smtp_source_table(smtp_source) + "\n"
    for key, result in results.items():
        text += report.run_summary(result, scenario_of.get(key, scenario)) + "\n"
    if "postfix" in results and "error" not in results["postfix"] and "error" not in primary:
        rows = report.comparison(primary, results["postfix"])
        full["comparison"] = rows
        text += "== Hikyaku vs Postfix (same load, same simulator, same machine, equal durability) ==\n"
        text += report.comparison_text(rows) + "\n"
    if http_batch:
        rows = report.api_comparison({"SMTP": primary, **{results[k]["label"]: results[k] for k in http_batch if k in results}},
                                     {results[k]["label"]: n for k, n in http_batch.items() if k in results})
        full["api_comparison"] = rows
        text += "== SMTP vs HTTP API (same relay, simulator and load; submissions = SMTP transactions or HTTP requests) ==\n"
        text += report.api_comparison_text(rows) + "\n"
    half_runs = [results.get("hikyaku-half-peak"), results.get("postfix-half-peak")]
    if half_runs[0] and half_runs[1] and not any("error" in r for r in half_runs):
        rows = report.comparison(*half_runs)
        full["comparison_half_peak"] = rows | {"rate": half_rate}
        text += f"== Hikyaku vs Postfix at {half_rate}/s (half of Hikyaku's peak), fixed rate ==\n"
        text += report.comparison_text(rows) + "\n"
    if half_runs[0] and "error" not in half_runs[0]:
        p99 = half_runs[0]["latency_ms"]["p99"]
        full["half_peak"] = {"rate": half_rate, "latency_p99_ms": p99}
        text += (f"latency at half of peak: Hikyaku at {half_rate}/s, p99 enqueue→delivery "
                 f"{p99:,.1f} ms (issue 16 goal: under 250 ms)\n\n")
    low_run = results.get("hikyaku-low-rate")
    if low_run and "error" not in low_run:
        latency = low_run["latency_ms"]
        full["low_rate"] = {"rate": args.low_rate, "latency_p50_ms": latency["p50"], "latency_p99_ms": latency["p99"]}
        text += (f"latency at a low rate: Hikyaku at {args.low_rate:g}/s, enqueue→delivery p50 {latency['p50']:,.1f} ms, "
                 f"p99 {latency['p99']:,.1f} ms (issue 16 goal: p50 under 10 ms at 50/s)\n\n")
    text += "checks:\n" + "".join(f"  [{'ok' if c['ok'] else 'FAIL'}] {c['check']}: {c['detail']}\n" for c in checks)
    (out / "report.json").write_text(json.dumps(full, indent=2) + "\n")
    (out / "summary.txt").write_text(text)
    console.say("")
    console.say(text.rstrip("\n"))
    charts = "  ".join(str(p) for p in sorted(out.glob("chart*.svg")))
    console.say(f"\nreport: {out / 'report.json'}  summary: {out / 'summary.txt'}" + (f"  charts: {charts}" if charts else ""))
    if interrupted or "error" in primary:
        return 1
    return 0 if all(c["ok"] for c in checks) else 3


if __name__ == "__main__":
    sys.exit(main())
