"""The system under test: a private redis-server (AOF, appendfsync always), dnsmasq with
the simulator's DNS records, and the relay as one `--role all` process or separate
ingest and worker processes, configured from the scenario."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .net import dns_answer_count, free_port, port_accepts, wait_until
from .procs import Child, child_environment
from .resp import Redis, StreamReader
from .scenario import deep_merge

FINAL_FAILURES = ("bounced", "expired", "suppressed", "purged")


class HikyakuSystem:
    name = "hikyaku"
    label = "Hikyaku"

    def __init__(self, scenario, bins: dict, out: Path, sim_port: int, sim_scenario_path: Path,
                 config_overrides: dict | None = None, egress_override: list | None = None):
        self.scenario = scenario
        self.bins = bins
        self.out = out
        self.sim_port = sim_port
        self.sim_scenario_path = sim_scenario_path
        self.config_overrides = config_overrides or {}
        self.egress = egress_override if egress_override is not None else scenario.egress
        self.children: list[Child] = []
        self.relays: list[Child] = []
        self.redis: Redis | None = None
        self.events: StreamReader | None = None
        self.event_counts: dict[str, int] = {}
        self.backoff_events: list[dict] = []
        self.reply_counts: dict[str, int] = {}
        self.pools: set[str] = {"default"}
        self.redis_child: Child | None = None
        self.dns_child: Child | None = None
        self.redis_port = self.relay_port = self.dns_port = None
        self.config_paths: dict = {}
        self.config: dict = {}

    # ------------------------------------------------------------------ setup

    def start(self) -> tuple[str, int]:
        out = self.out
        # Redis: durable at the level every figure is quoted at.
        self.redis_port = free_port()
        redis_dir = out / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        self.redis_child = Child("redis-server", [
            "redis-server", "--port", self.redis_port, "--bind", "127.0.0.1", "--dir", redis_dir,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
        ], out / "redis.log", role="redis")
        self.children.append(self.redis_child.start())
        self.redis = Redis(self.redis_port)
        wait_until(self.redis.ping, 20, "redis-server to answer PING", alive=self.redis_child.alive)

        # dnsmasq with the records `hikyaku-sim dns-config` writes for the scenario.
        dns_conf = out / "sim-dns.conf"
        generated = subprocess.run([self.bins["hikyaku-sim"], "dns-config", self.sim_scenario_path],
                                   capture_output=True, text=True)
        if generated.returncode != 0:
            raise RuntimeError(f"hikyaku-sim dns-config failed: {generated.stderr.strip()}")
        dns_conf.write_text(generated.stdout)
        self.dns_port = free_port(udp=True)
        self.dns_child = Child("dnsmasq", [
            "dnsmasq", "--keep-in-foreground", f"--conf-file={dns_conf}", f"--port={self.dns_port}",
            "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1", "--user=root",
            f"--pid-file={out / 'dnsmasq.pid'}", "--log-facility=-", "--cache-size=1000",
        ], out / "dnsmasq.log", role="dns")
        self.children.append(self.dns_child.start())
        first_domain = next(iter(self.scenario.load["mix"]))
        wait_until(lambda: dns_answer_count(self.dns_port, first_domain), 20,
                   f"dnsmasq to answer the MX query for {first_domain}", alive=self.dns_child.alive)

        # The relay.
        self.relay_port = free_port()
        base = {
            "hostname": "relay.loadtest",
            "log_level": "notice",
            "redis": {"url": f"redis://127.0.0.1:{self.redis_port}/0"},
            "ingest": {
                "listeners": [{"name": "relay", "address": f"127.0.0.1:{self.relay_port}", "mode": "relay"}],
                "relay_networks": ["127.0.0.0/8"],
            },
            "delivery": {
                "dns_servers": [f"127.0.0.1:{self.dns_port}"],
                "mx_port": self.sim_port,
                # The simulated sites are on 127.0.x.y, which workers refuse by default.
                "allowed_mx_networks": ["127.0.0.0/8"],
                # The simulator's sites present a self-signed certificate; tls_required
                # sites (gmail) would otherwise be deferred for want of a verified one.
                "verify_tls_required": False,
            },
        }
        if self.egress:
            base["delivery"]["egress"] = self.egress
        config = deep_merge(deep_merge(base, self.scenario.relay_config), self.config_overrides)
        # The runner owns these: the scenario cannot point them elsewhere by accident.
        config["redis"]["url"] = base["redis"]["url"]
        config["ingest"]["listeners"] = base["ingest"]["listeners"]
        config["delivery"]["dns_servers"] = base["delivery"]["dns_servers"]
        config["delivery"]["mx_port"] = self.sim_port
        self.config = config
        self.pools = {config.get("ingest", {}).get("relay_pool", "default"), "default"}
        self.pools |= {e.get("pool", "default") for e in config["delivery"].get("egress", [])}
        self.config_paths = {}
        for process in self.scenario.processes:
            process_config = deep_merge(config, process["config"])
            path = out / f"hikyaku-{process['name']}.yaml"
            # JSON is YAML: the relay reads it as its configuration file.
            path.write_text(json.dumps(process_config, indent=2) + "\n")
            self.config_paths[process["name"]] = path
            check = subprocess.run([self.bins["hikyaku"], "check-config", "--config", path],
                                   capture_output=True, text=True, env=child_environment())
            if check.returncode != 0:
                raise RuntimeError(f"hikyaku check-config {path}: {(check.stderr or check.stdout).strip()}")
            child = Child(f"hikyaku {process['name']}",
                          [self.bins["hikyaku"], "serve", "--config", path, "--role", process["role"]],
                          out / f"hikyaku-{process['name']}.log", role=process["role"])
            child.short = process["name"]
            self.relays.append(child)
            self.children.append(child.start())
        wait_until(lambda: port_accepts(self.relay_port), 60, "the relay's SMTP listener",
                   alive=lambda: all(c.alive() for c in self.relays))
        self.events = StreamReader(Redis(self.redis_port), "hk:events")
        return ("127.0.0.1", self.relay_port)

    def fault_targets(self) -> dict[str, Child]:
        targets = {c.short: c for c in self.relays}
        for c in self.relays:
            targets.setdefault(c.role, c)  # "worker" = the first worker
        targets["redis"] = self.redis_child
        return targets

    def essential_alive(self) -> str | None:
        """The name of a process that died on its own, if any."""
        for child in [self.redis_child, self.dns_child] + self.relays:
            if child is not None and not child.alive() and not getattr(child, "fault_pending", False):
                return child.name
        return None

    # ------------------------------------------------------------------ while running

    def sample(self):
        for child in self.children:
            child.sample()

    def pending(self) -> int | None:
        """Recipients accepted and not yet final (``hk:depth:<pool>``, summed)."""
        if self.redis is None:
            return None
        try:
            return sum(self.redis.get_int(f"hk:depth:{pool}") or 0 for pool in sorted(self.pools))
        except Exception:  # noqa: BLE001 -- Redis restarting in a fault scenario
            return None

    def poll_finals(self) -> list[tuple[str, str]]:
        """New final failure events (bounced, expired, …) and deferrals as (queue id, kind)."""
        finals = []
        if self.events is None:
            return finals
        try:
            entries = self.events.read_new()
        except Exception:  # noqa: BLE001
            return finals
        for fields in entries:
            raw = fields.get(b"e")
            if raw is None:
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            kind = event.get("event", "?")
            self.event_counts[kind] = self.event_counts.get(kind, 0) + 1
            if kind in FINAL_FAILURES or kind == "deferred":
                finals.append((event.get("queue_id"), kind))
                reason = f"{kind}: {str(event.get('reply', ''))[:90]}"
                self.reply_counts[reason] = self.reply_counts.get(reason, 0) + 1
            elif kind == "backoff" and len(self.backoff_events) < 200:
                self.backoff_events.append(event)
        return finals

    # ------------------------------------------------------------------ teardown

    def stop_relay(self):
        for child in self.relays:
            child.stop(timeout=45)

    def stop_rest(self):
        if self.dns_child is not None:
            self.dns_child.stop(timeout=10)
        if self.redis is not None:
            self.redis.close()
        if self.events is not None:
            self.events.redis.close()
        if self.redis_child is not None:
            self.redis_child.stop(timeout=30)

    def usage(self) -> dict:
        return {c.name: c.usage() for c in self.children}

    def describe(self) -> dict:
        return {
            "durability": "Redis AOF with appendfsync always: every 250 after the write is fsynced",
            "redis_port": self.redis_port,
            "relay_port": self.relay_port,
            "dns": f"dnsmasq 127.0.0.1:{self.dns_port}",
            "processes": [{"name": c.name, "role": c.role, "argv": c.argv} for c in self.relays],
            "config_files": {k: str(v) for k, v in self.config_paths.items()},
            "config": self.config,
        }

    def extra(self) -> dict:
        top = sorted(self.reply_counts.items(), key=lambda kv: -kv[1])[:10]
        return {"events": dict(sorted(self.event_counts.items())),
                "deferral_and_bounce_replies": dict(top),
                "backoff_events_sample": self.backoff_events[:20]}
