"""Who is where: the hosts of the local cluster, their addresses in 10.77.0.0/24, and the
receiving sites the simulator plays.

```
                         hk-br0 10.77.0.1 (this machine: the operator's view)
   ┌──────────┬──────────┬─────────┬──────────┬───────────┬─────────────┬──────────┬──────────┐
 hk-redis-a hk-redis-b hk-sent-1..3 hk-ingest-1..2  hk-worker-1..3        hk-sim      hk-client
 .11 primary .12 replica .21-.23    .31 .32     .41+.51 .42+.52 .43+.53  .100 DNS      .200 load
                                                (two egress IPs each)    .101-.105 MX sites
```

(`--replicas 2` adds hk-redis-c, .13, a second replica.) With `--redis cluster` the Redis hosts
are a Redis Cluster instead — hk-redis-1..6 at .11-.16 (three primaries, one replica each;
`--replicas 2`: nine nodes, .11-.19) — and there are no Sentinels. Every host is a network namespace with one veth on the bridge (root side `hkv-<name>`,
inside `eth0`); a process started in it sees only its host's addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BRIDGE = "hk-br0"
PREFIX = "10.77.0"
NETMASK = 24
BRIDGE_ADDRESS = f"{PREFIX}.1"
NETNS_PREFIX = "hk-"
MASTER_NAME = "hikyaku"
DOMAIN = "hikyaku.cluster"
REDIS_PORT = 6379
SENTINEL_PORT = 26379
SMTP_PORT = 25
METRICS_PORT = 9090
DNS_ADDRESS = f"{PREFIX}.100"
# Redis topologies: a primary with replicas and Sentinels, or a Redis Cluster (README,
# "Redis Cluster"), where the relay's keys all carry this hash tag and so live in one slot.
REDIS_MODES = ("sentinel", "cluster")
CLUSTER_PRIMARIES = 3
CLUSTER_KEY_PREFIX = "hk:{hk}:"
# The relays' limit keys on a Redis Cluster (`redis.limits_key_prefix`): another hash tag,
# slot 1197, which redis-cli --cluster create gives to another primary than slot 8014.
CLUSTER_LIMITS_KEY_PREFIX = "hk:{hk-limits}:"
CLIENT_ADDRESS = f"{PREFIX}.200"


@dataclass
class Host:
    name: str                 # the network namespace, e.g. hk-worker-1
    role: str                 # redis, sentinel, ingest, worker, sim, client
    addresses: list[str]
    index: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.addresses[0]

    @property
    def short(self) -> str:
        return self.name.removeprefix(NETNS_PREFIX)

    @property
    def veth(self) -> str:
        """The bridge-side end of the host's link (at most 15 characters)."""
        return "hkv-" + self.short

    @property
    def node_name(self) -> str:
        return f"{self.short}.{DOMAIN}"


# Two rate-limited sites, whose limits the relay is told (delivery.sites), so that limits
# holding across worker hosts can be checked from what the simulator saw:
# - "limited": 5 messages/s for the whole site (burst 5), from however many IPs; in any
#   10 s window at most 5*10 + 5 - 1 = 54 may be claimed (GCRA: count + burst - 1 per
#   period). The simulator has no site-wide limit: the runner counts arrivals per window.
# - "perip": 2 messages/s per egress IP (burst 2), at most 21 per IP in any 10 s window;
#   the simulator refuses (421, a "rate_limit" violation) the 24th within 10 s from one IP.
# Both are checked at arrival time while the relay decides at claim time; the margin covers
# messages claimed inside a window that arrive a moment later, never a wrong decision.
LIMIT_WINDOW_SECONDS = 10
SITE_RATE = "5/s burst 5"
SITE_RATE_PER_SECOND = 5
SITE_BOUND = 5 * LIMIT_WINDOW_SECONDS + 5 - 1
PER_IP_RATE = "2/s burst 2"
PER_IP_RATE_PER_SECOND = 2
PER_IP_BOUND = 2 * LIMIT_WINDOW_SECONDS + 2 - 1
SIM_PER_IP_COUNT = PER_IP_BOUND + 2


