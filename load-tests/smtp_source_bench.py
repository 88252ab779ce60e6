#!/usr/bin/env python3
"""Hikyaku and Postfix under Postfix's own smtp-source, into smtp-sink (issue 16).

    python3 load-tests/smtp_source_bench.py [--bin-dir DIR] [--messages N] [--runs 3]
                                            [--relays sink,hikyaku,postfix] [--warmup N] [--out DIR]
                                            [--split-roles]

Two profiles, each relay in turn: one connection per message (`smtp-source -s 20 -l 1024
-m N`) and connection reuse (`smtp-source -d …`). Prints msg/s (median of --runs and each
run), the Hikyaku/Postfix ratio, relay-side CPU ms per message (Hikyaku's relay and
redis-server apart) and context switches per message; writes report.json and summary.txt.
`sink` in --relays (the default has it) is no relay: smtp-source straight into smtp-sink.
`make bench-smtp` runs this; `make bench` runs it first through run.py --smtp-source.
The relay is configured like flat-out-single-node (one `--role all` process, DKIM off,
Redis appendfsync always). With --split-roles the relay's roles run as separate processes
and each one's CPU per message is reported too (where the time goes; not the pinned
comparison). load-tests/README.md, "The smtp-source profiles".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

from hikyaku_testsupport import machine
from hikyaku_testsupport.binaries import REPO, find_binaries
from hikyaku_testsupport.processes import kill_leftovers
from runner import postfix, smtpsource
from runner.scenario import Scenario
from runner.smtpsource_passes import RELAYS, run_all, table_text

HERE = Path(__file__).resolve().parent
DEFAULT_MESSAGES = 30_000


def add_arguments(parser: argparse.ArgumentParser, prefix: str = ""):
    """The options, also offered by run.py with the prefix `smtp-source-`."""
    parser.add_argument(f"--{prefix}messages", type=int, default=DEFAULT_MESSAGES,
                        help=f"messages per timed run, the same for both relays (default {DEFAULT_MESSAGES:,})")
    parser.add_argument(f"--{prefix}runs", type=int, default=3, help="timed runs per profile and relay (default 3)")
    parser.add_argument(f"--{prefix}relays", default=",".join(RELAYS),
                        help="comma-separated: sink (no relay: the ceiling of client and sink), hikyaku, postfix (default all three)")
    parser.add_argument(f"--{prefix}warmup", type=int, default=2000,
                        help="untimed messages through each relay before its runs (default 2,000)")
    parser.add_argument(f"--{prefix}split-roles", action="store_true",
                        help="run Hikyaku's roles as separate processes (ingest, worker, webhooks, campaigns) and "
                             "report each one's CPU per message; the pinned comparison is one --role all process")


def problems(relays: list[str]) -> list[str]:
    found = [p for p in [smtpsource.available()] if p]
    found += [f"unknown relay {r}" for r in relays if r not in RELAYS]
    if "postfix" in relays and (p := postfix.available()):
        found.append(p)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", help="where hikyaku is (default as run.py)")
    parser.add_argument("--out", help="output directory (default var/loadtest/smtp-source-<timestamp>/)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    relays = [r.strip() for r in args.relays.split(",") if r.strip()]
    if found := problems(relays):
        print("error: " + "; ".join(found), file=sys.stderr)
        return 1
    bins = find_binaries(args.bin_dir, allow_mixed=True)
    out = Path(args.out) if args.out else REPO / "var" / "loadtest" / f"smtp-source-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()

    def terminate(_signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, terminate)

    scenario = Scenario.load_file(HERE / "scenarios" / "flat-out-single-node.json")
    say = lambda text: print(text, flush=True)  # noqa: E731
    say(f"smtp-source profiles: {', '.join(relays)}, {args.messages:,} messages × {args.runs} runs per profile; "
        f"binaries {bins['hikyaku']}; load average {' '.join(map(str, machine.load_average()))}; output {out}")
    try:
        summary = run_all(bins, scenario, out, relays, args.messages, args.runs, args.warmup, say, args.split_roles)
    finally:
        kill_leftovers()
    text = table_text(summary)
    full = {"command": shlex.join([Path(sys.executable).name, *sys.argv]), "cwd": os.getcwd(),
            "finished_at": machine.now_text(), "machine": machine.machine(), "postfix_version": postfix.postfix_version(),
            "binaries": bins, "smtp_source": summary}
    (out / "report.json").write_text(json.dumps(full, indent=2) + "\n")
    (out / "summary.txt").write_text(f"{full['command']}\n{full['finished_at']}\n\n{text}")
    say("\n" + text + f"\nreport: {out / 'report.json'}  summary: {out / 'summary.txt'}")
    return 1 if any("error" in r for r in summary["relays"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
