"""Redis high availability (issue 6): the relay finds the primary through Sentinel, follows
it through a failover, and with `redis.wait_replicas` answers 250 only once a replica has
the message too — so an accepted message survives the loss of the primary.

Real parts on loopback: a primary and a replica redis-server (AOF, appendfsync always),
three redis-sentinel processes (quorum 2), the relay, the recording receiver, and smtplib
clients. The primary is killed with SIGKILL while clients keep submitting.
"""

from __future__ import annotations

import smtplib
import threading
import time
from pathlib import Path

import pytest

from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.ports import free_port
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.redis_servers import RedisServer, redis_cli
from hikyaku_testsupport.resp import redis_ping
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

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


@pytest.fixture
def redis_ha(tmp_path):
    primary = redis_node(tmp_path / "redis-a").start()
    replica = redis_node(tmp_path / "redis-b", replica_of=primary.port).start()
    wait_for(lambda: "master_link_status:up" in redis_cli(replica.port, "INFO", "replication"),
             what="the replica to sync with the primary")
    sentinels = [Sentinel(tmp_path / f"sentinel-{i}", primary.port).start() for i in range(3)]
    # Every Sentinel must know the replica and the other Sentinels before a failover can work.
    wait_for(lambda: all(redis_cli(s.port, "SENTINEL", "replicas", MASTER).count("slave") >= 1 or
                         "127.0.0.1" in redis_cli(s.port, "SENTINEL", "replicas", MASTER) for s in sentinels)
             and all(int((redis_cli(s.port, "SENTINEL", "master", MASTER).split("num-other-sentinels")[1].split()[0])) >= 2
                     for s in sentinels),
             timeout=30, interval=0.5, what="the Sentinels to discover the replica and each other")
    yield {"primary": primary, "replica": replica, "sentinels": sentinels}
    for node in sentinels + [replica, primary]:
        node.process.stop()


class Submitter(threading.Thread):
    """Submits one message after another on fresh connections until stopped; records the
    final reply of each (250 = accepted, anything else = refused, the client keeps it)."""

    def __init__(self, port: int, tag: str, pause: float = 0.05):
        super().__init__(daemon=True)
        self.port, self.tag, self.pause = port, tag, pause
        self.results: list[dict] = []
        self.stopping = threading.Event()

    def run(self):
        index = 0
        while not self.stopping.is_set():
            rcpt = f"ha{index:05d}-{self.tag}@static.test"
            message_id = f"<ha-{self.tag}-{index}@client.test>"
            message = make_message(f"app-{self.tag}@origin.test", [rcpt], f"ha {index}", "failover test\n", message_id)
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
                    smtp.sendmail(f"app-{self.tag}@origin.test", [rcpt], message)
                code = 250
            except smtplib.SMTPResponseException as error:
                code = error.smtp_code
            except (smtplib.SMTPException, OSError):
                code = 0
            self.results.append({"rcpt": rcpt, "code": code, "time": time.time()})
            index += 1
            time.sleep(self.pause)


def test_failover_of_the_primary_loses_no_accepted_message(make_relay, receiver, redis_ha):
    sentinels = redis_ha["sentinels"]
    relay = make_relay("all", {"redis": {"url": None, "sentinels": [f"127.0.0.1:{s.port}" for s in sentinels],
                                         "master_name": MASTER, "wait_replicas": 1, "wait_timeout": "500ms",
                                         "command_timeout": "2s"}})
    tag = token()
    submitter = Submitter(relay.relay_port, tag)
    submitter.start()
    wait_for(lambda: len([r for r in submitter.results if r["code"] == 250]) >= 20, what="20 accepted messages")

    old_primary = redis_ha["primary"]
    old_port = old_primary.port
    killed_at = time.time()
    old_primary.process.kill9()
    new_port = wait_for(lambda: (p := sentinels[0].primary_port()) not in (None, old_port) and p, timeout=60,
                        interval=0.2, what="the Sentinels to promote the replica")
    promoted_at = time.time()
    # The old primary comes back and is turned into a replica of the new one, so WAIT 1
    # can be satisfied again.
    returned = redis_node(old_primary.directory, port=old_port).start()
    wait_for(lambda: "role:slave" in redis_cli(old_port, "INFO", "replication")
             and "master_link_status:up" in redis_cli(old_port, "INFO", "replication"),
             timeout=60, interval=0.5, what="the old primary to rejoin as a replica")
    rejoined_at = time.time()
    accepted_before = len([r for r in submitter.results if r["code"] == 250])
    wait_for(lambda: len([r for r in submitter.results if r["code"] == 250]) >= accepted_before + 20,
             timeout=60, what="20 more accepted messages after the failover")
    submitter.stopping.set()
    submitter.join(timeout=60)

    accepted = [r for r in submitter.results if r["code"] == 250]
    refused = [r for r in submitter.results if r["code"] != 250]
    assert all(r["code"] in (0, 421, 451) for r in refused), {r["code"] for r in refused}
    # Loss accounting: every message that got 250 reaches the receiver.
    def missing():
        arrived = {m["rcpt_tos"][0].lower() for m in receiver.messages()}
        return [r["rcpt"] for r in accepted if r["rcpt"].lower() not in arrived]
    wait_for(lambda: not missing(), timeout=90, interval=1, what="every accepted message to arrive")
    copies = {}
    for m in receiver.messages():
        copies[m["rcpt_tos"][0].lower()] = copies.get(m["rcpt_tos"][0].lower(), 0) + 1
    duplicates = sum(n - 1 for n in copies.values() if n > 1)
    # Until a replica is back, WAIT 1 cannot be satisfied and 451 is the right answer; once
    # one is, messages are accepted again (a few seconds for connections to settle).
    refused_late = [r for r in refused if r["time"] > rejoined_at + 5]
    report_note(f"failover: primary :{old_port} killed, :{new_port} promoted after {promoted_at - killed_at:.1f}s, "
                f"old primary back as a replica after {rejoined_at - killed_at:.1f}s; "
                f"{len(accepted)} accepted (all delivered), {len(refused)} refused with 4xx/connection errors during the "
                f"failover (clients keep those), {duplicates} duplicate(s) at the receiver")
    assert not refused_late, f"still refusing 5 s after a replica was back: {refused_late[:3]}"
    assert "not the primary" in relay.process.log_text() or "re-established" in relay.process.log_text() \
        or "Connection attempt failed" in relay.process.log_text()
    returned.process.stop()


def test_wait_replicas_refuses_with_451_when_no_replica_confirms(make_relay, receiver, redis_ha):
    sentinels = redis_ha["sentinels"]
    relay = make_relay("all", {"redis": {"url": None, "sentinels": [f"127.0.0.1:{s.port}" for s in sentinels],
                                         "master_name": MASTER, "wait_replicas": 1, "wait_timeout": "300ms"}})
    tag = token()
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.sendmail("a@origin.test", [f"ok-{tag}@static.test"],
                      make_message("a@origin.test", [f"ok-{tag}@static.test"], "ok", "with the replica\n"))
    # Without the replica, the primary still takes the write, but nobody confirms it: the
    # client must not be told 250 (the message would not survive the primary's loss).
    redis_ha["replica"].process.stop()
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("a@origin.test", [f"lonely-{tag}@static.test"],
                          make_message("a@origin.test", [f"lonely-{tag}@static.test"], "lonely", "no replica\n"))
    assert refused.value.smtp_code == 451, refused.value
    assert "4.3.0" in refused.value.smtp_error.decode(), refused.value
    wait_for(lambda: receiver.messages_to(f"ok-{tag}@static.test"), what="the confirmed message to arrive")
