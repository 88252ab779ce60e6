"""Scenario files (load-tests/scenarios/*.json): what to send, how the receiving sites
behave, how the relay is configured and run, and which faults to inject.

```json
{
  "name": "worker-crash",
  "description": "free text, printed in the summary",
  "load": {"messages": 10000, "size": 1024, "connections": 20, "rate": 0,
           "per_connection": 500, "users": 1000, "mix": {"bulk.sim": 1}},
  "simulator": {"sites": [ ...hikyaku-sim sites, see load-tests/README.md... ]},
  "relay": {
    "processes": [{"role": "ingest"}, {"role": "worker"}, {"role": "worker"}],
    "egress": [{"address": "127.0.0.2", "helo": "out1.relay.test"}],
    "config": {"delivery": {"concurrency": 32}}
  },
  "faults": [{"at_seconds": 8, "kill": "worker", "signal": "KILL", "restart_after_seconds": 2}],
  "timeout_seconds": 600,
  "settle_seconds": 30,
  "expect": {"missing": 0},
  "variants": [{"name": "unshaped", "relay": {"config": {...}}}],
  "peer": {"postfix": {"main_cf": {"default_destination_concurrency_limit": 50}}},
  "smoke": { ...deep-merged over the scenario with --smoke... }
}
```
Unknown keys are refused, so a misspelt key fails loudly.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hikyaku_testsupport.relay import deep_merge

TOP_KEYS = {"name", "description", "load", "simulator", "relay", "faults", "timeout_seconds", "settle_seconds",
            "expect", "variants", "peer", "smoke"}
LOAD_KEYS = {"messages", "size", "connections", "rate", "per_connection", "users", "mix", "from"}
RELAY_KEYS = {"processes", "egress", "config"}
PROCESS_KEYS = {"role", "name", "config"}
FAULT_KEYS = {"at_seconds", "kill", "signal", "restart_after_seconds"}
EXPECT_KEYS = {"missing", "duplicates_max", "limit_violations_max", "bounced_max", "fewer_limit_refusals_than"}
VARIANT_KEYS = {"name", "description", "relay", "expect"}
SIGNALS = {"KILL", "TERM", "INT", "STOP", "CONT"}


class ScenarioError(Exception):
    pass


def _check_keys(obj, allowed: set, where: str):
    if not isinstance(obj, dict):
        raise ScenarioError(f"{where}: expected an object")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _number(obj: dict, key: str, where: str, minimum: float = 0, integer: bool = False, default=None):
    value = obj.get(key, default)
    if value is None:
        raise ScenarioError(f"{where}.{key}: missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ScenarioError(f"{where}.{key}: expected {'an integer' if integer else 'a number'}, got {value!r}")
    if value < minimum:
        raise ScenarioError(f"{where}.{key}: must be at least {minimum}")
    return value


class Scenario:
    def __init__(self, path: Path, data: dict, smoke: bool = False):
        self.path = Path(path)
        self.raw = data
        _check_keys(data, TOP_KEYS, "scenario")
        if smoke and "smoke" in data:
            data = deep_merge({k: v for k, v in data.items() if k != "smoke"}, data["smoke"])
            _check_keys(data, TOP_KEYS, "scenario (with smoke overrides)")
        self.data = data
        self.smoke = smoke
        self.name = data.get("name") or self.path.stem
        self.description = data.get("description", "")

        load = data.get("load")
        _check_keys(load, LOAD_KEYS, "load")
        self.load = {
            "messages": _number(load, "messages", "load", 1, True),
            "size": _number(load, "size", "load", 200, True, 1024),
            "connections": _number(load, "connections", "load", 1, True, 20),
            "rate": _number(load, "rate", "load", 0, False, 0),
            "per_connection": _number(load, "per_connection", "load", 1, True, 100),
            "users": _number(load, "users", "load", 1, True, 1000),
            "mix": load.get("mix"),
            "from": load.get("from", "loadtest@hikyaku-load.test"),
        }
        mix = self.load["mix"]
        if not isinstance(mix, dict) or not mix:
            raise ScenarioError("load.mix: expected an object of domain: weight")
        for domain, weight in mix.items():
            if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
                raise ScenarioError(f"load.mix.{domain}: weight must be a positive integer")

        sim = data.get("simulator")
        if not isinstance(sim, dict) or not isinstance(sim.get("sites"), list) or not sim["sites"]:
            raise ScenarioError("simulator.sites: expected a non-empty list of hikyaku-sim sites")
        _check_keys(sim, {"sites", "tls", "listen_port"}, "simulator")
        self.simulator = copy.deepcopy(sim)
        sim_domains = {d.lower() for site in sim["sites"] for d in site.get("domains", [])}
        for domain in mix:
            if domain.lower() not in sim_domains:
                raise ScenarioError(f"load.mix: {domain} is not a domain of any simulator site")
        if "tls" in self.simulator:
            for key in ("certificate", "private_key"):
                value = self.simulator["tls"].get(key)
                if value and not Path(value).is_absolute():
                    self.simulator["tls"][key] = str((self.path.parent / value).resolve())

        relay = data.get("relay", {})
        _check_keys(relay, RELAY_KEYS, "relay")
        self.relay_config = relay.get("config", {})
        if not isinstance(self.relay_config, dict):
            raise ScenarioError("relay.config: expected an object (hikyaku configuration keys)")
        self.egress = relay.get("egress", [])
        if not isinstance(self.egress, list):
            raise ScenarioError("relay.egress: expected a list of {address, helo, pool, weight}")
        processes = relay.get("processes", [{"role": "all"}])
        if not isinstance(processes, list) or not processes:
            raise ScenarioError("relay.processes: expected a non-empty list")
        roles = []
        for index, process in enumerate(processes):
            _check_keys(process, PROCESS_KEYS, f"relay.processes[{index}]")
            if process.get("role") not in ("all", "ingest", "worker"):
                raise ScenarioError(f"relay.processes[{index}].role: must be all, ingest or worker")
            roles.append(process["role"])
        if sum(1 for r in roles if r in ("all", "ingest")) != 1:
            raise ScenarioError("relay.processes: exactly one process must have role all or ingest")
        if "worker" not in roles and "all" not in roles:
            raise ScenarioError("relay.processes: no process delivers (role worker or all)")
        counts: dict[str, int] = {}
        self.processes = []
        for process in processes:
            role = process["role"]
            counts[role] = counts.get(role, 0) + 1
            self.processes.append({"role": role, "config": process.get("config", {}), "name": process.get("name")})
        seen: dict[str, int] = {}
        for process in self.processes:
            if not process["name"]:
                role = process["role"]
                seen[role] = seen.get(role, 0) + 1
                base = "relay" if role == "all" else role
                process["name"] = base if counts[role] == 1 else f"{base}-{seen[role]}"

        self.faults = []
        for index, fault in enumerate(data.get("faults", [])):
            where = f"faults[{index}]"
            _check_keys(fault, FAULT_KEYS, where)
            _number(fault, "at_seconds", where)
            if not isinstance(fault.get("kill"), str):
                raise ScenarioError(f"{where}.kill: name the process (e.g. worker, worker-2, ingest, relay, redis)")
            signal_name = str(fault.get("signal", "KILL")).upper().removeprefix("SIG")
            if signal_name not in SIGNALS:
                raise ScenarioError(f"{where}.signal: one of {', '.join(sorted(SIGNALS))}")
            restart = fault.get("restart_after_seconds")
            if restart is not None:
                _number(fault, "restart_after_seconds", where)
            self.faults.append({"at_seconds": fault["at_seconds"], "kill": fault["kill"], "signal": signal_name,
                                "restart_after_seconds": restart})

        self.timeout_seconds = _number(data, "timeout_seconds", "scenario", 1, False, 600)
        self.settle_seconds = _number(data, "settle_seconds", "scenario", 0, False, 30)
        self.expect = data.get("expect", {"missing": 0})
        _check_keys(self.expect, EXPECT_KEYS, "expect")

        self.variants = []
        for index, variant in enumerate(data.get("variants", [])):
            _check_keys(variant, VARIANT_KEYS, f"variants[{index}]")
            if not variant.get("name"):
                raise ScenarioError(f"variants[{index}].name: missing")
            relay_over = variant.get("relay", {})
            _check_keys(relay_over, {"config", "egress"}, f"variants[{index}].relay")
            self.variants.append(variant)

        self.peer = data.get("peer", {})
        _check_keys(self.peer, {"postfix"}, "peer")

    @classmethod
    def load_file(cls, path: str | Path, smoke: bool = False) -> "Scenario":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise ScenarioError(f"cannot read {path}: {error}") from error
        except json.JSONDecodeError as error:
            raise ScenarioError(f"{path}: not valid JSON: {error}") from error
        return cls(path, data, smoke=smoke)

    # ------------------------------------------------------------------ derived

    def mix_argument(self) -> str:
        return ",".join(f"{domain}={weight}" for domain, weight in self.load["mix"].items())

    def simulator_scenario(self, port: int) -> dict:
        sim = copy.deepcopy(self.simulator)
        sim["listen_port"] = port
        return sim

    def site_addresses(self) -> list[str]:
        return [a for site in self.simulator["sites"] for a in site["addresses"]]

    def domain_addresses(self) -> dict[str, list[str]]:
        """Each simulated domain and its site's addresses (for static routes, e.g. Postfix)."""
        return {d.lower(): list(site["addresses"]) for site in self.simulator["sites"] for d in site["domains"]}

    def site_of_domain(self) -> dict[str, str]:
        return {d.lower(): site["name"] for site in self.simulator["sites"] for d in site["domains"]}

    def sim_rate_limits(self) -> dict[str, dict]:
        """Per simulated site: its per-IP rate rule, if any (for the report)."""
        limits = {}
        for site in self.simulator["sites"]:
            rule = site.get("behaviours", {}).get("per_ip_rate")
            if rule:
                limits[site["name"]] = {"count": rule["count"], "period_seconds": rule["period_seconds"]}
        return limits