def sites() -> list[dict]:
    """The receiving sites `hikyaku-sim` plays on the sim host (SIMULATOR.md): a fast bulk
    site, a slow one (long batches, so a kill lands mid-batch) and the two limited ones."""
    return [
        {"name": "bulk", "domains": ["bulk.sim", "bulk2.sim"], "addresses": [f"{PREFIX}.101", f"{PREFIX}.102"],
         "behaviours": {}},
        {"name": "slow", "domains": ["slow.sim"], "addresses": [f"{PREFIX}.103"],
         "behaviours": {"latency_ms": {"data": 100}}},
        {"name": "limited", "domains": ["limited.sim"], "addresses": [f"{PREFIX}.104"], "behaviours": {}},
        {"name": "perip", "domains": ["perip.sim"], "addresses": [f"{PREFIX}.105"],
         "behaviours": {"per_ip_rate": {"count": SIM_PER_IP_COUNT, "period_seconds": LIMIT_WINDOW_SECONDS,
                                        "reply": "421 4.7.28 Too many messages from your IP, slow down"}}},
    ]


def relay_sites() -> list[dict]:
    """`delivery.sites` for every worker: the two limited sites."""
    return [
        {"name": "limited", "mx": ["*.limited.sim"], "rate": SITE_RATE, "max_connections_per_ip": 2,
         "max_messages_per_connection": 20},
        {"name": "perip", "mx": ["*.perip.sim"], "rate_per_ip": PER_IP_RATE, "max_connections_per_ip": 2,
         "max_messages_per_connection": 20},
    ]


@dataclass
class Topology:
    workers: int = 3
    ingests: int = 2
    replicas: int = 1      # 2 adds hk-redis-c (10.77.0.13), a second replica; on a Redis Cluster: per primary
    redis: str = "sentinel"  # or "cluster"

    @property
    def is_redis_cluster(self) -> bool:
        return self.redis == "cluster"

    @property
    def key_prefix(self) -> str:
        """`redis.key_prefix` of the relays (the default for the topology)."""
        return CLUSTER_KEY_PREFIX if self.is_redis_cluster else "hk:"

    @property
    def limits_key_prefix(self) -> str:
        """`redis.limits_key_prefix`: on a Redis Cluster the limit keys have a slot of their
        own, so every claim runs as limits, entries and refund steps on two primaries."""
        return CLUSTER_LIMITS_KEY_PREFIX if self.is_redis_cluster else self.key_prefix

    def hosts(self) -> list[Host]:
        if self.is_redis_cluster:
            # Which node becomes a primary is redis-cli --cluster create's choice (the first
            # CLUSTER_PRIMARIES given); roles change with every failover, so nothing here says.
            count = CLUSTER_PRIMARIES * (1 + self.replicas)
            hosts = [Host(f"hk-redis-{i}", "redis", [f"{PREFIX}.{10 + i}"], i, {"cluster": True})
                     for i in range(1, count + 1)]
        else:
            hosts = [Host("hk-redis-a", "redis", [f"{PREFIX}.11"], 1, {"primary": True})]
            hosts += [Host(f"hk-redis-{'bc'[i]}", "redis", [f"{PREFIX}.{12 + i}"], 2 + i, {"primary": False})
                      for i in range(self.replicas)]
            hosts += [Host(f"hk-sent-{i}", "sentinel", [f"{PREFIX}.{20 + i}"], i) for i in (1, 2, 3)]
        hosts += [Host(f"hk-ingest-{i}", "ingest", [f"{PREFIX}.{30 + i}"], i) for i in range(1, self.ingests + 1)]
        hosts += [Host(f"hk-worker-{i}", "worker", [f"{PREFIX}.{40 + i}", f"{PREFIX}.{50 + i}"], i)
                  for i in range(1, self.workers + 1)]
        site_addresses = [a for site in sites() for a in site["addresses"]]
        hosts.append(Host("hk-sim", "sim", [DNS_ADDRESS] + site_addresses))
        hosts.append(Host("hk-client", "client", [CLIENT_ADDRESS]))
        return hosts

    def by_role(self, role: str) -> list[Host]:
        return [h for h in self.hosts() if h.role == role]

    def host(self, name: str) -> Host:
        for h in self.hosts():
            if h.name == name or h.short == name:
                return h
        raise KeyError(name)

    def redis_nodes(self) -> list[str]:
        """Every Redis node as host:port (a Redis Cluster's seeds)."""
        return [f"{h.address}:{REDIS_PORT}" for h in self.by_role("redis")]

    def sentinels(self) -> list[str]:
        return [f"{h.address}:{SENTINEL_PORT}" for h in self.by_role("sentinel")]

    def ingest_servers(self) -> list[str]:
        return [f"{h.address}:{SMTP_PORT}" for h in self.by_role("ingest")]

    def primary_at_start(self) -> Host:
        return self.by_role("redis")[0]
