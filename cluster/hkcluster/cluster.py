"""The cluster: hosts (network namespaces), their configuration files written from
cluster/templates, their processes, `up`, `down` and `status`.

Every process runs in its host's namespace through `ip netns exec`, in its own session,
with its output in var/cluster/hosts/<host>/<process>.log. `up` leaves them running and
writes var/cluster/state.json (pids and their start times, addresses, passwords), which
`status`, `run-load` and `down` read; `chaos` and `scale` bring a fresh cluster up and
down around each run in one invocation.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hikyaku_testsupport.dns import dns_query, dnsmasq_argv
from hikyaku_testsupport.ports import port_accepts
from hikyaku_testsupport.processes import ManagedProcess, child_environment
from hikyaku_testsupport.procfs import proc_start_time, read_proc_memory, read_proc_stat
from hikyaku_testsupport.redis_cluster import key_slot
from hikyaku_testsupport.relay import acl_users, check_config
from hikyaku_testsupport.resp import Redis, RedisError
from hikyaku_testsupport.waiting import ProcessDied, WaitTimeout, wait_for

from . import netns
from .redis import ClusterNodes, PrimaryRedis, Sentinels, SlotPrimaryRedis
from .tls import TLSFiles
from .topology import (BRIDGE, DNS_ADDRESS, METRICS_PORT, PREFIX, REDIS_PORT, SENTINEL_PORT, SMTP_PORT, Host,
                       Topology, relay_sites, sites)

HERE = Path(__file__).resolve().parent
CLUSTER_DIR = HERE.parent
REPO = CLUSTER_DIR.parent
TEMPLATES = CLUSTER_DIR / "templates"
DEFAULT_VAR = REPO / "var" / "cluster"
RELAY_STOP_SECONDS = 40
# The relay's Redis ACL users (`hikyaku redis acl`); replication and Sentinel have their own.
RELAY_ROLES = ("ingest", "worker", "admin")      # graceful shutdown finishes the batch in hand within 30 s


class ClusterError(Exception):
    pass


@dataclass
class Settings:
    """What a run may change; everything else is in the templates."""
    workers: int = 3
    replicas: int = 1                   # Redis replicas (2: hk-redis-c too); on a Redis Cluster per primary
    redis: str = "sentinel"             # or "cluster": a Redis Cluster of 3 primaries, no Sentinels
    claim_timeout: str = "10s"          # short, so fault tests see takeovers quickly (VMs: 2m)
    retry_schedule: list = field(default_factory=lambda: ["2s", "5s", "10s", "30s"])
    max_age: str = "1h"
    concurrency: int = 16
    log_level: str = "info"
    wait_replicas: int = 1
    down_after_ms: int = 2000           # Sentinel, or cluster-node-timeout: unreachable this long = down (VMs: 5000)
    failover_timeout_ms: int = 10000
    maxmemory: str = "2gb"


def render(template: str, values: dict) -> str:
    """A template from cluster/templates with its ${NAME} placeholders filled (every one
    must be given: a missing value is an error, not an empty string)."""
    text = (TEMPLATES / template).read_text()
    try:
        return string.Template(text).substitute({k: str(v) for k, v in values.items()})
    except KeyError as error:
        raise ClusterError(f"template {template}: no value for ${{{error.args[0]}}}") from None


def flow(value) -> str:
    """A value as YAML flow syntax (JSON is YAML)."""
    return json.dumps(value)


def http_get(url: str, timeout: float = 1.0) -> str | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return None


@dataclass
class Process:
    name: str           # redis-a, sentinel-1, ingest-1, worker-1, dnsmasq, sim
    host: str           # its namespace
    role: str
    argv: list          # the program and its arguments (run through ip netns exec)
    log: str

    def wrapped(self) -> list[str]:
        return netns.exec_argv(self.host, self.argv)


class Cluster:
    def __init__(self, var_dir: Path, bins: dict, settings: Settings, say=print):
        self.dir = Path(var_dir)
        self.bins = bins
        self.settings = settings
        self.topology = Topology(workers=settings.workers, replicas=settings.replicas, redis=settings.redis)
        self.say = say
        self.processes: dict[str, Process] = {}
        self.children: dict[str, ManagedProcess] = {}
        self.pids: dict[str, dict] = {}
        self.redis_password = ""
        self.sentinel_password = ""
        # Redis ACL users (README, "Redis TLS and ACL users"): relay roles, replica, sentinel -> password.
        self.acl_passwords: dict[str, str] = {}
        self.started_at = None
        self._tls_context = None

    # ------------------------------------------------------------------ paths and names

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def host_dir(self, host: str) -> Path:
        return self.dir / "hosts" / host

    @property
    def sim_records(self) -> Path:
        return self.host_dir("hk-sim") / "sim-records.jsonl"

    @property
    def sim_scenario_path(self) -> Path:
        return self.host_dir("hk-sim") / "sim-scenario.json"

    def host(self, name: str) -> Host:
        return self.topology.host(name)

    @property
    def tls(self) -> TLSFiles:
        """The CA and the Redis/Sentinel certificate: every Redis link is TLS."""
        return TLSFiles(self.dir / "tls")

    def tls_context(self):
        if self._tls_context is None:
            self._tls_context = self.tls.client_context()
        return self._tls_context

    def sentinels(self) -> Sentinels:
        return Sentinels(self.topology.sentinels(), self.sentinel_password, tls=self.tls_context())

    @property
    def key_prefix(self) -> str:
        return self.topology.key_prefix

    def key(self, name: str) -> str:
        """A relay key by its name under the prefix, e.g. key("events")."""
        return self.key_prefix + name

    def cluster_nodes(self) -> ClusterNodes:
        return ClusterNodes(self.topology.redis_nodes(), self.redis_password, tls=self.tls_context())

    def primary_redis(self) -> PrimaryRedis | SlotPrimaryRedis:
        """A connection to the primary holding the relays' keys, wherever it is now."""
        if self.topology.is_redis_cluster:
            return SlotPrimaryRedis(self.cluster_nodes(), self.key_prefix)
        return PrimaryRedis(self.sentinels(), self.redis_password)

    def host_at(self, address: str) -> Host:
        """The host with this IPv4 address (or address:port)."""
        address = address.split(":")[0]
        return next(h for h in self.topology.hosts() if address in h.addresses)

    def slot_primary(self, exclude: tuple[str, ...] = (), prefix: str | None = None) -> Host | None:
        """On a Redis Cluster: the node serving the relays' slot now (or ``prefix``'s, e.g.
        the limits prefix's; None while none does)."""
        owner = self.cluster_nodes().owner(key_slot(prefix or self.key_prefix), exclude=exclude)
        return self.host_at(owner) if owner else None

    def limits_primary(self, down: Host | None = None) -> Host | None:
        """On a Redis Cluster: the node serving the slot of the relays' limit keys now."""
        return self.slot_primary(exclude=(f"{down.address}:{REDIS_PORT}",) if down else (),
                                 prefix=self.topology.limits_key_prefix)

    def cluster_replicas_of(self, primary: Host) -> list[Host]:
        """On a Redis Cluster: the nodes that replicate ``primary``, as ``primary`` sees it."""
        rows = self.cluster_nodes().nodes(f"{primary.address}:{REDIS_PORT}")
        me = next((r["id"] for r in rows if "myself" in r["flags"]), None)
        return [self.host_at(r["address"]) for r in rows if r["primary_id"] == me and me
                and "fail" not in r["flags"]]

    def relays_primary(self, down: Host | None = None) -> Host | None:
        """The Redis node the relays write to now, on either topology: the primary the
        Sentinels name, or the node serving the relays' slot (asking the nodes other than
        ``down``). None while there is none."""
        if self.topology.is_redis_cluster:
            return self.slot_primary(exclude=(f"{down.address}:{REDIS_PORT}",) if down else ())
        address = self.sentinels().primary()
        return self.host_at(address) if address else None

    def replicas_of(self, primary: Host) -> list[Host]:
        """The nodes that can take over from ``primary``: its replicas on a Redis Cluster,
        every other Redis node with Sentinels."""
        if self.topology.is_redis_cluster:
            return self.cluster_replicas_of(primary)
        return [h for h in self.topology.by_role("redis") if h.name != primary.name]

    def cluster_settled(self) -> bool:
        """Every node of the Redis Cluster answers, says cluster_state:ok, and every replica
        is in sync with its primary."""
        nodes = self.cluster_nodes()
        for host in self.topology.by_role("redis"):
            if not nodes.state_ok(f"{host.address}:{REDIS_PORT}"):
                return False
            client = self.node_redis(host)
            try:
                info = client.info("replication")
            finally:
                client.close()
            if info.get("role") == "slave" and info.get("master_link_status") != "up":
                return False
            # A replica its primary does not list yet could not be chosen for a failover.
            if info.get("role") == "master" and len(self.cluster_replicas_of(host)) < self.topology.replicas:
                return False
        return True

    def node_redis(self, host: Host) -> Redis:
        return Redis(REDIS_PORT, host=host.address, timeout=2.0, password=self.redis_password,
                     tls=self.tls_context())

    def config_path(self, host: str) -> Path:
        return self.host_dir(host) / "hikyaku.yaml"

    # ------------------------------------------------------------------ configuration

    def _write_configs(self):
        t, s = self.topology, self.settings
        primary = t.primary_at_start()
        for host in t.hosts():
            self.host_dir(host.name).mkdir(parents=True, exist_ok=True)
        tls = self.tls
        tls.create([h.address for h in t.by_role("redis") + t.by_role("sentinel")])
        tls_files = {"TLS_CERT_FILE": tls.cert, "TLS_KEY_FILE": tls.key, "TLS_CA_FILE": tls.ca}
        common = {"SENTINELS": flow(t.sentinels()), "RELAY_SENTINEL_PASSWORD": self.acl_passwords["relay-sentinel"],
                  "LOG_LEVEL": s.log_level, "TLS_CA_FILE": tls.ca}
        acl_users = self._acl_users()
        for host in t.by_role("redis"):
            data = self.host_dir(host.name) / "data"
            data.mkdir(exist_ok=True)
            values = {"ADDRESS": host.address, "DATA_DIR": data, "REDIS_PASSWORD": self.redis_password,
                      "REPLICA_PASSWORD": self.acl_passwords["replica"], "MAXMEMORY": s.maxmemory,
                      "ACL_USERS": acl_users} | tls_files
            if t.is_redis_cluster:
                text = render("redis-cluster.conf", values | {"NODE_TIMEOUT_MS": s.down_after_ms})
            else:
                replicaof = "# primary at first start" if host.extra["primary"] else f"replicaof {primary.address} {REDIS_PORT}"
                text = render("redis.conf", values | {"REPLICAOF": replicaof})
            (self.host_dir(host.name) / "redis.conf").write_text(text)
        for host in t.by_role("sentinel"):
            (self.host_dir(host.name) / "sentinel.conf").write_text(render("sentinel.conf", {
                "ADDRESS": host.address, "DATA_DIR": self.host_dir(host.name), "PRIMARY": primary.address,
                "SENTINEL_USER_PASSWORD": self.acl_passwords["sentinel"], "SENTINEL_PASSWORD": self.sentinel_password,
                "RELAY_SENTINEL_PASSWORD_HASH": self._sha("relay-sentinel"),
                "DOWN_AFTER_MS": s.down_after_ms, "FAILOVER_TIMEOUT_MS": s.failover_timeout_ms} | tls_files))
        relay_networks = [f"{t.host('hk-client').address}/32"]
        for host in t.by_role("ingest"):
            self.config_path(host.name).write_text(self._redis_section(render("ingest.yaml", common | {
                "NODE_NAME": host.node_name, "LISTEN_ADDRESS": host.address, "RELAY_NETWORKS": flow(relay_networks),
                "INGEST_REDIS_PASSWORD": self.acl_passwords["ingest"],
                "WAIT_REPLICAS": s.wait_replicas, "METRICS_ADDRESS": f"{host.address}:{METRICS_PORT}"})))
        for host in t.by_role("worker"):
            self.config_path(host.name).write_text(self._redis_section(render("worker.yaml", common | {
                "NODE_NAME": host.node_name, "WORKER_REDIS_PASSWORD": self.acl_passwords["worker"],
                "EGRESS_1": host.addresses[0], "HELO_1": f"out{host.index}a.{host.node_name}",
                "EGRESS_2": host.addresses[1], "HELO_2": f"out{host.index}b.{host.node_name}",
                "DNS_SERVERS": flow([DNS_ADDRESS]), "CONCURRENCY": s.concurrency,
                "CLAIM_TIMEOUT": s.claim_timeout, "RETRY_SCHEDULE": flow(s.retry_schedule), "MAX_AGE": s.max_age,
                "SITES": flow(relay_sites()), "METRICS_ADDRESS": f"{host.address}:{METRICS_PORT}"})))
        sim = {"listen_port": SMTP_PORT, "sites": sites()}
        self.sim_scenario_path.write_text(json.dumps(sim, indent=2) + "\n")
        generated = subprocess.run([self.bins["hikyaku-sim"], "dns-config", self.sim_scenario_path],
                                   capture_output=True, text=True)
        if generated.returncode != 0:
            raise ClusterError(f"hikyaku-sim dns-config: {generated.stderr.strip()}")
        (self.host_dir("hk-sim") / "dnsmasq.conf").write_text(generated.stdout)

    def _redis_section(self, text: str) -> str:
        """A relay configuration written from the templates (which name the Sentinels) for a
        Redis Cluster instead: the four Sentinel lines become the nodes as seeds and the key
        prefix with the hash tag; the same edit an operator makes on a VM."""
        if not self.topology.is_redis_cluster:
            return text
        sentinel_lines = ("sentinels:", "master_name:", "sentinel_username:", "sentinel_password:")
        lines = text.splitlines()
        found = [i for i, line in enumerate(lines) if line.strip().startswith(sentinel_lines)]
        if len(found) != len(sentinel_lines):
            raise ClusterError("the relay templates' redis section changed: cannot rewrite it for a Redis Cluster")
        lines[found[0]:found[-1] + 1] = [
            f"  cluster: {flow(self.topology.redis_nodes())}   # seeds: the relay reads the slot map from them",
            f'  key_prefix: "{self.key_prefix}"   # a hash tag: every key of the relay in one slot',
            f'  limits_key_prefix: "{self.topology.limits_key_prefix}"   # the limits in a slot of their own: '
            'claims charge there, then take entries, then refund']
        lines = [line.replace("The Sentinels name the primary", "The cluster's slot map names the primary")
                 .replace("TLS to the Sentinels and the primary", "TLS to the cluster's nodes")
                 .replace("@sentinel-named-primary/", "@cluster/") for line in lines]
        return "\n".join(lines) + "\n"

    def _acl_users(self) -> str:
        """The relay roles' `user` lines for redis.conf, from `hikyaku redis acl` (only the
        passwords' SHA-256 end up in the file)."""
        try:
            relay_users = acl_users(self.bins["hikyaku"], {role: self.acl_passwords[role] for role in RELAY_ROLES},
                                    key_prefix=self.key_prefix, limits_key_prefix=self.topology.limits_key_prefix)
        except RuntimeError as error:
            raise ClusterError(str(error)) from None
        sha = self._sha
        replica = f"user hikyaku-replica on {sha('replica')} resetkeys resetchannels -@all +psync +replconf +ping"
        if self.topology.is_redis_cluster:
            return "\n".join([relay_users.strip(), replica])
        return "\n".join([relay_users.strip(), replica,
                          f"user hikyaku-sentinel on {sha('sentinel')} resetkeys allchannels -@all +multi +slaveof "
                          "+replicaof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname "
                          "+client|kill +script|kill"])

    def _sha(self, role: str) -> str:
        """An ACL password as Redis's `#<sha256>`, so the files hold no password."""
        return "#" + hashlib.sha256(self.acl_passwords[role].encode()).hexdigest()

    @property
    def admin_config_path(self) -> Path:
        """A configuration with the admin user's URL, for `hikyaku redis load-functions` and
        the operator commands (0600: it holds the admin password)."""
        return self.dir / "admin.yaml"

    def _write_admin_config(self):
        ingest = self.topology.by_role("ingest")[0]
        text = self.config_path(ingest.name).read_text().replace(
            f"hikyaku-ingest:{self.acl_passwords['ingest']}@", f"hikyaku-admin:{self.acl_passwords['admin']}@")
        self.admin_config_path.write_text(text)
        os.chmod(self.admin_config_path, 0o600)

    def load_functions(self):
        """Relay users may not load Redis functions: the admin user does, once, before they start."""
        ingest = self.topology.by_role("ingest")[0]
        result = subprocess.run(netns.exec_argv(ingest.name, [self.bins["hikyaku"], "redis", "load-functions",
                                                              "--config", str(self.admin_config_path)]),
                                capture_output=True, text=True, env=child_environment())
        if result.returncode != 0:
            raise ClusterError(f"hikyaku redis load-functions: {(result.stderr or result.stdout).strip()}")

    def _define_processes(self):
        t = self.topology
        procs: list[Process] = []
        sim_dir = self.host_dir("hk-sim")
        procs.append(Process("dnsmasq", "hk-sim", "dns", dnsmasq_argv(
            53, sim_dir / "dnsmasq.pid", ["--cache-size=1000"], listen=DNS_ADDRESS, conf_file=sim_dir / "dnsmasq.conf"),
            ""))
        procs.append(Process("sim", "hk-sim", "sim", [
            self.bins["hikyaku-sim"], "serve", "--scenario", self.sim_scenario_path, "--record", self.sim_records,
            "--stats-interval", "10"], ""))
        for host in t.by_role("redis"):
            procs.append(Process(host.short, host.name, "redis",
                                 ["redis-server", self.host_dir(host.name) / "redis.conf"], ""))
        for host in t.by_role("sentinel"):
            procs.append(Process(host.short.replace("sent", "sentinel"), host.name, "sentinel",
                                 ["redis-server", self.host_dir(host.name) / "sentinel.conf", "--sentinel"], ""))
        for host in t.by_role("ingest") + t.by_role("worker"):
            procs.append(Process(host.short, host.name, host.role, [
                self.bins["hikyaku"], "serve", "--config", self.config_path(host.name), "--role", host.role], ""))
        for p in procs:
            p.argv = [str(a) for a in p.argv]
            p.log = str(self.host_dir(p.host) / f"{p.name}.log")
            self.processes[p.name] = p

    def names(self, role: str | None = None) -> list[str]:
        return [n for n, p in self.processes.items() if role is None or p.role == role]

    # ------------------------------------------------------------------ processes

    def start(self, name: str):
        proc = self.processes[name]
        child = self.children.get(name)
        if child is None:
            child = ManagedProcess(name, proc.wrapped(), Path(proc.log), role=proc.role)
            child.short = name
            self.children[name] = child
        child.start()
        self.pids[name] = {"pid": child.pid, "start_time": proc_start_time(child.pid)}
        self.save()
        return child

    def pid(self, name: str) -> int | None:
        """The live pid of a process of ours, or None."""
        child = self.children.get(name)
        if child is not None:
            return child.pid if child.alive() else None
        record = self.pids.get(name)
        if not record:
            return None
        if proc_start_time(record["pid"]) != record["start_time"]:
            return None
        stat = read_proc_stat(record["pid"])
        return record["pid"] if stat and stat["state"] != "Z" else None

    def signal(self, name: str, sig: int) -> int | None:
        pid = self.pid(name)
        if pid is None:
            return None
        child = self.children.get(name)
        if child is not None:
            child.send_signal(sig)
        else:
            os.kill(pid, sig)
        return pid

    def wait_exit(self, name: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.pid(name) is not None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, name: str, timeout: float = 10.0):
        """SIGTERM (again every 2 s: Redis refuses one while it writes its first AOF after a
        full resync, "Writing initial AOF, can't exit"), then SIGKILL after `timeout` seconds."""
        if self.signal(name, signal.SIGTERM) is None:
            return
        deadline = time.monotonic() + timeout
        while not self.wait_exit(name, min(2.0, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
            self.signal(name, signal.SIGTERM)
        if self.pid(name) is not None:
            self.say(f"{name}: still running {timeout:.0f}s after SIGTERM; SIGKILL")
            self.signal(name, signal.SIGKILL)
            self.wait_exit(name, 10)

    def kill9(self, name: str) -> int | None:
        pid = self.signal(name, signal.SIGKILL)
        if pid is not None:
            self.wait_exit(name, 10)
        return pid

    # ------------------------------------------------------------------ readiness

    def wait(self, predicate, timeout: float, what: str, names: tuple = (), interval: float = 0.2):
        """``wait_for`` that gives up as soon as one of ``names`` has exited (with the end of its log)."""
        def ready():
            failure = None
            try:
                if predicate():
                    return True
            except Exception as error:  # noqa: BLE001 -- "not yet"; wait_for reports it on timeout
                failure = error
            for name in names:
                if self.pid(name) is None:
                    raise ProcessDied(f"{name} exited while waiting for {what}; last lines of "
                                      f"{self.processes[name].log}:\n{tail(self.processes[name].log)}")
            if failure is not None:
                raise failure
            return False
        try:
            wait_for(ready, timeout=timeout, interval=interval, what=what)
        except (ProcessDied, WaitTimeout) as error:
            raise ClusterError(str(error)) from None

    def redis_ready(self, host: Host) -> bool:
        client = self.node_redis(host)
        try:
            return client.ping() and client.info("persistence").get("loading") == "0"
        finally:
            client.close()

    def replica_linked(self, host: Host) -> bool:
        client = self.node_redis(host)
        try:
            info = client.info("replication")
            return info.get("role") == "slave" and info.get("master_link_status") == "up"
        finally:
            client.close()

    def redis_names(self) -> list[str]:
        return self.names("redis")

    def replica_names(self) -> list[str]:
        """The Redis processes that started as replicas (redis-b, redis-c; with Sentinels)."""
        return [n for n in self.names("redis") if n != "redis-a"]

    def sentinels_ready(self) -> bool:
        s = self.sentinels()
        for address in s.addresses:
            if s.primary_by(address) is None or s.replicas_known(address) < self.settings.replicas:
                return False
            if int(s.master_info(address).get("num-other-sentinels", 0)) < 2:
                return False
        return True

    def relay_ready(self, host: Host) -> bool:
        if http_get(f"http://{host.address}:{METRICS_PORT}/healthz") is None:
            return False
        return host.role != "ingest" or port_accepts(SMTP_PORT, host.address)

    def wait_ready(self, name: str, timeout: float = 60):
        proc = self.processes[name]
        host = self.host(proc.host)
        if proc.role == "redis":
            self.wait(lambda: self.redis_ready(host), timeout, f"{name} to answer", (name,))
        elif proc.role == "sentinel":
            self.wait(lambda: self.sentinels().primary_by(f"{host.address}:{SENTINEL_PORT}") is not None,
                      timeout, f"{name} to name a primary", (name,))
        elif proc.role == "dns":
            self.wait(lambda: dns_query(53, "bulk.sim", host=DNS_ADDRESS), timeout, "dnsmasq to answer",
                      (name,))
        elif proc.role == "sim":
            addresses = [a for site in sites() for a in site["addresses"]]
            self.wait(lambda: all(port_accepts(SMTP_PORT, a) for a in addresses), timeout,
                      "hikyaku-sim to listen on every site address", (name,))
        else:
            self.wait(lambda: self.relay_ready(host), timeout, f"{name} to be ready", (name,), interval=0.3)

    # ------------------------------------------------------------------ up / down

    def up(self):
        netns.preflight()
        if self.state_path.exists():
            self.state_path.unlink()
        shutil.rmtree(self.dir / "hosts", ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.redis_password = secrets.token_hex(16)
        self.sentinel_password = secrets.token_hex(16)
        self.acl_passwords = {role: secrets.token_hex(16) for role in RELAY_ROLES + ("replica", "sentinel", "relay-sentinel")}
        self.started_at = time.time()
        self._define_processes()
        self._write_configs()
        self._write_admin_config()
        t = self.topology
        try:
            netns.create(t.hosts())
            self.say(f"network: bridge {BRIDGE} {PREFIX}.1/24, {len(t.hosts())} hosts")
            self.save()
            for name in ("dnsmasq", "sim"):
                self.start(name)
            for name in ("dnsmasq", "sim"):
                self.wait_ready(name)
            if t.is_redis_cluster:
                self._start_redis_cluster()
            else:
                self._start_redis_with_sentinels()
            for name in self.names("ingest") + self.names("worker"):
                self.check_config(name)
            self.load_functions()
            for name in self.names("ingest") + self.names("worker"):
                self.start(name)
            for name in self.names("ingest") + self.names("worker"):
                self.wait_ready(name)
            self.say(f"relay: {len(self.names('ingest'))} ingest hosts, {len(self.names('worker'))} worker hosts ready")
        except BaseException:
            self.say("up failed; taking everything down again")
            self.down(quiet=True)
            raise
        self.save()

    def _start_redis_with_sentinels(self):
        t = self.topology
        self.start("redis-a")
        self.wait_ready("redis-a")
        for name in self.replica_names():
            self.start(name)
            self.wait_ready(name)
            self.wait(lambda n=name: self.replica_linked(t.host("hk-" + n)), 60, f"{name} to sync", (name,))
        for name in self.names("sentinel"):
            self.start(name)
        self.wait(self.sentinels_ready, 60, "the Sentinels to know the replica and each other",
                  tuple(self.names("sentinel")), interval=0.5)
        self.say(f"redis: primary hk-redis-a, replica(s) {', '.join('hk-' + n for n in self.replica_names())} "
                 "in sync, 3 Sentinels agree; TLS on every link, an ACL user per relay role")

    def _start_redis_cluster(self):
        """Every node started empty, then `redis-cli --cluster create` (from this machine,
        over TLS as the superuser) makes the first three primaries and gives each replicas."""
        t = self.topology
        for name in self.names("redis"):
            self.start(name)
        for name in self.names("redis"):
            self.wait_ready(name)
        created = subprocess.run(
            ["redis-cli", "--tls", "--cacert", str(self.tls.ca), "-a", self.redis_password, "--no-auth-warning",
             "--cluster", "create", *t.redis_nodes(), "--cluster-replicas", str(t.replicas), "--cluster-yes"],
            capture_output=True, text=True, timeout=120)
        if created.returncode != 0 or "[OK] All 16384 slots covered" not in created.stdout:
            raise ClusterError(f"redis-cli --cluster create failed:\n{created.stdout[-2000:]}\n{created.stderr[-2000:]}")
        self.wait(self.cluster_settled, 90, "every cluster node to say cluster_state:ok and every replica to sync",
                  tuple(self.names("redis")), interval=0.5)
        home = self.slot_primary()
        if home is None:
            raise ClusterError(f"no node serves slot {key_slot(self.key_prefix)} after the cluster was created")
        replicas = ", ".join(h.name for h in self.cluster_replicas_of(home))
        limits = self.limits_primary()
        if limits is None or limits.name == home.name:
            raise ClusterError(f"the limits' slot {key_slot(t.limits_key_prefix)} is not on another primary than the relays' "
                               f"slot ({home.name}): the cluster did not spread its slots as redis-cli --cluster create does")
        self.say(f"redis: a Redis Cluster of {len(t.by_role('redis'))} nodes ({len(t.by_role('redis')) // (1 + t.replicas)} "
                 f"primaries); the relays' slot {key_slot(self.key_prefix)} (prefix {self.key_prefix}) on {home.name}, "
                 f"replica(s) {replicas}; their limits' slot {key_slot(t.limits_key_prefix)} "
                 f"(prefix {t.limits_key_prefix}) on {limits.name}; TLS on every link and the cluster bus, an ACL user per "
                 "relay role")

    def check_config(self, name: str):
        proc = self.processes[name]
        try:
            check_config(self.bins["hikyaku"], self.config_path(proc.host),
                         wrap=lambda argv: netns.exec_argv(proc.host, argv))
        except RuntimeError as error:
            raise ClusterError(f"{name}: {error}") from None

    def down(self, quiet: bool = False) -> list[str]:
        """Relay processes stopped gracefully (workers finish their batches), then the rest;
        then whatever still runs in our namespaces; then the network. Leaves nothing."""
        done = []
        redis = self.names("redis") if self.topology.is_redis_cluster else self.replica_names() + ["redis-a"]
        order = self.names("ingest") + self.names("worker") + self.names("sentinel") + redis + ["sim", "dnsmasq"]
        relay = [n for n in self.names("ingest") + self.names("worker") if self.pid(n)]
        for name in relay:
            self.signal(name, signal.SIGTERM)
        deadline = time.monotonic() + RELAY_STOP_SECONDS
        for name in relay:
            if not self.wait_exit(name, max(0.1, deadline - time.monotonic())):
                self.signal(name, signal.SIGKILL)
                self.wait_exit(name, 5)
                done.append(f"SIGKILL to {name} (still running {RELAY_STOP_SECONDS}s after SIGTERM)")
            else:
                done.append(f"stopped {name}")
        for name in order:
            if name in self.processes and name not in relay and self.pid(name):
                self.stop(name, timeout=10)
                done.append(f"stopped {name}")
        done += netns.destroy()
        for child in self.children.values():
            child.alive()  # reap
        if self.state_path.exists():
            self.state_path.unlink()
        # Redis data holds message bodies: not kept after down.
        for host in self.topology.by_role("redis"):
            shutil.rmtree(self.host_dir(host.name) / "data", ignore_errors=True)
        if not quiet:
            for line in done:
                self.say(line)
        return done

    # ------------------------------------------------------------------ state

    def save(self):
        state = {
            "started_at": self.started_at,
            "bins": self.bins,
            "settings": asdict(self.settings),
            "redis_password": self.redis_password,
            "sentinel_password": self.sentinel_password,
            "acl_passwords": self.acl_passwords,
            "processes": {n: asdict(p) for n, p in self.processes.items()},
            "pids": self.pids,
        }
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(self.state_path)

    @classmethod
    def load(cls, var_dir: Path, say=print) -> "Cluster | None":
        path = Path(var_dir) / "state.json"
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        cluster = cls(var_dir, state["bins"], Settings(**state["settings"]), say=say)
        cluster.started_at = state["started_at"]
        cluster.redis_password = state["redis_password"]
        cluster.sentinel_password = state["sentinel_password"]
        cluster.acl_passwords = state.get("acl_passwords", {})
        cluster.processes = {n: Process(**p) for n, p in state["processes"].items()}
        cluster.pids = state["pids"]
        return cluster

    # ------------------------------------------------------------------ status

    def redis_role(self, host: Host) -> str:
        client = self.node_redis(host)
        try:
            info = client.info("replication")
        except (OSError, EOFError, RedisError) as error:
            return f"unreachable ({type(error).__name__})"
        finally:
            client.close()
        if info.get("role") == "master":
            return f"primary, {info.get('connected_slaves', '0')} replica(s) connected"
        return f"replica of {info.get('master_host')} (link {info.get('master_link_status')})"

    def queue_summary(self) -> dict:
        client = self.primary_redis()
        try:
            depth = int(client.call("GET", self.key("depth:default")) or 0)
            ready = client.call("ZCARD", self.key("ready:default"))
            deferred = client.call("ZCARD", self.key("deferred"))
            events = client.call("XLEN", self.key("events"))
            return {"depth": depth, "ready_destinations": ready, "deferred": deferred, "events": events}
        except (OSError, EOFError, RedisError) as error:
            return {"error": f"{type(error).__name__}: {error}"}
        finally:
            client.close()

    def status_text(self) -> str:
        lines = [f"cluster up since {time.strftime('%H:%M:%S', time.localtime(self.started_at))}; "
                 f"state {self.state_path}", ""]
        lines.append(f"{'HOST':12} {'ADDRESSES':25} {'LINK':6} {'PROCESS':11} {'PID':>7} {'CPU-s':>7} {'RSS-MiB':>8}  ROLE")
        for host in self.topology.hosts():
            procs = [p for p in self.processes.values() if p.host == host.name] or [None]
            for index, proc in enumerate(procs):
                first = index == 0
                row = f"{host.name if first else '':12} {(','.join(a.removeprefix(PREFIX) for a in host.addresses) if first else ''):25} " \
                      f"{(netns.link_state(host) if first else ''):6} "
                if proc is None:
                    lines.append(row + "(load generator runs here)")
                    continue
                pid = self.pid(proc.name)
                stat = read_proc_stat(pid) if pid else None
                memory = read_proc_memory(pid) if pid else None
                cpu = f"{stat['utime'] + stat['stime']:.1f}" if stat else "-"
                rss = f"{memory.get('VmRSS', 0) / 1024:.0f}" if memory else "-"
                note = ""
                if proc.role == "redis" and pid:
                    note = self.redis_role(host)
                elif proc.role == "sentinel" and pid:
                    note = f"says primary is {self.sentinels().primary_by(f'{host.address}:{SENTINEL_PORT}')}"
                elif proc.role in ("ingest", "worker") and pid:
                    note = "healthy" if self.relay_ready(host) else "not answering /healthz"
                lines.append(row + f"{proc.name:11} {pid or 'DOWN':>7} {cpu:>7} {rss:>8}  {note}")
        lines.append("")
        if self.topology.is_redis_cluster:
            home, limits = self.slot_primary(), self.limits_primary()
            lines.append(f"Redis Cluster: the relays' slot {key_slot(self.key_prefix)} (prefix {self.key_prefix}) on "
                         f"{home.name if home else 'no node (failing over?)'}; their limits' slot "
                         f"{key_slot(self.topology.limits_key_prefix)} on {limits.name if limits else 'no node (failing over?)'}")
        else:
            views = self.sentinels().views()
            agreed = {v for v in views.values() if v}
            lines.append(f"Sentinels: primary {', '.join(sorted(agreed)) or 'unknown'} "
                         f"({sum(1 for v in views.values() if v)}/{len(views)} answering"
                         f"{', DISAGREE' if len(agreed) > 1 else ''})")
        lines.append("Queue: " + ", ".join(f"{k} {v}" for k, v in self.queue_summary().items()))
        lines.append(f"Ingest: SMTP on {', '.join(self.topology.ingest_servers())} (relay for {PREFIX}.200); "
                     f"simulator MX sites {', '.join(s['name'] for s in sites())}; DNS {DNS_ADDRESS}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ metrics

    def metric(self, name: str, metric: str) -> float | None:
        """The sum of a Prometheus metric's samples on one relay host."""
        host = self.host(self.processes[name].host)
        text = http_get(f"http://{host.address}:{METRICS_PORT}/metrics", timeout=2)
        if text is None:
            return None
        total = 0.0
        for line in text.splitlines():
            if line.startswith(metric + " ") or line.startswith(metric + "{"):
                try:
                    total += float(line.rsplit(" ", 1)[1])
                except ValueError:
                    pass
        return total

    def usage(self) -> dict:
        return {name: child.usage() for name, child in self.children.items()}


def tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"
