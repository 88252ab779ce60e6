"""Hikyaku on a Redis Cluster (issue 17): a real cluster of three primaries and three
replicas on loopback (``redis-cli --cluster create``), the relay pointed at it with
``redis.cluster`` (seeds only), its keys under a prefix with a hash tag.

What is checked: mail flows end to end and every key the relay writes sits in the one slot
of its prefix (so two relays with different prefixes spread over the primaries); a primary
killed with SIGKILL under load loses no accepted message (`redis.wait_replicas: 1`, as with
Sentinel); the slot moved to another primary while mail flows (``ASK`` during the migration,
``MOVED`` after) loses nothing and needs no restart.
"""

from __future__ import annotations

import smtplib
import subprocess

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.ports import free_port
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.redis_cluster import key_slot, start_redis_cluster
from hikyaku_testsupport.relay import acl_users
from hikyaku_testsupport.smtp import Submitter, make_message, token
from hikyaku_testsupport.waiting import wait_for

PREFIX = "hk:{t1}:"


def loss_accounting(submitter: Submitter, receiver) -> tuple[int, int]:
    """Waits until every message that got 250 has arrived; returns (accepted, duplicates)."""
    accepted = submitter.accepted()

    def missing():
        arrived = {m["rcpt_tos"][0].lower() for m in receiver.messages()}
        return [r["rcpt"] for r in accepted if r["rcpt"].lower() not in arrived]

    wait_for(lambda: not missing(), timeout=120, interval=1, what="every accepted message to arrive")
    copies: dict[str, int] = {}
    for m in receiver.messages():
        copies[m["rcpt_tos"][0].lower()] = copies.get(m["rcpt_tos"][0].lower(), 0) + 1
    return len(accepted), sum(n - 1 for n in copies.values() if n > 1)


def submit_until(submitter: Submitter, count: int, timeout: float = 90):
    wait_for(lambda: len(submitter.accepted()) >= count, timeout=timeout, what=f"{count} accepted messages")


def test_relay_on_a_cluster_delivers_and_keeps_its_keys_in_its_slot(make_relay, receiver, redis_cluster):
    slot = key_slot(PREFIX)
    relay = make_relay("all", {"redis": redis_cluster.redis_config(PREFIX)})
    tag = token()
    recipients = [f"c{i}-{tag}@static.test" for i in range(10)]
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        for rcpt in recipients:
            smtp.sendmail(f"app-{tag}@origin.test", [rcpt], make_message(f"app-{tag}@origin.test", [rcpt], "c", "cluster\n"))
    wait_for(lambda: all(receiver.messages_to(r) for r in recipients), timeout=60, what="all ten messages to arrive")
    delivered = [e for e in relay.events() if e.get("event") == "delivered" and e.get("recipient") in recipients]
    assert len(delivered) == 10, delivered

    home = redis_cluster.node(redis_cluster.primary_port_for_slot(slot))
    assert int(home.cli("CLUSTER", "COUNTKEYSINSLOT", slot)) > 0
    # Nothing anywhere else: the other primaries hold no key at all.
    for node in redis_cluster.primaries():
        if node.port != home.port:
            assert node.cli("DBSIZE") == "0", (node.port, node.cli("SCAN", "0", "COUNT", "100"))
    # The functions were loaded on the primary the relay used (and reached its replica).
    assert "hikyaku" in home.cli("FUNCTION", "LIST", "LIBRARYNAME", "hikyaku")


def test_two_relays_with_their_own_prefixes_use_different_primaries(make_relay, receiver, redis_cluster):
    first = redis_cluster.primary_port_for_slot(key_slot(PREFIX))
    # A second tag whose slot another primary serves.
    other = next(f"hk:{{t{n}}}:" for n in range(2, 200)
                 if redis_cluster.primary_port_for_slot(key_slot(f"hk:{{t{n}}}:")) != first)
    relay_a = make_relay("all", {"redis": redis_cluster.redis_config(PREFIX)})
    # The second relay: its own prefix and listener port, the same cluster.
    port_b = free_port()
    make_relay("all", {"redis": redis_cluster.redis_config(other),
                       "ingest": {"listeners": [{"name": "relay", "address": f"127.0.0.1:{port_b}", "mode": "relay"}]}})
    tag = token()
    for port, name in ((relay_a.relay_port, "a"), (port_b, "b")):
        rcpt = f"{name}-{tag}@static.test"
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("app@origin.test", [rcpt], make_message("app@origin.test", [rcpt], name, "two relays\n"))
    wait_for(lambda: receiver.messages_to(f"a-{tag}@static.test") and receiver.messages_to(f"b-{tag}@static.test"),
             timeout=60, what="both relays' messages to arrive")
    node_b = redis_cluster.node(redis_cluster.primary_port_for_slot(key_slot(other)))
    assert node_b.port != first
    assert int(node_b.cli("CLUSTER", "COUNTKEYSINSLOT", key_slot(other))) > 0
    assert int(redis_cluster.node(first).cli("CLUSTER", "COUNTKEYSINSLOT", key_slot(PREFIX))) > 0


