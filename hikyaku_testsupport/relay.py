"""The relay under test: its configuration file (JSON, which is YAML), ``hikyaku
check-config`` and ``hikyaku redis acl``, and one ``hikyaku serve`` process."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

from .events import events_tail
from .ports import port_accepts
from .processes import ManagedProcess, child_environment
from .waiting import DEFAULT_TIMEOUT, wait_for


def deep_merge(base: dict, overrides: dict) -> dict:
    """``overrides`` over ``base``: mappings merge key by key, anything else replaces."""
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def write_config(path: Path, config: dict) -> Path:
    """Writes ``config`` as the relay's configuration file: JSON is YAML."""
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def check_config(hikyaku: str, path: Path, wrap=lambda argv: argv):
    """``hikyaku check-config --config PATH``; RuntimeError with its message if refused.
    ``wrap``: how to run it (e.g. in a network namespace)."""
    result = subprocess.run(wrap([hikyaku, "check-config", "--config", str(path)]), capture_output=True, text=True,
                            env=child_environment())
    if result.returncode != 0:
        raise RuntimeError(f"hikyaku check-config {path}: {(result.stderr or result.stdout).strip()}")


def acl_users(hikyaku: str, passwords: dict[str, str], key_prefix: str = "hk:", limits_key_prefix: str | None = None) -> str:
    """The ``user`` lines of ``hikyaku redis acl`` for ``{role: password}``."""
    stdin = "".join(f"{role}={password}\n" for role, password in passwords.items())
    limits = ["--limits-key-prefix", limits_key_prefix] if limits_key_prefix else []
    result = subprocess.run([hikyaku, "redis", "acl", "--passwords-from-stdin", "--key-prefix", key_prefix, *limits], input=stdin,
                            capture_output=True,
                            text=True, env=child_environment())
    if result.returncode != 0:
        raise RuntimeError(f"hikyaku redis acl: {result.stderr.strip()}")
    return result.stdout


def listener_ports(config: dict) -> dict[str, int]:
    """``{listener name: port}`` of a configuration's ingest listeners."""
    return {entry["name"]: int(entry["address"].rsplit(":", 1)[1]) for entry in config["ingest"]["listeners"]}


class Relay:
    """One ``hikyaku serve --config FILE --role ROLE`` process and its configuration file."""

    def __init__(self, hikyaku: str, name: str, config: dict, config_path: Path, role: str, log_path: Path):
        self.hikyaku = hikyaku
        self.name = name
        self.config = config
        self.config_path = write_config(config_path, config)
        self.role = role
        self.process = ManagedProcess(f"hikyaku {name} (--role {role})",
                                      [hikyaku, "serve", "--config", config_path, "--role", role], log_path, role=role)

    @property
    def ports(self) -> dict[str, int]:
        return listener_ports(self.config)

    @property
    def relay_port(self) -> int:
        return self.ports["relay"]

    @property
    def submission_port(self) -> int:
        return self.ports["submission"]

    @property
    def pid(self):
        return self.process.pid

    def start(self) -> "Relay":
        """Starts it; an ingest (or ``all``) process: waits until its listeners accept."""
        self.process.start()
        if self.role in ("ingest", "all"):
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = DEFAULT_TIMEOUT):
        wait_for(lambda: all(port_accepts(port) for port in self.ports.values()), timeout=timeout, interval=0.1,
                 what=f"{self.process.name} to accept SMTP connections", alive=self.process.alive)

    def stop(self, timeout: float = 15.0):
        return self.process.stop(timeout)

    def kill9(self):
        self.process.kill9()

    def restart(self):
        self.stop()
        self.start()

    def alive(self) -> bool:
        return self.process.alive()

    def events(self, message_id: str | None = None, recipient: str | None = None) -> list[dict]:
        """``hikyaku events tail --config FILE [...]``, parsed; oldest first."""
        return events_tail(self.hikyaku, self.config_path, message_id=message_id, recipient=recipient)
