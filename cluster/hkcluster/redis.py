"""Talking to the cluster's Redis from this machine (through the bridge): over TLS, with a
password, and to whichever node is the primary right now — the one the Sentinels name, or
on a Redis Cluster the one serving the slot of the relays' hash tag."""

from __future__ import annotations

import ssl

from hikyaku_testsupport.redis_cluster import key_slot
from hikyaku_testsupport.resp import Redis, RedisError

from .topology import MASTER_NAME, REDIS_PORT


def pairs(reply) -> dict[str, str]:
    """A flat [key, value, key, value, …] reply (SENTINEL master, …) as a dict."""
    if not isinstance(reply, list):
        return {}
    return {reply[i].decode(): (reply[i + 1].decode() if isinstance(reply[i + 1], bytes) else reply[i + 1])
            for i in range(0, len(reply) - 1, 2)}


class Sentinels:
    def __init__(self, addresses: list[str], password: str | None, tls: ssl.SSLContext | None = None):
        self.addresses = addresses
        self.password = password
        self.tls = tls

    def client(self, address: str) -> Redis:
        host, port = address.rsplit(":", 1)
        return Redis(int(port), host=host, timeout=2.0, password=self.password, tls=self.tls)

    def primary_by(self, address: str) -> str | None:
        """What one Sentinel says the primary is (host), or None."""
        client = self.client(address)
        try:
            reply = client.call("SENTINEL", "get-master-addr-by-name", MASTER_NAME)
            return reply[0].decode() if reply else None
        except (OSError, EOFError, RedisError):
            return None
        finally:
            client.close()

    def primary(self) -> str | None:
        for address in self.addresses:
            host = self.primary_by(address)
            if host:
                return host
        return None

    def views(self) -> dict[str, str | None]:
        return {address: self.primary_by(address) for address in self.addresses}

    def master_info(self, address: str) -> dict:
        client = self.client(address)
        try:
            return pairs(client.call("SENTINEL", "master", MASTER_NAME))
        except (OSError, EOFError, RedisError):
            return {}
        finally:
            client.close()

    def replicas_known(self, address: str) -> int:
        client = self.client(address)
        try:
            return len(client.call("SENTINEL", "replicas", MASTER_NAME) or [])
        except (OSError, EOFError, RedisError):
            return 0
        finally:
            client.close()


class PrimaryRedis(Redis):
    """A connection to the current primary: asks the Sentinels where it is on every
    (re)connection, and reconnects after a READONLY reply (a demoted primary)."""

    def __init__(self, sentinels: Sentinels, password: str | None, timeout: float = 3.0):
        super().__init__(REDIS_PORT, host="0.0.0.0", timeout=timeout, password=password, tls=sentinels.tls)
        self.sentinels = sentinels

    def _connect(self):
        host = self.sentinels.primary()
        if host is None:
            raise OSError("no Sentinel names a primary")
        self.address = (host, REDIS_PORT)
        super()._connect()

    def call(self, *args):
        try:
            return super().call(*args)
        except RedisError as error:
            if "READONLY" not in str(error) and "LOADING" not in str(error):
                raise
            self.close()
            return super().call(*args)


class ClusterNodes:
    """The nodes of a Redis Cluster, asked over TLS as the superuser: who serves a slot,
    who replicates whom."""

    def __init__(self, addresses: list[str], password: str | None, tls: ssl.SSLContext | None = None):
        self.addresses = addresses
        self.password = password
        self.tls = tls

    def client(self, address: str, timeout: float = 2.0) -> Redis:
        host, port = address.rsplit(":", 1)
        return Redis(int(port), host=host, timeout=timeout, password=self.password, tls=self.tls)

    def ask(self, address: str, *command):
        client = self.client(address)
        try:
            return client.call(*command)
        finally:
            client.close()

    def owner(self, slot: int, exclude: tuple[str, ...] = ()) -> str | None:
        """host:port of the primary serving ``slot`` as the first answering node (not in
        ``exclude``) sees it, or None."""
        for address in self.addresses:
            if address in exclude:
                continue
            try:
                ranges = self.ask(address, "CLUSTER", "SLOTS")
            except (OSError, EOFError, RedisError):
                continue
            for entry in ranges or []:
                if int(entry[0]) <= slot <= int(entry[1]):
                    node = entry[2]
                    host = node[0].decode() or address.rsplit(":", 1)[0]
                    return f"{host}:{int(node[1])}"
        return None

    def nodes(self, address: str | None = None) -> list[dict]:
        """CLUSTER NODES of one answering node: [{address, id, flags, primary_id, slots}]."""
        for candidate in ([address] if address else self.addresses):
            try:
                text = self.ask(candidate, "CLUSTER", "NODES")
            except (OSError, EOFError, RedisError):
                continue
            rows = []
            for line in text.decode().splitlines():
                fields = line.split()
                rows.append({"address": fields[1].split("@")[0], "id": fields[0], "flags": fields[2].split(","),
                             "primary_id": None if fields[3] == "-" else fields[3], "slots": fields[8:]})
            return rows
        return []

    def state_ok(self, address: str) -> bool:
        try:
            return b"cluster_state:ok" in self.ask(address, "CLUSTER", "INFO")
        except (OSError, EOFError, RedisError):
            return False


class SlotPrimaryRedis(Redis):
    """A connection to the primary serving the slot of ``key_prefix`` (one hash tag: every
    key of the relays): asks the nodes where that is on every (re)connection, and
    reconnects after MOVED, READONLY or CLUSTERDOWN (a failover)."""

    def __init__(self, nodes: ClusterNodes, key_prefix: str, timeout: float = 3.0):
        super().__init__(0, host="0.0.0.0", timeout=timeout, password=nodes.password, tls=nodes.tls)
        self.nodes = nodes
        self.slot = key_slot(key_prefix)

    def _connect(self):
        owner = self.nodes.owner(self.slot)
        if owner is None:
            raise OSError(f"no cluster node names a primary for slot {self.slot}")
        host, port = owner.rsplit(":", 1)
        self.address = (host, int(port))
        super()._connect()

    def call(self, *args):
        try:
            return super().call(*args)
        except RedisError as error:
            if not any(word in str(error) for word in ("MOVED", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "LOADING")):
                raise
            self.close()
            return super().call(*args)