def test_kill9_of_the_primary_under_load_loses_no_accepted_message(make_relay, receiver, redis_cluster):
    slot = key_slot(PREFIX)
    relay = make_relay("all", {"redis": redis_cluster.redis_config(
        PREFIX, wait_replicas=1, wait_timeout="500ms", command_timeout="2s")})
    submitter = Submitter(relay.relay_port, token())
    submitter.start()
    submit_until(submitter, 20)
    failover = redis_cluster.kill_primary_of(slot)
    accepted_before = len(submitter.accepted())
    submit_until(submitter, accepted_before + 20)
    submitter.stopping.set()
    submitter.join(timeout=60)

    refused = [r for r in submitter.results if r["code"] != 250]
    assert all(r["code"] in (0, 421, 451) for r in refused), {r["code"] for r in refused}
    accepted, duplicates = loss_accounting(submitter, receiver)
    refused_late = [r for r in refused if r["time"] > failover["rejoined_at"] + 5]
    report_note(f"Redis Cluster kill -9: primary :{failover['old_port']} of slot {slot} killed, replica "
                f":{failover['new_port']} promoted after {failover['promoted_at'] - failover['killed_at']:.1f}s; "
                f"{accepted} accepted (all delivered), {len(refused)} refused with 4xx during the failover, "
                f"{duplicates} duplicate(s)")
    assert not refused_late, f"still refusing 5 s after the old primary was back as a replica: {refused_late[:3]}"
    # The relay re-read the slot map and named the promoted replica as the slot's primary.
    maps = [line for line in relay.process.log_text().splitlines() if "Redis Cluster slot map read" in line]
    assert any(f"127.0.0.1:{failover['new_port']}" in line for line in maps), maps[-3:]


def test_moving_the_slot_to_another_primary_while_mail_flows(make_relay, receiver, redis_cluster):
    slot = key_slot(PREFIX)
    relay = make_relay("all", {"redis": redis_cluster.redis_config(PREFIX)})
    submitter = Submitter(relay.relay_port, token(), pause=0.02)
    submitter.start()
    submit_until(submitter, 30)
    source = redis_cluster.primary_port_for_slot(slot)
    target = next(node.port for node in redis_cluster.primaries() if node.port != source)
    moved = redis_cluster.move_slot(slot, target, keys_per_batch=3, pause=0.15)
    accepted_before = len(submitter.accepted())
    submit_until(submitter, accepted_before + 30)
    submitter.stopping.set()
    submitter.join(timeout=60)

    assert redis_cluster.primary_port_for_slot(slot) == target
    refused = [r for r in submitter.results if r["code"] != 250]
    accepted, duplicates = loss_accounting(submitter, receiver)
    report_note(f"Redis Cluster resharding: slot {slot} ({moved} keys) moved from :{source} to :{target} while "
                f"mail flowed; {accepted} accepted (all delivered), {len(refused)} refused, {duplicates} duplicate(s)")
    # Multi-key calls get TRYAGAIN while the slot's keys are split between the two nodes;
    # the client retries them for up to redis.command_timeout, then answers 451 (the SMTP
    # client keeps the message): never a 5xx, never a loss.
    assert all(r["code"] in (0, 421, 451) for r in refused), refused[:5]
    log = relay.process.log_text()
    asks, moves = log.count("redis.redirect=ASK"), log.count("redis.redirect=MOVED")
    report_note(f"Redis Cluster resharding: the relay followed {asks} ASK and {moves} MOVED redirection(s)")
    assert moves > 0, "the relay never followed the slot to its new primary (no MOVED in its log)"
    assert int(redis_cluster.node(target).cli("CLUSTER", "COUNTKEYSINSLOT", slot)) > 0
    assert redis_cluster.node(source).cli("CLUSTER", "COUNTKEYSINSLOT", slot) == "0"


