"""Fault tests (`hikyaku-cluster chaos FAULT|all`, `make chaos`): each brings a fresh
cluster up, runs load from the client host, injects its fault on a timeline next to the
load, waits until every accepted message is accounted for, and checks:

- every message that got 250 reached the simulator (loss accounting against its records);
- the global limits held across hosts (the simulator's per-IP refusals; the site-wide rate
  counted over every egress IP);
- duplicates (at-least-once) are counted and reported, as are messages delivered although
  their client never saw a 250;
- and what the fault itself must show (below).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from hikyaku_testsupport.console import Console
from hikyaku_testsupport.machine import load_average, machine, now_text
from hikyaku_testsupport.resp import RedisError

from . import netns
from .accounting import summary_lines
from .cluster import REPO, Cluster, ClusterError, Settings
from .load import LoadRun, LoadSpec, write_result

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------- helpers

def claims_by_consumer(cluster: Cluster) -> dict[str, tuple[int, int]]:
    """{consumer name: (entries, destinations)} claimed right now: XPENDING of every
    destination stream."""
    client = cluster.primary_redis()
    try:
        held: dict[str, tuple[int, int]] = {}
        cursor = b"0"
        while True:
            cursor, keys = client.call("SCAN", cursor, "MATCH", cluster.key("q:*"), "COUNT", 1000)
            for key in keys:
                try:
                    summary = client.call("XPENDING", key, "workers")
                except RedisError:
                    continue
                for consumer, n in summary[3] or []:
                    entries, destinations = held.get(consumer.decode(), (0, 0))
                    held[consumer.decode()] = (entries + int(n), destinations + 1)
            if cursor in (b"0", 0):
                return held
    finally:
        client.close()


def claims_of(cluster: Cluster, consumer_prefix: str) -> tuple[int, int]:
    """(entries, destinations) a worker (consumer names start with its node name) holds."""
    held = [c for name, c in claims_by_consumer(cluster).items() if name.startswith(consumer_prefix)]
    return sum(e for e, _ in held), sum(d for _, d in held)


def consumer_prefix(cluster: Cluster, name: str) -> str:
    """A worker process's consumer name: `<node_name>/<slot>` (NodeIdentity; the cluster
    sets node_name per host, and a restarted worker takes its identity back)."""
    host = cluster.host(cluster.processes[name].host)
    return f"{host.node_name}/"


def wait_busy_worker(ctx, timeout: float = 30, enough: int = 5) -> tuple[str, str, int, int]:
    """Waits until some worker holds claimed work (so a fault lands mid-batch) and names
    the one holding most: at least `enough` entries if that happens within half the
    timeout, else any. Which host holds the slow destination's batches is the claim
    race's choice, so a fault aimed at one fixed host may wait for a batch that never
    comes to it. Returns (process name, consumer prefix, entries, destinations)."""
    prefixes = {name: consumer_prefix(ctx.cluster, name) for name in ctx.cluster.names("worker")
                if ctx.cluster.pid(name)}

    def busiest(least: int):
        by_consumer = claims_by_consumer(ctx.cluster)
        best = None
        for name, prefix in prefixes.items():
            held = [c for consumer, c in by_consumer.items() if consumer.startswith(prefix)]
            entries, destinations = sum(e for e, _ in held), sum(d for _, d in held)
            if entries >= least and (best is None or entries > best[2]):
                best = (name, prefix, entries, destinations)
        return best

    try:
        return ctx.wait_for(lambda: busiest(enough), timeout / 2, f"a worker to hold {enough} claimed entries",
                            interval=0.05)
    except TimeoutError:
        return ctx.wait_for(lambda: busiest(1), timeout / 2, "a worker to hold claimed work", interval=0.05)


def claim_duplicates(cluster: Cluster) -> float:
    return sum(cluster.metric(n, "hikyaku_claim_duplicates_total") or 0 for n in cluster.names("worker")
               if cluster.pid(n))


def refusal_window(result: dict, records_path: Path) -> dict:
    """How long clients went without a 250: the longest gap between consecutive 250s (the
    end of the generator's run counts as one), and the span of every other reply."""
    accepted, refused, last = [], [], 0
    with open(records_path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                last = max(last, r.get("accepted_us", 0))
                (accepted if r.get("code") == 250 else refused).append(r["accepted_us"])
    t0 = result["series"]["t0_us"]
    times = sorted(accepted) + [last]
    best, at = 0, None
    for a, b in zip(times, times[1:]):
        if b - a > best:
            best, at = b - a, a
    return {"longest_gap_between_250s_seconds": round(best / 1e6, 2),
            "gap_starts_at_seconds": round((at - t0) / 1e6, 1) if at else None,
            "other_replies": len(refused),
            "other_replies_from_to_seconds": [round((min(refused) - t0) / 1e6, 1), round((max(refused) - t0) / 1e6, 1)]
            if refused else None}


def check(name: str, ok: bool, detail: str) -> dict:
    return {"check": name, "ok": bool(ok), "detail": detail}


# ---------------------------------------------------------------------- faults

class Fault:
    name = ""
    title = ""
    shows = ""
    shows_on_redis_cluster = ""   # what it shows with `--redis cluster`, where that differs
    cluster_only = False          # meaningful on a Redis Cluster only (skipped on Sentinel)
    fault_at = 10.0

    def describe(self, redis: str) -> str:
        return self.shows_on_redis_cluster if redis == "cluster" and self.shows_on_redis_cluster else self.shows

    def spec(self, smoke: bool) -> LoadSpec:
        return LoadSpec(messages=1200, rate=60) if smoke else LoadSpec(messages=4000, rate=100)

    def settings(self, smoke: bool) -> Settings:
        return Settings(claim_timeout="5s" if smoke else "10s")

    def at(self, smoke: bool) -> float:
        return 6.0 if smoke else self.fault_at

    def script(self, ctx):
        raise NotImplementedError

    def checks(self, result: dict, facts: dict) -> list[dict]:
        return []


class IngestKill(Fault):
    name = "ingest-kill"
    title = "kill -9 an ingest host during DATA"
    shows = ("Sessions in the middle of DATA on hk-ingest-1 (probes, one already streaming a 600 KB body into "
             "Redis, and the generator's own) end without a reply; none of those messages is ever delivered; "
             "the generator moves to hk-ingest-2; hk-ingest-1 restarts 5 s later.")

    def script(self, ctx):
        cluster, run = ctx.cluster, ctx.run
        ctx.sleep_until(self.at(ctx.smoke))
        probe = subprocess.Popen(netns.exec_argv("hk-client", ["python3", HERE / "probe.py", "--server",
                                                               "10.77.0.31:25", "--run", run.run_name, "--count", "3"]),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = probe.stdout.readline().strip()
        if ready != "READY":
            raise RuntimeError(f"probe did not get into DATA: {ready!r} {probe.stderr.read()[-500:]}")
        ctx.note("3 probe sessions on ingest-1 are in the middle of DATA (one streaming a 600 KB body)")
        pid = cluster.kill9("ingest-1")
        killed_at = ctx.elapsed()
        ctx.note(f"kill -9 ingest-1 (pid {pid})")
        out, err = probe.communicate(timeout=90)
        probes = json.loads(out.strip().splitlines()[-1])["probes"] if out.strip() else []
        ctx.facts["probes"] = probes
        ctx.note("probe sessions: " + "; ".join(f"#{p['index']} ({p['sent_bytes']} bytes sent): {p['outcome']}"
                                                for p in probes))
        ctx.sleep_until(killed_at + 5)
        cluster.start("ingest-1")
        cluster.wait_ready("ingest-1")
        ctx.note("ingest-1 restarted and accepting")

    def checks(self, result, facts):
        probes = facts.get("probes", [])
        return [
            check("every session cut off in DATA ended without a reply (no 250)",
                  probes and all("without a reply" in p["outcome"] for p in probes),
                  "; ".join(p["outcome"] for p in probes) or "no probe result"),
            check("no message cut off in DATA was delivered (no ghost)", result["cluster"]["probe_arrivals"] == 0,
                  f"{result['cluster']['probe_arrivals']} probe message(s) arrived"),
        ]


class WorkerKill(Fault):
    name = "worker-kill"
    title = "kill -9 a worker host mid-batch"
    shows = ("The worker host holding the most claimed entries (slow.sim takes 100 ms per message) is killed; "
             "its claims lapse after claim_timeout and the other hosts take them over (XAUTOCLAIM) and deliver; "
             "it comes back 10 s after the takeover.")

    def script(self, ctx):
        cluster = ctx.cluster
        ctx.sleep_until(self.at(ctx.smoke))
        victim, prefix, entries, destinations = wait_busy_worker(ctx)
        pid = cluster.kill9(victim)
        killed_at = ctx.elapsed()
        ctx.facts["victim"] = victim
        ctx.facts["held_at_kill"] = {"entries": entries, "destinations": destinations}
        ctx.note(f"kill -9 {victim} (pid {pid}) holding {entries} claimed entries on {destinations} destination(s)")
        ctx.wait_for(lambda: claims_of(cluster, prefix)[0] == 0, 120, f"{victim}'s claims to be taken over")
        ctx.facts["taken_over_after_seconds"] = round(ctx.elapsed() - killed_at, 1)
        ctx.facts["claim_duplicates_metric"] = claim_duplicates(cluster)
        ctx.note(f"every entry {victim} held was taken over by the other hosts after "
                 f"{ctx.facts['taken_over_after_seconds']} s (hikyaku_claim_duplicates_total on the others: "
                 f"{ctx.facts['claim_duplicates_metric']:.0f})")
        time.sleep(10)
        cluster.start(victim)
        cluster.wait_ready(victim)
        ctx.note(f"{victim} restarted")

    def checks(self, result, facts):
        held = facts.get("held_at_kill", {}).get("entries", 0)
        return [
            check("the worker was killed mid-batch (it held claimed entries)", held > 0,
                  f"{facts.get('victim')}: {held} entries"),
            check("its claimed work was taken over by the other hosts", "taken_over_after_seconds" in facts,
                  f"after {facts.get('taken_over_after_seconds')} s; claim duplicates metric "
                  f"{facts.get('claim_duplicates_metric')}"),
        ]


class WorkerPartition(Fault):
    name = "worker-partition"
    title = "cut a worker host off (link down) for 30 s"
    shows = ("The link of the worker host holding the most claimed entries goes down: it can reach neither Redis "
             "nor the MX sites. Its claims lapse and the others take them over; when the link comes back after "
             "30 s it reconnects to Redis and delivers again.")
    cut_seconds = 30.0

    def spec(self, smoke):
        # Load for 60 s: the link comes back about 40 s in, with mail still arriving.
        return LoadSpec(messages=3600, rate=60) if smoke else LoadSpec(messages=6000, rate=100)

    def script(self, ctx):
        cluster = ctx.cluster
        ctx.sleep_until(self.at(ctx.smoke))
        victim, prefix, entries, destinations = wait_busy_worker(ctx)
        host = cluster.host(cluster.processes[victim].host)
        netns.set_link(host, False)
        cut_at = ctx.elapsed()
        ctx.facts["victim"] = victim
        ctx.facts["held_at_cut"] = {"entries": entries, "destinations": destinations}
        ctx.note(f"link of {host.name} DOWN (it held {entries} claimed entries on {destinations} destination(s))")
        try:
            ctx.wait_for(lambda: claims_of(cluster, prefix)[0] == 0, self.cut_seconds - 2,
                         f"{victim}'s claims to be taken over while it is cut off")
            ctx.facts["taken_over_after_seconds"] = round(ctx.elapsed() - cut_at, 1)
            ctx.note(f"its claims were taken over by the other hosts after {ctx.facts['taken_over_after_seconds']} s")
        except TimeoutError:
            ctx.note("its claims were NOT all taken over while it was cut off")
        ctx.sleep_until(cut_at + self.cut_seconds)
        netns.set_link(host, True)
        restored_at = ctx.elapsed()
        restored_us = int(time.time() * 1e6)
        ctx.note(f"link of {host.name} UP again")
        ips = set(host.addresses)

        def delivered_again():
            return sum(1 for _s, t, _site, ip, _r in list(ctx.run.records.arrivals) if ip in ips and t > restored_us)
        ctx.wait_for(delivered_again, 90, f"{victim} to deliver again after the link came back", interval=0.5)
        ctx.facts["delivering_again_after_seconds"] = round(ctx.elapsed() - restored_at, 1)
        ctx.facts["alive_after"] = cluster.pid(victim) is not None
        ctx.note(f"{victim} delivers again {ctx.facts['delivering_again_after_seconds']} s after the link came back")

    def checks(self, result, facts):
        return [
            check("the worker was cut off mid-batch", facts.get("held_at_cut", {}).get("entries", 0) > 0,
                  f"{facts.get('victim')}: {facts.get('held_at_cut')}"),
            check("its claims were taken over while it was cut off", "taken_over_after_seconds" in facts,
                  f"after {facts.get('taken_over_after_seconds')} s"),
            check("it survived the cut and delivered again afterwards",
                  facts.get("alive_after") and "delivering_again_after_seconds" in facts,
                  f"after {facts.get('delivering_again_after_seconds')} s"),
        ]


class RedisFailover(Fault):
    name = "redis-failover"
    title = "fail over the Redis primary during a run"
    shows = ("redis-server on hk-redis-a gets kill -9; the Sentinels promote hk-redis-b; the old primary is started "
             "again at once and rejoins as its replica. With wait_replicas 1 and a single replica, clients get 451 "
             "(never a 250 that could be lost) until a replica is back; every 250 before and after is delivered.")

    def spec(self, smoke):
        # Load for 40-60 s: acceptance must resume after the old primary is back as a replica.
        return LoadSpec(messages=2400, rate=60) if smoke else LoadSpec(messages=6000, rate=100)

    shows_on_redis_cluster = (
        "redis-server on the Redis Cluster node serving the relays' slot gets kill -9; the cluster promotes its "
        "replica (cluster-node-timeout, no Sentinels) and the relays follow the slot map; the killed node is "
        "started again at once and rejoins as the new primary's replica. Clients get 451 while the slot has no "
        "primary with a replica for WAIT 1; every 250 before and after is delivered.")

    # Whose primary gets the kill: the node the relays' keys are on.
    whose = "the relays' primary"

    def primary(self, cluster, down=None):
        return cluster.relays_primary(down=down)

    def script(self, ctx):
        cluster = ctx.cluster
        on_redis_cluster = cluster.topology.is_redis_cluster
        ctx.sleep_until(self.at(ctx.smoke))
        home = self.primary(cluster)
        replicas = cluster.replicas_of(home)
        ctx.facts["replicas_before"] = [h.address for h in replicas]
        pid = cluster.kill9(home.short)
        killed_at = ctx.elapsed()
        ctx.note(f"kill -9 redis-server on {home.name} ({self.whose}, pid {pid}; replica(s) "
                 f"{', '.join(h.name for h in replicas)})")
        promoter = "the cluster" if on_redis_cluster else "the Sentinels"
        new = ctx.wait_for(lambda: (h := self.primary(cluster, down=home)) is not None and h.name != home.name and h,
                           90, f"{promoter} to promote a replica", interval=0.1)
        ctx.facts["promoted"] = new.address
        ctx.facts["promoted_after_seconds"] = round(ctx.elapsed() - killed_at, 1)
        ctx.note(f"{promoter} promoted {new.name} after {ctx.facts['promoted_after_seconds']} s")
        cluster.start(home.short)
        cluster.wait_ready(home.short)
        # With Sentinels it comes back as a primary of its own until a Sentinel re-points it.
        ctx.note(f"redis-server on {home.name} started again")
        ctx.wait_for(lambda: cluster.replica_linked(home), 90, "the old primary to rejoin as a replica", interval=0.2)
        ctx.facts["old_primary_replica_after_seconds"] = round(ctx.elapsed() - killed_at, 1)
        ctx.facts["rejoined_wall_us"] = int(time.time() * 1e6)
        ctx.note(f"{home.name} is a replica of {new.name}, in sync "
                 f"{ctx.facts['old_primary_replica_after_seconds']} s after the kill")

    def checks(self, result, facts):
        records = result.get("_records_after_rejoin", 0)
        return [check("a replica of the killed primary was promoted", facts.get("promoted") in facts.get("replicas_before", []),
                      f"{facts.get('promoted')} after {facts.get('promoted_after_seconds')} s"),
                check("250s again once a replica was back", records > 0,
                      f"{records} message(s) accepted after the old primary rejoined as a replica")]


class LimitsFailover(RedisFailover):
    name = "limits-failover"
    title = "fail over the Redis Cluster primary of the limit keys during a run"
    cluster_only = True
    whose = "the primary of the relays' limit keys"
    shows = shows_on_redis_cluster = (
        "redis-server on the Redis Cluster node serving the slot of the relays' limit keys (redis.limits_key_prefix, "
        "not the queue's) gets kill -9 while every claim charges there first, takes entries on the queue's primary, "
        "then refunds: claims fail until the cluster promotes the replica, charges whose refund was lost only make "
        "sites look busier for a moment, and no limit is exceeded; every 250 is delivered.")

    def primary(self, cluster, down=None):
        return cluster.limits_primary(down=down)

    def checks(self, result, facts):
        # Ingest does not touch the limit keys: 250s go on all along.
        return [check("a replica of the killed primary was promoted", facts.get("promoted") in facts.get("replicas_before", []),
                      f"{facts.get('promoted')} after {facts.get('promoted_after_seconds')} s")]


class RestartAll(Fault):
    name = "restart-all"
    title = "restart every process (kill -9 of the whole cluster, then start)"
    shows = ("Every relay and Redis process on every host (2 ingest, 3 workers, primary, replica, 3 Sentinels) "
             "gets kill -9 at the same moment — a power cut of the whole cluster — and everything is started "
             "again 3 s later. The AOF (appendfsync always) and the claim takeover bring every 250 through.")

    shows_on_redis_cluster = (
        "Every relay and Redis process on every host (2 ingest, 3 workers, the six Redis Cluster nodes) gets kill -9 "
        "at the same moment and everything is started again 3 s later: each node rejoins with its role from "
        "nodes.conf and its data from the AOF; every 250 is delivered.")

    def script(self, ctx):
        cluster = ctx.cluster
        ctx.sleep_until(self.at(ctx.smoke))
        on_redis_cluster = cluster.topology.is_redis_cluster
        redis = cluster.names("redis") if on_redis_cluster else ["redis-a"] + cluster.replica_names()
        names = cluster.names("ingest") + cluster.names("worker") + cluster.names("sentinel") + redis[::-1]
        for name in names:
            cluster.signal(name, signal.SIGKILL)
        for name in names:
            cluster.wait_exit(name, 10)
        killed_at = ctx.elapsed()
        ctx.note(f"kill -9 of {len(names)} processes: {', '.join(names)}")
        time.sleep(3)
        for name in redis:
            cluster.start(name)
        for name in redis:
            cluster.wait_ready(name)
        if on_redis_cluster:
            ctx.wait_for(cluster.cluster_settled, 90, "the Redis Cluster to be whole again", interval=0.2)
            ctx.note(f"the Redis Cluster is whole again {round(ctx.elapsed() - killed_at, 1)} s after the kill")
        for name in cluster.names("sentinel"):
            cluster.start(name)
        for name in cluster.names("sentinel"):
            cluster.wait_ready(name)
        for name in cluster.names("ingest") + cluster.names("worker"):
            cluster.start(name)
        for name in cluster.names("ingest") + cluster.names("worker"):
            cluster.wait_ready(name)
        ctx.facts["back_after_seconds"] = round(ctx.elapsed() - killed_at, 1)
        ctx.note(f"every process started again; all ready {ctx.facts['back_after_seconds']} s after the kill")


class RollingRestart(Fault):
    name = "rolling-restart"
    title = "restart every process, one at a time (an upgrade)"
    shows = ("Every process is stopped with SIGTERM and started again, one after the other, as a rolling upgrade "
             "does: workers (finishing their batches), ingest hosts, the replica(s), a switch of the primary "
             "(CLIENT PAUSE WRITE, replicas caught up, SENTINEL FAILOVER, old primary demoted at once), the old "
             "primary, the Sentinels.")

    def spec(self, smoke):
        return LoadSpec(messages=2400, rate=60) if smoke else LoadSpec(messages=6000, rate=100)

    def script(self, ctx):
        cluster = ctx.cluster
        ctx.sleep_until(self.at(ctx.smoke))
        started = ctx.elapsed()
        for name in cluster.names("worker") + cluster.names("ingest"):
            cluster.stop(name, timeout=40)
            cluster.start(name)
            cluster.wait_ready(name)
            ctx.note(f"{name} restarted (SIGTERM, graceful)")
        if cluster.topology.is_redis_cluster:
            self.restart_redis_cluster(ctx)
            ctx.facts["rolling_restart_seconds"] = round(ctx.elapsed() - started, 1)
            return
        for name in cluster.replica_names():
            cluster.stop(name, timeout=20)
            cluster.start(name)
            cluster.wait_ready(name)
            ctx.wait_for(lambda n=name: cluster.replica_linked(cluster.host("hk-" + n)), 60, f"{name} to resync")
            ctx.note(f"{name} (replica) restarted and in sync")
        sentinels = cluster.sentinels()
        old_primary = sentinels.primary()
        # A switchover must not let the old primary take writes while Sentinel promotes
        # a replica: with two replicas, the one not yet re-pointed would confirm them
        # (WAIT 1) and then drop them when it follows the new primary. So: pause writes on
        # the primary, let every replica reach its offset, then fail over, demote, unpause.
        primary = cluster.node_redis(cluster.host("hk-redis-a"))
        primary.call("CLIENT", "PAUSE", 30000, "WRITE")
        ctx.note("CLIENT PAUSE WRITE on the primary")

        def replicas_caught_up():
            info = primary.info("replication")
            offset = int(info["master_repl_offset"])
            offsets = [int(dict(kv.split("=") for kv in v.split(","))["offset"])
                       for k, v in info.items() if k.startswith("slave") and k[5:].isdigit()]
            return len(offsets) == len(cluster.replica_names()) and all(o >= offset for o in offsets)
        ctx.wait_for(replicas_caught_up, 20, "every replica to reach the primary's offset", interval=0.02)

        def failover():
            # NOGOODSLAVE until the Sentinel has seen the restarted replica healthy again.
            client = sentinels.client(sentinels.addresses[0])
            try:
                return client.call("SENTINEL", "FAILOVER", "hikyaku") == b"OK"
            finally:
                client.close()
        ctx.wait_for(failover, 60, "the Sentinel to accept SENTINEL FAILOVER", interval=0.5)
        new = ctx.wait_for(lambda: (p := sentinels.primary()) not in (None, old_primary) and p, 60,
                           "the switch to a replica", interval=0.05)
        # Sentinel turns the old primary into a replica only once it has reported its old
        # role for 8 s; until then it refuses writes (no replica: min-replicas-to-write) and
        # with one replica so does the new one. The runbook's step: demote it at once, as
        # Sentinel is about to, and persist that so it also restarts as a replica.
        try:
            primary.call("REPLICAOF", new, "6379")
            primary.call("CONFIG", "REWRITE")
            primary.call("CLIENT", "UNPAUSE")
        finally:
            primary.close()
        ctx.note(f"SENTINEL FAILOVER: primary is now {new}; REPLICAOF {new}, CONFIG REWRITE, CLIENT UNPAUSE on the "
                 "old primary at once")
        ctx.wait_for(lambda: cluster.replica_linked(cluster.host("hk-redis-a")), 60, "redis-a to follow as replica")
        ctx.note("redis-a follows as a replica")
        cluster.stop("redis-a", timeout=20)
        cluster.start("redis-a")
        cluster.wait_ready("redis-a")
        ctx.wait_for(lambda: cluster.replica_linked(cluster.host("hk-redis-a")), 60, "redis-a to resync")
        ctx.note("redis-a (now a replica) restarted and in sync")
        for name in cluster.names("sentinel"):
            cluster.stop(name, timeout=10)
            cluster.start(name)
            cluster.wait_ready(name)
        ctx.note("the three Sentinels restarted one by one")
        ctx.facts["rolling_restart_seconds"] = round(ctx.elapsed() - started, 1)

    shows_on_redis_cluster = (
        "Every process is stopped with SIGTERM and started again, one after the other: workers, ingest hosts, then "
        "the Redis Cluster's replicas, then each primary after handing its slots to its replica with CLUSTER "
        "FAILOVER (a coordinated switch: the primary stops taking writes until the replica has them all).")

    @staticmethod
    def restart_redis_node(ctx, host):
        cluster = ctx.cluster
        cluster.stop(host.short, timeout=20)
        cluster.start(host.short)
        cluster.wait_ready(host.short)
        ctx.wait_for(lambda: cluster.replica_linked(host), 60, f"{host.name} to resync")

    def restart_redis_cluster(self, ctx):
        cluster = ctx.cluster
        hosts = cluster.topology.by_role("redis")
        replicas = [h for h in hosts if cluster.replica_linked(h)]
        for host in replicas:
            self.restart_redis_node(ctx, host)
            ctx.note(f"{host.name} (replica) restarted and in sync")
        for host in [h for h in hosts if h not in replicas]:
            successors = cluster.cluster_replicas_of(host)
            if not successors:
                raise ClusterError(f"{host.name} has no replica in sync to hand its slots to")
            successor = successors[0]
            # CLUSTER FAILOVER on a replica is the coordinated switch: its primary stops
            # taking writes, the replica catches up to its offset, then takes the slots.
            client = cluster.node_redis(successor)
            try:
                client.call("CLUSTER", "FAILOVER")
            finally:
                client.close()
            ctx.wait_for(lambda h=host: cluster.replica_linked(h), 60, f"{host.name} to hand its slots over",
                         interval=0.05)
            ctx.note(f"CLUSTER FAILOVER: {successor.name} took over from {host.name}")
            self.restart_redis_node(ctx, host)
            ctx.note(f"{host.name} (now a replica) restarted and in sync")
        ctx.wait_for(cluster.cluster_settled, 60, "the Redis Cluster to be whole", interval=0.2)


FAULTS = {f.name: f for f in (IngestKill(), WorkerKill(), WorkerPartition(), RedisFailover(), LimitsFailover(),
                              RestartAll(), RollingRestart())}


# ---------------------------------------------------------------------- runner

def run_label(name: str, redis: str) -> str:
    """A run's name in reports: the fault, and the topology when it is not the default."""
    return name if redis == "sentinel" else f"{name}@{redis}"


def run_one(fault: Fault, bins: dict, out: Path, smoke: bool, args, console: Console, redis: str = "sentinel") -> dict:
    spec = fault.spec(smoke)
    if getattr(args, "messages", None):
        spec.messages = args.messages
    if getattr(args, "rate", None) is not None:
        spec.rate = args.rate
    spec.run = f"{fault.name.replace('-', '')}{time.strftime('%H%M%S')}"
    settings = fault.settings(smoke)
    settings.replicas = getattr(args, "replicas", 1) or 1
    settings.redis = redis
    label = run_label(fault.name, redis)
    cluster = Cluster(out / "cluster", bins, settings, say=lambda text: console.say(f"[{label}] {text}"))
    console.say(f"== {label}: {fault.title}")
    console.say(f"   {fault.describe(redis)}")
    result: dict
    try:
        cluster.up()
        run = LoadRun(cluster, spec, out, label, console)

        def script(ctx):
            ctx.smoke = smoke
            fault.script(ctx)
        result = run.execute(script)
        result["cluster"]["usage_by_process"] = cluster.usage()
    except (ClusterError, netns.NetworkError, RuntimeError) as error:
        result = {"label": label, "error": f"{type(error).__name__}: {error}",
                  "checks": [check("the run completed", False, str(error))]}
    finally:
        cluster.down(quiet=True)
    result["fault"] = {"name": fault.name, "label": label, "redis": redis, "title": fault.title,
                       "shows": fault.describe(redis), "smoke": smoke, "settings": settings.__dict__}
    if "error" not in result:
        result["fault"]["refusals"] = refusal_window(result, out / "generator-records.jsonl")
        rejoined = result.get("fault_facts", {}).get("rejoined_wall_us")
        if rejoined:
            with open(out / "generator-records.jsonl") as f:
                result["_records_after_rejoin"] = sum(1 for line in f if line.strip() and (r := json.loads(line))
                                                      .get("code") == 250 and r["accepted_us"] > rejoined)
        result["checks"] += fault.checks(result, result.get("fault_facts", {}))
    write_result(result, out)
    return result


def fault_summary(result: dict) -> str:
    fault = result["fault"]
    lines = [f"== {fault.get('label', fault['name'])}: {fault['title']}"]
    if "error" in result:
        lines.append(f"  ERROR: {result['error']}")
    else:
        for entry in result.get("fault_log", []):
            lines.append(f"  {entry['at_seconds']:6.1f}s  {entry['what']}")
        lines += summary_lines(result)
        gap = fault.get("refusals", {})
        lines.append(f"  clients: longest time without a 250 {gap.get('longest_gap_between_250s_seconds')} s "
                     f"(from {gap.get('gap_starts_at_seconds')} s); {gap.get('other_replies')} other replies "
                     f"(between {gap.get('other_replies_from_to_seconds')} s)")
    for c in result["checks"]:
        lines.append(f"  [{'ok' if c['ok'] else 'FAILED'}] {c['check']}: {c['detail']}")
    return "\n".join(lines)


def run_chaos(names: list[str], bins: dict, args) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = (args.out or REPO / "var" / "chaos" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    modes = getattr(args, "redis", None) or ["sentinel"]
    console.say(f"chaos: {', '.join(names)}{' (smoke)' if args.smoke else ''} on Redis {' and '.join(modes)}; "
                f"binaries {bins['hikyaku']}; output {out}")
    load_before = load_average()
    results = {}
    texts = []
    for redis in modes:
        for name in names:
            if FAULTS[name].cluster_only and redis != "cluster":
                if len(modes) == 1:
                    console.say(f"{name}: only meaningful on a Redis Cluster (--redis cluster); skipped")
                continue
            label = run_label(name, redis)
            result = run_one(FAULTS[name], bins, out / label, args.smoke, args, console, redis)
            results[label] = result
            text = fault_summary(result)
            texts.append(text)
            console.say(text)
    failed = [n for n, r in results.items() if not all(c["ok"] for c in r["checks"])]
    report = {"finished_at": now_text(), "command": " ".join(["hikyaku-cluster", "chaos", *names, "--redis", ",".join(modes)]),
              "smoke": args.smoke, "binaries": bins,
              "machine": machine() | {"load_average_before": load_before, "load_average_after": load_average()},
              "faults": {n: {"checks": r["checks"], "loss": r.get("loss"), "cluster": r.get("cluster"),
                             "fault_log": r.get("fault_log"), "fault_facts": r.get("fault_facts"),
                             "throughput": r.get("throughput"), "latency_ms": r.get("latency_ms"),
                             "simulator": r.get("simulator"), "fault": r.get("fault"), "error": r.get("error")}
                         for n, r in results.items()},
              "failed": failed}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=sorted) + "\n")
    summary = (f"Hikyaku cluster fault tests — {now_text()}\n"
               f"machine: {report['machine'].get('nproc')} CPU, load average before {load_before}\n\n"
               + "\n\n".join(texts) + "\n\n"
               + (f"FAILED: {', '.join(failed)}\n" if failed else f"all {len(results)} fault test(s) passed\n"))
    (out / "summary.txt").write_text(summary)
    console.say("")
    console.say(f"summary: {out / 'summary.txt'}; report: {out / 'report.json'}")
    console.say(f"FAILED: {', '.join(failed)}" if failed else f"all {len(results)} fault test(s) passed")
    return 3 if failed else 0
