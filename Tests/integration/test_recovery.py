"""Recovery after a crash (issue 10, item 10): a worker restarted after kill -9 takes back
the work its killed run had claimed at once — under its stable identity (`node_name`/slot)
— instead of waiting for `claim_timeout`; and two live processes never share an identity."""

import collections
import re
import smtplib
import threading
import time

from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.receiver import Receiver
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

DOMAIN = "recover.test"
# Far longer than the test may take: a pass proves nothing waited for a claim to lapse.
CLAIM_TIMEOUT = "300s"


def load(port: int, sender: str, messages: list[tuple[str, str]], threads: int = 4) -> int:
    """Sends (message_id, rcpt) pairs over `threads` SMTP sessions; returns how many were accepted."""
    accepted = collections.Counter()

    def send(part):
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            smtp.ehlo("client.test")
            for message_id, rcpt in part:
                message = make_message(sender, [rcpt], "recovery", f"{message_id}\n", message_id)
                smtp.sendmail(sender, [rcpt], message)
                accepted[threading.get_ident()] += 1

    parts = [messages[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=send, args=(part,)) for part in parts]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(accepted.values())


def arrived(receivers: list[Receiver], ids: set[bytes]) -> dict[bytes, list[float]]:
    """Message-ID -> arrival times, over every receiver."""
    found: dict[bytes, list[float]] = collections.defaultdict(list)
    pattern = re.compile(rb"Message-ID: (<[^>]+>)", re.IGNORECASE)
    for receiver in receivers:
        for m in receiver.messages():
            match = pattern.search(m["data"])
            if match and match.group(1) in ids:
                found[match.group(1)].append(m["time"])
    return found


def test_kill9_restart_delivers_claimed_work_without_waiting_for_claim_timeout(request, tmp_path, certs, make_relay,
                                                                                redis_server):
    total = 2000
    for name in ("slow-mx", "fast-mx"):
        (tmp_path / name).mkdir()
    slow = Receiver(tmp_path / "slow-mx", *certs["receiver"], behaviours={DOMAIN: "slow:2"})
    slow.start()
    request.addfinalizer(slow.stop)
    overrides = {
        "node_name": "recovery-test",
        "delivery": {"concurrency": 16, "claim_timeout": CLAIM_TIMEOUT, "routes": {DOMAIN: f"127.0.0.1:{slow.port}"}},
    }
    relay = make_relay("all", overrides)
    tok = token()
    sender = f"sender-{tok}@origin.test"
    messages = [(f"<rec-{tok}-{i:05d}@client.test>", f"r{i:05d}-{tok}@{DOMAIN}") for i in range(total)]
    ids = {mid.encode() for mid, _ in messages}

    started = time.monotonic()
    assert load(relay.relay_port, sender, messages) == total
    report_note(f"recovery test: {total} messages accepted in {time.monotonic() - started:.1f}s")
    # The receiver answers each message after 2 s, so most of the queue is claimed in
    # batches that are still in flight when the relay dies. Claims are acknowledged as
    # outcomes come and new batches claimed, so what is in flight goes up and down (about
    # 95-130 entries): the kill waits for a moment with at least 100, read just before it.
    def in_flight() -> int | None:
        if len(arrived([slow], ids)) < 5:
            return None
        claimed = int(redis_server.command("XPENDING", f"hk:q:default:{DOMAIN}", "workers").split(b"\n")[0] or 0)
        return claimed if claimed >= 100 else None
    pending = wait_for(in_flight, timeout=60, interval=0.05,
                       what="the first deliveries, with at least 100 entries claimed in flight")
    relay.kill9()
    before = len(arrived([slow], ids))
    report_note(f"recovery test: kill -9 with {before} of {total} delivered and {pending} claimed in flight")
    assert pending >= 100, f"only {pending} entries were claimed in flight; the test would prove little"

    # The same MX, answering at once now, on the same port.
    slow.process.stop()
    fast = Receiver(tmp_path / "fast-mx", *certs["receiver"], port=slow.port)
    fast.start()
    request.addfinalizer(fast.stop)

    restarted_at = time.time()
    again = make_relay("all", overrides)
    final = wait_for(lambda: (lambda a: a if len(a) == total else None)(arrived([slow, fast], ids)), timeout=150,
                     what=f"all {total} messages delivered after the restart (claim_timeout is {CLAIM_TIMEOUT})")
    after = [t for times in arrived([fast], ids).values() for t in times]
    recovery = max(after) - restarted_at
    duplicates = sum(len(times) - 1 for times in final.values())
    report_note(f"recovery test: all {total} delivered {recovery:.1f}s after the restart "
                f"({len(after)} deliveries after it, {duplicates} duplicates)")
    log = again.process.log_text()
    match = re.search(r"took back (\d+) item\(s\) claimed and (\d+) connection lease\(s\)", log)
    assert match, "the restarted worker did not report taking back its earlier run's claims"
    assert int(match.group(1)) > 0
    assert "delivery worker recovery-test/0 started" in log, "the restarted worker did not take its old identity back"


def worker_name(relay) -> str | None:
    match = re.search(r"delivery worker (\S+) started", relay.process.log_text())
    return match.group(1) if match else None


def test_second_live_process_with_same_node_name_gets_another_identity(make_relay, redis_server):
    overrides = {"node_name": "twin"}
    first = make_relay("worker", overrides)
    assert wait_for(lambda: worker_name(first), what="the first worker to start") == "twin/0"
    second = make_relay("worker", overrides)
    assert wait_for(lambda: worker_name(second), what="the second worker to start") == "twin/1"
    holder0 = redis_server.command("GET", "hk:node:twin/0").strip()
    holder1 = redis_server.command("GET", "hk:node:twin/1").strip()
    assert holder0 and holder1 and holder0 != holder1

    # A killed holder's identity is taken back at once by a restart on this machine (its
    # PID is gone), while the live second process keeps its own.
    first.kill9()
    third = make_relay("worker", overrides)
    assert wait_for(lambda: worker_name(third), what="the restarted worker to start") == "twin/0"
    assert "took over worker identity twin/0" in third.process.log_text()
    assert redis_server.command("GET", "hk:node:twin/1").strip() == holder1
    assert second.alive()

    # A graceful stop gives the identity back.
    second.stop()
    assert redis_server.command("EXISTS", "hk:node:twin/1").strip() == b"0"


def test_a_worker_whose_identity_is_taken_stops(make_relay, redis_server):
    worker = make_relay("worker", {"node_name": "lost", "delivery": {"node_lease": "3s"}})
    assert wait_for(lambda: worker_name(worker), what="the worker to start") == "lost/0"
    # As if another process had taken it while this one was cut off from Redis.
    redis_server.command("SET", "hk:node:lost/0", "v1:other:process", "PX", "60000")
    wait_for(lambda: not worker.alive(), timeout=20, what="the worker to stop once its identity is held by another process")
    assert worker.process.proc.returncode != 0
    assert "is now held by another process" in worker.process.log_text()
    assert redis_server.command("GET", "hk:node:lost/0").strip() == b"v1:other:process", "it must not release another's identity"