def test_queued_mail_moves_from_a_single_redis_to_the_cluster(make_relay, receiver, redis_server, redis_cluster):
    """The migration path of README "Moving to a Redis Cluster": mail accepted on a single
    Redis (prefix hk:) and not yet delivered, the relay stopped, `hikyaku redis copy-keys`
    onto the cluster (prefix hk:{moved}:), the relay started there: every message arrives once."""
    tag = token()
    ingest = make_relay("ingest")  # no worker: the mail stays queued
    recipients = [f"m{i}-{tag}@static.test" for i in range(20)]
    with smtplib.SMTP("127.0.0.1", ingest.relay_port, timeout=30) as smtp:
        for rcpt in recipients:
            smtp.sendmail(f"app-{tag}@origin.test", [rcpt], make_message(f"app-{tag}@origin.test", [rcpt], "m", "moved\n"))
    ingest.stop()
    assert not any(receiver.messages_to(r) for r in recipients)

    moved = make_relay("all", {"redis": redis_cluster.redis_config("hk:{moved}:")}, start=False)
    copy = subprocess.run([HIKYAKU_BIN, "redis", "copy-keys", "--config", str(moved.config_path),
                           "--from", redis_server.url], capture_output=True, text=True, timeout=120,
                          env=child_environment())
    assert copy.returncode == 0, copy.stderr
    copied = int(copy.stdout.split()[1])
    source_keys = subprocess.run(["redis-cli", "-p", str(redis_server.port), "--scan", "--pattern", "hk:*"],
                                 capture_output=True, text=True, timeout=30).stdout.split()
    assert copied == len(source_keys) and copied >= 20 * 2, (copy.stdout, len(source_keys))  # msg:, rix: per message
    # A second copy meets the keys it wrote and stops, naming one, instead of overwriting.
    again = subprocess.run([HIKYAKU_BIN, "redis", "copy-keys", "--config", str(moved.config_path),
                            "--from", redis_server.url], capture_output=True, text=True, timeout=120,
                           env=child_environment())
    assert again.returncode != 0 and "BUSYKEY" in again.stderr and "hk:{moved}:" in again.stderr, again.stderr

    moved.start()
    wait_for(lambda: all(receiver.messages_to(r) for r in recipients), timeout=90,
             what="the mail queued on the single Redis to arrive from the cluster")
    assert all(len(receiver.messages_to(r)) == 1 for r in recipients)
    # The events stream came along: the messages' `accepted` events from before the move.
    accepted = {r for e in moved.events() if e.get("event") == "accepted" for r in e.get("recipients") or []}
    assert set(recipients) <= accepted, sorted(set(recipients) - accepted)[:3]
    report_note(f"Redis Cluster migration: {copied} keys copied from a single Redis, 20 queued messages delivered once")


def redis_admin(relay, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HIKYAKU_BIN, "redis", *args, "--config", str(relay.config_path)],
                          capture_output=True, text=True, timeout=120, env=child_environment())


