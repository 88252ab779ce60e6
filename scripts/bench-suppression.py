#!/usr/bin/env python3
"""Enqueue rate with and without a 1M-entry suppression list (issue 13: "report the
enqueue rate with a 1M-entry list"). Not part of `make test`: `make bench-suppression`.

Starts a redis-server and one `hikyaku serve --role ingest` (nothing is delivered: the
enqueue is what is measured), then for each case sends MESSAGES messages of RCPTS
recipients over CONNECTIONS parallel smtplib sessions to the allow-listed relay listener
and prints messages/s and recipients/s:

  1. empty lists;
  2. after `hikyaku suppression import` of 1,000,000 rows into the global list (timed),
     recipients not on it (every one looked up, none found);
  3. the same with one recipient in ten suppressed (found, dropped, an event each).

    scripts/bench-suppression.py [--bin .build/debug/hikyaku] [--messages 4000] [--rcpts 10]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hikyaku_testsupport.ports import free_ports  # noqa: E402
from hikyaku_testsupport.processes import child_environment  # noqa: E402
from hikyaku_testsupport.redis_servers import RedisServer  # noqa: E402
from hikyaku_testsupport.relay import Relay  # noqa: E402

ENTRIES = 1_000_000


def send(port: int, count: int, rcpts: int, worker: int, suppressed_every: int) -> int:
    """`count` messages over one session; returns recipients offered."""
    offered = 0
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo("bench.test")
        for m in range(count):
            to = []
            for r in range(rcpts):
                n = (worker * count + m) * rcpts + r
                # Suppressed ones are addresses of the imported list; the others are not on it.
                to.append(f"user{n % ENTRIES}@example.org" if suppressed_every and n % suppressed_every == 0
                          else f"fresh{n}@bench.test")
            smtp.sendmail("bench@bench.test", to, b"Subject: bench\r\n\r\nbench\r\n")
            offered += len(to)
    return offered


def run_case(name: str, port: int, args, suppressed_every: int = 0):
    per = args.messages // args.connections
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.connections) as pool:
        offered = sum(pool.map(lambda w: send(port, per, args.rcpts, w, suppressed_every), range(args.connections)))
    elapsed = time.monotonic() - started
    print(f"{name:48s} {per * args.connections / elapsed:8.0f} messages/s  {offered / elapsed:9.0f} recipients/s"
          f"  ({per * args.connections} messages in {elapsed:.1f}s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("HIKYAKU_BIN", ".build/debug/hikyaku"))
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--rcpts", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-suppression-") as scratch:
        scratch = Path(scratch)
        redis = RedisServer(scratch / "redis").start()
        (port,) = free_ports(1)
        config = {
            "hostname": "bench.test", "log_level": "warning",
            "redis": {"url": redis.url},
            "ingest": {"listeners": [{"name": "relay", "address": f"127.0.0.1:{port}", "mode": "relay"}],
                       "relay_networks": ["127.0.0.1/32"], "max_recipients": 1000},
            "events": {"max_length": 100000},
        }
        relay = Relay(args.bin, "bench", config, scratch / "hikyaku.yaml", "ingest", scratch / "hikyaku.log")
        try:
            relay.start()
        except Exception:
            print((scratch / "hikyaku.log").read_text()[-3000:], file=sys.stderr)
            redis.stop()
            raise
        try:
            print(f"{args.messages} messages of {args.rcpts} recipients over {args.connections} connections; "
                  f"binary {args.bin}", flush=True)
            run_case("empty suppression lists", port, args)
            csv = scratch / "list.csv"
            with open(csv, "w") as f:
                f.write("address,reason,created_at,expires_at\n")
                for i in range(ENTRIES):
                    f.write(f"user{i}@example.org,hard_bounce,2026-01-01T00:00:00Z,\n")
            started = time.monotonic()
            out = subprocess.run([args.bin, "suppression", "import", str(csv), "--global", "--config", str(relay.config_path)],
                                 capture_output=True, text=True, env=child_environment())
            if out.returncode != 0:
                sys.exit(f"import failed: {out.stdout}{out.stderr[-2000:]}")
            elapsed = time.monotonic() - started
            memory = redis.command("INFO", "memory").decode()
            used = next(line.split(":")[1].strip() for line in memory.splitlines() if line.startswith("used_memory_human"))
            print(f"import of {ENTRIES} rows: {elapsed:.1f}s ({ENTRIES / elapsed:.0f} rows/s); {out.stdout.strip()}; "
                  f"Redis memory {used}", flush=True)
            run_case("1M-entry global list, none suppressed", port, args)
            run_case("1M-entry global list, 1 in 10 suppressed", port, args, suppressed_every=10)
        finally:
            relay.stop()
            redis.stop()


if __name__ == "__main__":
    main()
