"""A Redis Cluster on 127.0.0.1 (issue 17): three primaries and three replicas, each a
durable redis-server (AOF, ``appendfsync always``) with ``--cluster-enabled yes``, joined
with ``redis-cli --cluster create … --cluster-replicas 1``; optionally TLS-only (clients,
cluster bus and replication, a test CA). The tests provoke what a
cluster does in production: a primary killed with SIGKILL (its replica promoted, the old
primary back as a replica), and a slot moved to another primary while mail flows
(``CLUSTER SETSLOT … MIGRATING/IMPORTING``, ``MIGRATE``, ``SETSLOT … NODE`` — what
``redis-cli --cluster reshard`` does, for exactly the slot the relay uses)."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .certs import issue_cert, make_ca
from .ports import _bindable
from .processes import ManagedProcess
from .waiting import wait_for

NODE_TIMEOUT_MS = 1000


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM, as Redis Cluster hashes keys."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    """The hash slot of ``key`` (its ``{hash tag}`` when it has a non-empty one)."""
    data = key.encode()
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    return crc16(data) % 16384


@dataclass
class ClusterTLS:
    """TLS for every node, between the nodes too (``tls-cluster``, ``tls-replication``):
    the test CA and one certificate for 127.0.0.1."""
    ca: Path
    cert: Path
    key: Path

    def cli_args(self) -> list[str]:
        return ["--tls", "--cacert", str(self.ca)]


class ClusterNode:
    def __init__(self, directory: Path, port: int, tls: ClusterTLS | None = None):
        self.port = port
        self.directory = directory
        self.tls = tls
        directory.mkdir(parents=True, exist_ok=True)
        listen = ["--port", port] if tls is None else \
            ["--port", 0, "--tls-port", port, "--tls-cluster", "yes", "--tls-replication", "yes",
             "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca,
             "--tls-auth-clients", "no"]
        self.process = ManagedProcess(
            f"redis-server (cluster{', TLS' if tls else ''}) :{port}",
            ["redis-server", *listen, "--bind", "127.0.0.1", "--dir", directory, "--cluster-enabled", "yes",
             "--cluster-config-file", directory / "nodes.conf", "--cluster-node-timeout", NODE_TIMEOUT_MS,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            directory / "redis.log", role="redis")

    def start(self) -> "ClusterNode":
        self.process.start()
        wait_for(lambda: self.cli("PING") == "PONG", timeout=20, interval=0.05,
                 what=f"{self.process.name} to answer PING", alive=self.process.alive)
        return self

    def cli(self, *args) -> str:
        extra = self.tls.cli_args() if self.tls else []
        return subprocess.run(["redis-cli", *extra, "-p", str(self.port), *[str(a) for a in args]],
                              capture_output=True, text=True, timeout=10).stdout.strip()

    @property
    def node_id(self) -> str:
        return self.cli("CLUSTER", "MYID")

    def is_primary(self) -> bool:
        return "role:master" in self.cli("INFO", "replication")


@dataclass
class RedisCluster:
    nodes: list[ClusterNode]
    directory: Path
    events: list[str] = field(default_factory=list)
    tls: ClusterTLS | None = None

    @property
    def seeds(self) -> list[str]:
        return [f"127.0.0.1:{node.port}" for node in self.nodes]

    def redis_config(self, key_prefix: str, **extra) -> dict:
        """The relay's ``redis`` section: the cluster's nodes as seeds (with TLS: a
        ``rediss://`` URL for the credentials-less default user and the test CA)."""
        config = {"url": None, "cluster": self.seeds[:3], "key_prefix": key_prefix}
        if self.tls:
            config.update({"url": "rediss://cluster/0", "tls": {"ca_file": str(self.tls.ca)}})
        return {**config, **extra}

    def prefix_on_another_primary(self, key_prefix: str, stem: str = "hk:{lim") -> str:
        """A prefix ``<stem>N}:`` whose slot another primary serves than ``key_prefix``'s."""
        home = self.primary_port_for_slot(key_slot(key_prefix))
        return next(f"{stem}{n}}}:" for n in range(1, 500)
                    if self.primary_port_for_slot(key_slot(f"{stem}{n}}}:")) != home)

    def node(self, port: int) -> ClusterNode:
        return next(node for node in self.nodes if node.port == port)

    def primary_port_for_slot(self, slot: int, asking: ClusterNode | None = None) -> int:
        """The port of the primary serving ``slot``, by ``CLUSTER SLOTS`` of a live node."""
        for node in ([asking] if asking else []) + [n for n in self.nodes if n.process.alive()]:
            lines = node.cli("CLUSTER", "SLOTS").splitlines()
            # redis-cli prints each range's fields on their own lines: start, end, host, port, id, …
            index = 0
            while index + 3 < len(lines):
                if lines[index].isdigit() and lines[index + 1].isdigit():
                    start, end = int(lines[index]), int(lines[index + 1])
                    if start <= slot <= end and lines[index + 3].isdigit():
                        return int(lines[index + 3])
                index += 1
        raise AssertionError(f"no primary serves slot {slot}")

    def primaries(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.process.alive() and node.is_primary()]

    def wait_ok(self, timeout: float = 60):
        wait_for(lambda: all("cluster_state:ok" in node.cli("CLUSTER", "INFO")
                             for node in self.nodes if node.process.alive()),
                 timeout=timeout, interval=0.2, what="every cluster node to report cluster_state:ok")

    def kill_primary_of(self, slot: int) -> dict:
        """SIGKILLs the primary serving ``slot``, waits until its replica serves it, then starts
        the old primary again (same data, same nodes.conf) and waits until it is a synced
        replica. Returns the ports and the times of each step."""
        old = self.node(self.primary_port_for_slot(slot))
        killed_at = time.time()
        old.process.kill9()
        self.events.append(f"killed primary :{old.port} of slot {slot}")
        new_port = wait_for(lambda: (p := self._live_primary_for(slot)) not in (None, old.port) and p,
                            timeout=60, interval=0.1, what=f"a replica to be promoted for slot {slot}")
        promoted_at = time.time()
        self.events.append(f"replica :{new_port} promoted after {promoted_at - killed_at:.1f}s")
        old.start()
        wait_for(lambda: "role:slave" in old.cli("INFO", "replication")
                 and "master_link_status:up" in old.cli("INFO", "replication"),
                 timeout=60, interval=0.2, what=f"the old primary :{old.port} to rejoin as a synced replica")
        rejoined_at = time.time()
        self.wait_ok()
        return {"old_port": old.port, "new_port": new_port, "killed_at": killed_at, "promoted_at": promoted_at,
                "rejoined_at": rejoined_at}

    def _live_primary_for(self, slot: int) -> int | None:
        try:
            port = self.primary_port_for_slot(slot)
        except AssertionError:
            return None
        node = self.node(port)
        return port if node.process.alive() else None

    def move_slot(self, slot: int, to_port: int, keys_per_batch: int = 10, pause: float = 0.05) -> int:
        """Moves ``slot`` to the primary on ``to_port`` while clients keep using it, the way
        ``redis-cli --cluster reshard`` moves each slot: the target IMPORTING, the source
        MIGRATING (clients get ASK for keys already moved), the keys MIGRATEd a few at a time
        (slowly, so requests meet the migration), then the slot assigned to the target on
        every primary (clients get MOVED). Returns how many keys moved."""
        source = self.node(self.primary_port_for_slot(slot))
        target = self.node(to_port)
        assert source.port != target.port
        source_id, target_id = source.node_id, target.node_id
        assert target.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id) == "OK"
        assert source.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id) == "OK"
        moved = 0
        while True:
            keys = [k for k in source.cli("CLUSTER", "GETKEYSINSLOT", slot, keys_per_batch).splitlines() if k]
            if not keys:
                break
            out = source.cli("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
            assert out in ("OK", "NOKEY"), out
            moved += len(keys)
            time.sleep(pause)
        for node in self.primaries():
            node.cli("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        self.events.append(f"moved slot {slot} from :{source.port} to :{target.port} ({moved} keys)")
        self.wait_ok()
        return moved

    def add_acl_users(self, acl_lines: str):
        """Adds the ``user …`` lines of ``hikyaku redis acl`` to every node (``ACL SETUSER``;
        the ``default`` user stays, for the harness's own redis-cli)."""
        for line in acl_lines.splitlines():
            words = line.split()
            if len(words) < 2 or words[0] != "user":
                continue
            for node in self.nodes:
                out = node.cli("ACL", "SETUSER", *words[1:])
                assert out == "OK", (line, out)

    def stop(self):
        for node in self.nodes:
            node.process.stop()


def cluster_ports(count: int) -> list[int]:
    """Ports P free on 127.0.0.1 with P + 10000 free too (each node's cluster bus), below
    the kernel's ephemeral range so no outgoing connection takes one meanwhile."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20000, 22000)
        if port not in ports and _bindable("127.0.0.1", port, socket.SOCK_STREAM) \
                and _bindable("127.0.0.1", port + 10000, socket.SOCK_STREAM):
            ports.append(port)
    return ports


def start_redis_cluster(directory: Path, primaries: int = 3, replicas_per_primary: int = 1,
                        tls: bool = False) -> RedisCluster:
    count = primaries * (1 + replicas_per_primary)
    ports = cluster_ports(count)
    cluster_tls = None
    if tls:
        directory.mkdir(parents=True, exist_ok=True)
        ca = make_ca(directory, "redis-cluster")
        cert, key = issue_cert(directory, "redis-node", ca, "DNS:redis.test,IP:127.0.0.1")
        cluster_tls = ClusterTLS(ca[0], cert, key)
    nodes = [ClusterNode(directory / f"node-{port}", port, cluster_tls).start() for port in ports]
    cluster = RedisCluster(nodes, directory, tls=cluster_tls)
    try:
        out = subprocess.run(
            ["redis-cli", *(cluster_tls.cli_args() if cluster_tls else []), "--cluster", "create",
             *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas",
             str(replicas_per_primary), "--cluster-yes"], capture_output=True, text=True, timeout=60)
        if out.returncode != 0 or "[OK] All 16384 slots covered" not in out.stdout:
            raise AssertionError(f"redis-cli --cluster create failed:\n{out.stdout}\n{out.stderr}")
        cluster.wait_ok()
        # Replicas must have synced before a failover can promote one.
        wait_for(lambda: all("master_link_status:up" in n.cli("INFO", "replication")
                             for n in nodes if not n.is_primary()),
                 timeout=60, interval=0.2, what="every replica to sync with its primary")
    except BaseException:
        cluster.stop()
        raise
    return cluster
