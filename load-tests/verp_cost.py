#!/usr/bin/env python3
"""What VERP costs a delivery worker: the same messages (N recipients each, all at one
domain) delivered once from an account without a return-path domain (one transaction per
message, N RCPTs) and once from an account with one (N transactions per message, one RCPT
each, each from its own b-<token> address), through hikyaku-sim.

For each account: the messages are enqueued with only an ingest process running, then a
worker starts and the clock runs until the pool's depth is 0 (every recipient final).
Prints messages/s, recipients/s and SMTP transactions/s of delivery, from the simulator's
count of arrivals (one record per transaction).

    python3 load-tests/verp_cost.py [--bin-dir .build/debug] [--messages 1000] [--recipients 5]
                                    [--data-latency-ms 0] [--concurrency 8]
"""
from __future__ import annotations

import argparse
import json
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hikyaku_testsupport.ports import free_ports  # noqa: E402
from hikyaku_testsupport.processes import ManagedProcess, child_environment  # noqa: E402
from hikyaku_testsupport.redis_servers import RedisServer  # noqa: E402
from hikyaku_testsupport.relay import Relay  # noqa: E402
from hikyaku_testsupport.waiting import wait_for  # noqa: E402

DOMAIN = "verp.sim"
SITE_ADDRESS = "127.0.1.1"
ACCOUNTS = {"plain": ("127.0.0.10", None), "verp": ("127.0.0.9", "bounces.verp-cost.test")}


def submit(port: int, source: str, sender: str, messages: int, recipients: int, label: str, threads: int = 4):
    def worker(first: int, count: int):
        with smtplib.SMTP("127.0.0.1", port, timeout=60, source_address=(source, 0)) as smtp:
            for n in range(first, first + count):
                rcpts = [f"u{n}-{k}@{DOMAIN}" for k in range(recipients)]
                body = (f"From: <{sender}>\r\nTo: <{rcpts[0]}>\r\nSubject: {label} {n}\r\n"
                        f"Message-ID: <{label}-{n}@verp-cost.test>\r\n\r\n" + "x" * 1000 + "\r\n")
                smtp.sendmail(sender, rcpts, body)
    per = messages // threads
    pool = [threading.Thread(target=worker, args=(i * per, per if i < threads - 1 else messages - i * per))
            for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def arrivals(path: Path) -> int:
    try:
        return sum(1 for line in path.read_text().splitlines() if line.strip())
    except FileNotFoundError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default=".build/debug")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--recipients", type=int, default=5)
    parser.add_argument("--data-latency-ms", type=int, default=0, help="the simulator's delay before answering the dot")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the logs and records (the directory is printed)")
    args = parser.parse_args()
    bins = Path(args.bin_dir)
    hikyaku, sim_bin = str(bins / "hikyaku"), str(bins / "hikyaku-sim")
    out = Path(tempfile.mkdtemp(prefix="verp-cost-"))
    redis = RedisServer(out / "redis").start()
    sim_port, relay_port = free_ports(2)
    sim_record = out / "arrivals.jsonl"
    scenario = {"listen_port": sim_port, "sites": [{"name": "site", "domains": [DOMAIN], "addresses": [SITE_ADDRESS],
                                                    "behaviours": {"latency_ms": {"data": args.data_latency_ms}}}]}
    (out / "sim.json").write_text(json.dumps(scenario))
    sim = ManagedProcess("hikyaku-sim", [sim_bin, "serve", "--scenario", out / "sim.json", "--record", sim_record,
                                         "--log-level", "warning"], out / "sim.log", role="simulator").start()
    key_file = out / "secrets.key"
    subprocess.run([hikyaku, "secrets", "generate-key", str(key_file)], check=True, capture_output=True, env=child_environment())
    config = {
        "hostname": "relay.verp-cost.test", "log_level": "info",
        "redis": {"url": redis.url},
        "ingest": {"listeners": [{"name": "relay", "address": f"127.0.0.1:{relay_port}", "mode": "relay"}],
                   "relay_networks": ["127.0.0.1/32"], "max_recipients": 1000},
        "accounts": {"refresh_interval": "200ms", "bounce_rate_threshold": 0},
        "secrets": {"key_file": str(key_file)},
        "delivery": {"concurrency": args.concurrency, "routes": {DOMAIN: f"{SITE_ADDRESS}:{sim_port}"},
                     "allowed_mx_networks": ["127.0.0.0/8"], "tls": "disabled", "batch_size": 50,
                     "default_shaping": {"max_connections_per_ip": 20, "max_messages_per_connection": 1000}},
    }
    relays: list[Relay] = []
    results = {}
    try:
        ingest = Relay(hikyaku, "ingest", config, out / "hikyaku.yaml", "ingest", out / "ingest.log").start()
        relays.append(ingest)
        for name, (network, return_path) in ACCOUNTS.items():
            extra = ["--return-path-domain", return_path] if return_path else []
            subprocess.run([hikyaku, "account", "add", name, "--network", f"{network}/32", "--domain", "verp-cost.test",
                            *extra, "--config", str(ingest.config_path)], check=True, capture_output=True,
                           env=child_environment())
        wait_for(lambda: "loaded 2 account(s)" in ingest.process.log_text(), timeout=30, what="the accounts to load")
        for name, (network, _) in ACCOUNTS.items():
            before = arrivals(sim_record)
            started = time.monotonic()
            submit(relay_port, network, "app@verp-cost.test", args.messages, args.recipients, name)
            enqueue_s = time.monotonic() - started
            worker = Relay(hikyaku, f"worker-{name}", config, out / f"hikyaku-{name}.yaml", "worker", out / f"worker-{name}.log")
            relays.append(worker)
            started = time.monotonic()
            worker.start()
            wait_for(lambda: int(redis.command("GET", "hk:depth:default").strip() or 0) == 0, timeout=1800, interval=0.05,
                     what="every recipient to be final")
            elapsed = time.monotonic() - started
            worker.stop()
            transactions = arrivals(sim_record) - before
            results[name] = {"messages": args.messages, "recipients": args.messages * args.recipients,
                             "transactions": transactions, "seconds": round(elapsed, 2),
                             "messages_per_second": round(args.messages / elapsed, 1),
                             "recipients_per_second": round(args.messages * args.recipients / elapsed, 1),
                             "transactions_per_second": round(transactions / elapsed, 1),
                             "enqueue_seconds": round(enqueue_s, 2)}
            print(f"{name:6} {json.dumps(results[name])}", flush=True)
    finally:
        for relay in relays:
            relay.stop()
        sim.stop()
        redis.stop()
    if results.get("plain") and results.get("verp"):
        ratio = results["verp"]["messages_per_second"] / results["plain"]["messages_per_second"]
        print(f"VERP delivers {ratio:.2f}x the messages/s of plain delivery "
              f"({args.recipients} recipients per message, data latency {args.data_latency_ms} ms)")
    if args.keep:
        print(f"logs and records in {out}")
    else:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