def test_queued_mail_moves_to_the_cluster_while_the_new_relays_run(make_relay, receiver, redis_server, redis_cluster):
    """README "Moving to a Redis Cluster" without stopping the SMTP service for the queue's
    copy: on the single Redis, mail waiting for a retry (greylisted once) and mail never
    tried; `copy-keys --keys state` (no queued mail), the relays started on the cluster
    and taking new mail, then `move-queue` moves the old queue in while they run. Every
    message arrives exactly once, the old queue ends empty, and the old `accepted` events
    and the global suppression list came along."""
    tag = token()
    sender = f"app-{tag}@origin.test"
    old = make_relay("all", {"delivery": {"retry_schedule": ["12s"], "retry_jitter": 0}})
    grey = [f"grey-{i}-{tag}@static.test" for i in range(5)]
    with smtplib.SMTP("127.0.0.1", old.relay_port, timeout=30) as smtp:
        for rcpt in grey:
            smtp.sendmail(sender, [rcpt], make_message(sender, [rcpt], "g", "greylisted once\n"))
    wait_for(lambda: len([e for e in old.events() if e.get("event") == "deferred"]) >= len(grey), timeout=60,
             what="every greylisted message deferred once")
    # The queue cannot be moved while a worker runs there: it could deliver what moves.
    new = make_relay("all", {"redis": redis_cluster.redis_config("hk:{rolled}:"),
                             "delivery": {"retry_schedule": ["12s"], "retry_jitter": 0}}, start=False)
    refused = redis_admin(new, "move-queue", "--from", redis_server.url)
    assert refused.returncode != 0 and "stop every worker" in refused.stderr, refused.stderr
    old.stop()
    queued = [f"q{i}-{tag}@static.test" for i in range(20)]
    old_ingest = make_relay("ingest")  # the old SMTP service up to the switch: mail stays queued
    with smtplib.SMTP("127.0.0.1", old_ingest.relay_port, timeout=30) as smtp:
        for rcpt in queued:
            smtp.sendmail(sender, [rcpt], make_message(sender, [rcpt], "q", "queued on the old Redis\n"))
    suppressed = f"gone-{tag}@static.test"
    added = subprocess.run([HIKYAKU_BIN, "suppression", "add", suppressed, "--global", "--config", str(old_ingest.config_path)],
                           capture_output=True, text=True, timeout=30, env=child_environment())
    assert added.returncode == 0, added.stderr
    old_ingest.stop()

    # 1. Everything but the queue, then the new relays start and take mail at once.
    state = redis_admin(new, "copy-keys", "--keys", "state", "--from", redis_server.url)
    assert state.returncode == 0, state.stderr
    new.start()
    fresh = [f"n{i}-{tag}@static.test" for i in range(10)]
    with smtplib.SMTP("127.0.0.1", new.relay_port, timeout=30) as smtp:
        for rcpt in fresh:
            smtp.sendmail(sender, [rcpt], make_message(sender, [rcpt], "n", "new relay\n"))
        # The suppression list came with the state.
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused_rcpt:
            smtp.sendmail(sender, [suppressed], make_message(sender, [suppressed], "s", "x\n"))
        assert refused_rcpt.value.recipients[suppressed][0] == 550, refused_rcpt.value.recipients
    # 2. The old queue moves in while they run.
    moved = redis_admin(new, "move-queue", "--from", redis_server.url)
    assert moved.returncode == 0, moved.stderr
    assert f"moved {len(queued)} entries and {len(grey)} retries of {len(queued) + len(grey)} messages" in moved.stdout, moved.stdout
    again = redis_admin(new, "move-queue", "--from", redis_server.url)
    assert again.returncode == 0 and "moved 0 entries and 0 retries" in again.stdout, again.stdout

    everyone = grey + queued + fresh
    wait_for(lambda: all(receiver.messages_to(r) for r in everyone), timeout=90,
             what="old queued mail, old retries and new mail to arrive from the cluster")
    copies = {r: len(receiver.messages_to(r)) for r in everyone}
    assert all(n == 1 for n in copies.values()), {r: n for r, n in copies.items() if n != 1}
    source = redis_server.client()
    assert source.call("ZCARD", "hk:deferred") == 0
    assert source.call("SCAN", "0", "MATCH", "hk:q:*", "COUNT", "100000")[1] == []
    assert (source.get_int("hk:depth:default") or 0) == 0
    # The events came with the state: the old messages' `accepted`, then their deliveries.
    events = new.events()
    accepted = {r for e in events if e.get("event") == "accepted" for r in e.get("recipients") or []}
    assert set(grey + queued) <= accepted
    report_note(f"rolling move to a Redis Cluster: {state.stdout.strip()}; {moved.stdout.strip()}; "
                f"{len(everyone)} messages (5 retries, 20 never tried, 10 new) delivered once")


