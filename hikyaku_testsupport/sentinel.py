"""Redis high availability on 127.0.0.1 (issue 6): a primary and a replica redis-server
(AOF, appendfsync always), three redis-sentinel processes (quorum 2) watching them as
``MASTER``, and the failover the tests provoke: SIGKILL of the primary, promotion of the
replica, and the old primary's return as a replica of the new one (so `WAIT 1` can be
satisfied again). Used by test_failover.py and test_webhook_failover.py (the fixture
``redis_ha`` in conftest.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess
from .redis_servers import RedisServer, redis_cli
from .resp import redis_ping
from .waiting import wait_for

MASTER = "hikyaku"


def redis_node(directory: Path, port: int | None = None, replica_of: int | None = None) -> RedisServer:
    """A durable redis-server (AOF, appendfsync always), named by its port in failure reports."""
    server = RedisServer(directory, port=port, replica_of=replica_of)
    server.process.name = f"redis-server :{server.port}"
    return server


class Sentinel:
    def __init__(self, directory: Path, primary_port: int):
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {directory}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 5000\n"
            f"sentinel parallel-syncs {MASTER} 1\n")
        # Debian's redis-server runs as a Sentinel with --sentinel (no separate binary needed).
        self.process = ManagedProcess(f"redis-sentinel :{self.port}", ["redis-server", config, "--sentinel"],
                                      directory / "sentinel.log")

    def start(self) -> "Sentinel":
        self.process.start()
        wait_for(lambda: self.process.require_alive() or redis_ping(self.port), timeout=20, interval=0.05,
                 what=f"redis-sentinel on {self.port}")
        return self

    def primary_port(self) -> int | None:
        out = redis_cli(self.port, "SENTINEL", "get-master-addr-by-name", MASTER).split()
        return int(out[1]) if len(out) == 2 else None


@dataclass
class Failover:
    """What ``RedisHA.fail_over()`` did, with the times (time.time()) of each step."""
    old_port: int
    new_port: int
    killed_at: float
    promoted_at: float
    rejoined_at: float
    returned: RedisServer


@dataclass
class RedisHA:
    primary: RedisServer
    replica: RedisServer
    sentinels: list[Sentinel]
    returned: list[RedisServer] = field(default_factory=list)

    def redis_config(self, **extra) -> dict:
        """The relay's `redis` section: through the Sentinels, no fixed URL."""
        return {"url": None, "sentinels": [f"127.0.0.1:{s.port}" for s in self.sentinels], "master_name": MASTER,
                **extra}

    def fail_over(self) -> Failover:
        """SIGKILLs the primary, waits for the Sentinels to promote the replica, then starts
        the old primary again (same port, same data) and waits until it is a synced replica."""
        old = self.primary
        killed_at = time.time()
        old.process.kill9()
        new_port = wait_for(lambda: (p := self.sentinels[0].primary_port()) not in (None, old.port) and p,
                            timeout=60, interval=0.2, what="the Sentinels to promote the replica")
        promoted_at = time.time()
        returned = redis_node(old.directory, port=old.port).start()
        self.returned.append(returned)
        wait_for(lambda: "role:slave" in redis_cli(old.port, "INFO", "replication")
                 and "master_link_status:up" in redis_cli(old.port, "INFO", "replication"),
                 timeout=60, interval=0.5, what="the old primary to rejoin as a replica")
        return Failover(old.port, new_port, killed_at, promoted_at, time.time(), returned)

    def stop(self):
        for node in self.sentinels + [self.replica, self.primary] + self.returned:
            node.process.stop()


def start_redis_ha(directory: Path) -> RedisHA:
    primary = redis_node(directory / "redis-a").start()
    replica = redis_node(directory / "redis-b", replica_of=primary.port).start()
    wait_for(lambda: "master_link_status:up" in redis_cli(replica.port, "INFO", "replication"),
             what="the replica to sync with the primary")
    sentinels = [Sentinel(directory / f"sentinel-{i}", primary.port).start() for i in range(3)]
    # Every Sentinel must know the replica and the other Sentinels before a failover can work.
    wait_for(lambda: all(redis_cli(s.port, "SENTINEL", "replicas", MASTER).count("slave") >= 1 or
                         "127.0.0.1" in redis_cli(s.port, "SENTINEL", "replicas", MASTER) for s in sentinels)
             and all(int((redis_cli(s.port, "SENTINEL", "master", MASTER).split("num-other-sentinels")[1].split()[0])) >= 2
                     for s in sentinels),
             timeout=30, interval=0.5, what="the Sentinels to discover the replica and each other")
    return RedisHA(primary, replica, sentinels)
