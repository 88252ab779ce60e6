"""The system under test: a private redis-server (AOF, appendfsync always), dnsmasq with
the simulator's DNS records, and the relay as one `--role all` process or separate
ingest and worker processes, configured from the scenario. With ``api=True`` the relay
also serves its HTTP API on a plain-HTTP loopback port (`api.plain_listen`), and an
account for the generator's sender domain with an API key is made with the real
`hikyaku account` commands, for `hikyaku-load --http`."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from hikyaku_testsupport.dns import Dnsmasq
from hikyaku_testsupport.events import EVENTS_STREAM, FINAL_FAILURES, decode_stream_events
from hikyaku_testsupport.ports import free_port, port_accepts
from hikyaku_testsupport.processes import ManagedProcess, child_environment
from hikyaku_testsupport.redis_servers import RedisServer
from hikyaku_testsupport.relay import Relay, check_config, deep_merge
from hikyaku_testsupport.resp import Redis, StreamReader
from hikyaku_testsupport.waiting import wait_for


class HikyakuSystem:
    name = "hikyaku"
    label = "Hikyaku"

    def __init__(self, scenario, bins: dict, out: Path, sim_port: int, sim_scenario_path: Path,
                 config_overrides: dict | None = None, egress_override: list | None = None, api: bool = False):
        self.scenario = scenario
        self.bins = bins
        self.out = out
        self.sim_port = sim_port
        self.sim_scenario_path = sim_scenario_path
        self.config_overrides = config_overrides or {}
        self.egress = egress_override if egress_override is not None else scenario.egress
        self.children: list[ManagedProcess] = []
        self.relays: list[ManagedProcess] = []
        self.redis: Redis | None = None
        self.events: StreamReader | None = None
        self.event_counts: dict[str, int] = {}
        self.backoff_events: list[dict] = []
        self.reply_counts: dict[str, int] = {}
        self.pools: set[str] = {"default"}
        self.redis_child: ManagedProcess | None = None
        self.dns_child: ManagedProcess | None = None
        self.redis_port = self.relay_port = self.dns_port = None
        self.config_paths: dict = {}
        self.config: dict = {}
        self.api = api
        self.api_url: str | None = None
        self.api_key: str | None = None

    # ------------------------------------------------------------------ setup

    def start(self) -> tuple[str, int]:
        out = self.out
        # Redis: durable at the level every figure is quoted at.
        redis_server = RedisServer(out / "redis", log_path=out / "redis.log")
        self.redis_port = redis_server.port
        self.redis_child = redis_server.process
        self.children.append(self.redis_child)
        redis_server.start()
        self.redis = Redis(self.redis_port)

        # dnsmasq with the records `hikyaku-sim dns-config` writes for the scenario.
        dns_conf = out / "sim-dns.conf"
        generated = subprocess.run([self.bins["hikyaku-sim"], "dns-config", self.sim_scenario_path],
                                   capture_output=True, text=True)
        if generated.returncode != 0:
            raise RuntimeError(f"hikyaku-sim dns-config failed: {generated.stderr.strip()}")
        dns_conf.write_text(generated.stdout)
        first_domain = next(iter(self.scenario.load["mix"]))
        dns = Dnsmasq(out, ["--cache-size=1000"], probe=first_domain, conf_file=dns_conf, log_queries=False,
                      port=free_port(udp=True))
        self.dns_port = dns.port
        self.dns_child = dns.process
        self.children.append(self.dns_child)
        dns.start()

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
        if self.api:
            self.api_port = free_port()
            base["api"] = {"plain_listen": [f"127.0.0.1:{self.api_port}"]}
            base["accounts"] = {"refresh_interval": "200ms"}
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
            relay = Relay(self.bins["hikyaku"], process["name"], process_config,
                          out / f"hikyaku-{process['name']}.yaml", process["role"],
                          out / f"hikyaku-{process['name']}.log")
            self.config_paths[process["name"]] = relay.config_path
            check_config(self.bins["hikyaku"], relay.config_path)
            child = relay.process
            child.name = f"hikyaku {process['name']}"
            child.short = process["name"]
            self.relays.append(child)
            self.children.append(child.start())
        wait_for(lambda: port_accepts(self.relay_port), timeout=60, interval=0.1, what="the relay's SMTP listener",
                 alive=lambda: all(c.alive() for c in self.relays))
        if self.api:
            config["api"]["plain_listen"] = base["api"]["plain_listen"]
            self._make_api_account()
        self.events = StreamReader(Redis(self.redis_port), EVENTS_STREAM)
        return ("127.0.0.1", self.relay_port)

    def _make_api_account(self):
        """`hikyaku account add` + `account api-key create` (rate high enough never to be the
        limit), then waits until the relay knows the key and its account:
        `GET /v1/messages/<unknown id>` answers 404 (401 before the key is stored, 403 until
        the relay's account directory has reloaded, every `accounts.refresh_interval`)."""
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        wait_for(lambda: port_accepts(self.api_port), timeout=60, interval=0.1, what="the relay's HTTP API",
                 alive=lambda: all(c.alive() for c in self.relays))
        config_path = next(iter(self.config_paths.values()))
        domain = self.scenario.load["from"].rpartition("@")[2]

        def hikyaku(*args: str) -> str:
            done = subprocess.run([self.bins["hikyaku"], *args, "--config", str(config_path)], capture_output=True,
                                  text=True, timeout=60, env=child_environment())
            if done.returncode != 0:
                raise RuntimeError(f"hikyaku {' '.join(args)}: {done.stdout}{done.stderr}")
            return done.stdout

        hikyaku("account", "add", "loadtest", "--domain", domain)
        self.api_key = hikyaku("account", "api-key", "create", "loadtest", "--scope", "send,read",
                               "--rate", "100000/s burst 100000").strip().splitlines()[-1]

        def known() -> bool:
            request = urllib.request.Request(f"{self.api_url}/v1/messages/loadtestprobe",
                                             headers={"Authorization": f"Bearer {self.api_key}"})
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError as error:
                return error.code == 404
            except OSError:
                return False
            return True

        wait_for(known, timeout=30, interval=0.2, what="the relay to load the API key")

    def fault_targets(self) -> dict[str, ManagedProcess]:
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
        for event in decode_stream_events(entries):
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
            "api_url": self.api_url,
            "processes": [{"name": c.name, "role": c.role, "argv": c.argv} for c in self.relays],
            "config_files": {k: str(v) for k, v in self.config_paths.items()},
            "config": self.config,
        }

    def extra(self) -> dict:
        top = sorted(self.reply_counts.items(), key=lambda kv: -kv[1])[:10]
        return {"events": dict(sorted(self.event_counts.items())),
                "deferral_and_bounce_replies": dict(top),
                "backoff_events_sample": self.backoff_events[:20]}