def test_ingest_and_worker_on_a_cluster_each_with_its_own_acl_user(make_relay, receiver, redis_cluster):
    """The roles' ACL users (`hikyaku redis acl --key-prefix --limits-key-prefix`) work on a
    cluster whose limit keys live on another primary than the queue: they may read the slot
    map (CLUSTER SLOTS) and follow a migration (ASKING), and no more than on a single Redis —
    e.g. the ingest user still may not load functions, so `load-functions` (admin) loads them
    on every primary."""
    prefix = "hk:{acl}:"
    limits = redis_cluster.prefix_on_another_primary(prefix)
    passwords = {role: f"{role}-{token()}{token()}" for role in ("ingest", "worker", "admin")}
    redis_cluster.add_acl_users(acl_users(HIKYAKU_BIN, passwords, key_prefix=prefix, limits_key_prefix=limits))

    def role(name: str) -> dict:
        return {"redis": {**redis_cluster.redis_config(prefix, limits_key_prefix=limits),
                          "url": f"redis://hikyaku-{name}:{passwords[name]}@cluster/0"}}

    ingest = make_relay("ingest", role("ingest"), start=False)
    loaded = subprocess.run([HIKYAKU_BIN, "redis", "load-functions", "--config", str(ingest.config_path), "--redis-url",
                             f"redis://hikyaku-admin:{passwords['admin']}@cluster/0"],
                            capture_output=True, text=True, timeout=60, env=child_environment())
    assert loaded.returncode == 0, loaded.stderr
    for node in redis_cluster.primaries():
        assert "hikyaku" in node.cli("FUNCTION", "LIST", "LIBRARYNAME", "hikyaku"), f"no functions on primary {node.port}"
    ingest.start()
    make_relay("worker", role("worker"))
    tag = token()
    rcpt = f"acl-{tag}@static.test"
    with smtplib.SMTP("127.0.0.1", ingest.relay_port, timeout=30) as smtp:
        smtp.sendmail("app@origin.test", [rcpt], make_message("app@origin.test", [rcpt], "acl", "acl users\n"))
    wait_for(lambda: receiver.messages_to(rcpt), timeout=60, what="the message to arrive through the role users")
    home = redis_cluster.node(redis_cluster.primary_port_for_slot(key_slot(prefix)))
    refusal = subprocess.run(["redis-cli", "-p", str(home.port), "--user", "hikyaku-ingest", "--pass", passwords["ingest"],
                              "--no-auth-warning", "FUNCTION", "LOAD", "#!lua name=evil\nredis.register_function('x', function() return 1 end)"],
                             capture_output=True, text=True, timeout=10)
    assert "NOPERM" in refusal.stdout + refusal.stderr
    slots = subprocess.run(["redis-cli", "-p", str(home.port), "--user", "hikyaku-worker", "--pass", passwords["worker"],
                            "--no-auth-warning", "CLUSTER", "SLOTS"], capture_output=True, text=True, timeout=10)
    assert "NOPERM" not in slots.stdout and str(home.port) in slots.stdout
    # The worker charged the limits on their own primary, under its ACL user.
    limits_node = redis_cluster.node(redis_cluster.primary_port_for_slot(key_slot(limits)))
    assert limits + "leaseseq" in limits_node.cli("SCAN", "0", "MATCH", limits + "*", "COUNT", "10000")


def test_relay_on_a_tls_cluster_follows_a_failover(make_relay, receiver, tmp_path):
    """TLS everywhere (clients, cluster bus, replication): the relay reads the slot map,
    delivers, and after a kill -9 of its slot's primary finds the promoted replica over TLS."""
    cluster = start_redis_cluster(tmp_path / "tls-cluster", tls=True)
    try:
        relay = make_relay("all", {"redis": cluster.redis_config(PREFIX)})
        tag = token()

        def send(name: str) -> str:
            rcpt = f"{name}-{tag}@static.test"
            with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
                smtp.sendmail("app@origin.test", [rcpt], make_message("app@origin.test", [rcpt], name, "over TLS\n"))
            return rcpt

        first = send("before")
        wait_for(lambda: receiver.messages_to(first), timeout=60, what="the first message over the TLS cluster")
        failover = cluster.kill_primary_of(key_slot(PREFIX))
        second = wait_for(lambda: send("after"), timeout=60, what="a message accepted after the failover")
        wait_for(lambda: receiver.messages_to(second), timeout=60, what="the message after the failover")
        home = cluster.node(failover["new_port"])
        assert int(home.cli("CLUSTER", "COUNTKEYSINSLOT", key_slot(PREFIX))) > 0
        # The nodes speak only TLS: a plain-text client gets nothing.
        plain = subprocess.run(["redis-cli", "-p", str(home.port), "PING"], capture_output=True, text=True, timeout=10)
        assert "PONG" not in plain.stdout
    finally:
        cluster.stop()
