"""No accepted message lost, nothing accepted that is not durable: Redis outages and
kill -9 of a delivery worker."""

import collections
import smtplib

import pytest

from hikyaku_testsupport.events import wait_for_event
from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.smtp import make_message, queue_id_from, token
from hikyaku_testsupport.waiting import wait_for


def send_until_accepted(relay, sender: str, rcpt: str, message: bytes) -> str:
    """Sends one message, retrying while the relay answers 4xx (e.g. right after Redis
    came back); returns its queue id."""
    def attempt():
        with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            code, reply = smtp.mail(sender)
            assert code == 250, (code, reply)
            code, reply = smtp.rcpt(rcpt)
            assert code == 250, (code, reply)
            code, reply = smtp.data(message)
            if code == 250:
                return queue_id_from(reply)
            assert 400 <= code < 500, f"the relay refused permanently: {code} {reply!r}"
            return None
    return wait_for(attempt, interval=0.5, what="the relay to accept a message again")


@pytest.mark.parametrize("first_part_size", [200, 700 * 1024], ids=["small", "streamed"])
def test_redis_stopped_during_data_gets_451_and_nothing_is_accepted(relay, receiver, redis_server, first_part_size):
    tok = token()
    sender = f"sender-{tok}@origin.test"
    rcpt = f"lost-{tok}@example.test"
    message_id = f"<lost-{tok}@client.test>"
    body = "\n".join(f"line {i:06d} {tok} " + "z" * 60 for i in range(first_part_size // 70 + 50)) + "\n"
    message = make_message(sender, [rcpt], f"redis down {tok}", body, message_id)
    # Big enough "first part" that, in the streamed case, the relay has started storing the
    # body in Redis before it goes away.
    split = min(first_part_size, len(message) - 100)
    split = message.rfind(b"\r\n", 0, split) + 2
    first, rest = message[:split], message[split:]

    smtp = smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=60)
    try:
        smtp.ehlo("client.test")
        assert smtp.mail(sender)[0] == 250
        assert smtp.rcpt(rcpt)[0] == 250
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        assert code == 354, (code, reply)
        smtp.send(first)
        redis_server.stop()
        smtp.send(rest + b".\r\n")
        code, reply = smtp.getreply()
        print(f"reply to the final dot with Redis stopped: {code} {reply!r}")
        assert code == 451, f"expected 451 with Redis down, got {code} {reply!r}"
        assert b"4.3.0" in reply, reply
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    redis_server.start()
    # Sync point instead of a sleep: a message sent after the restart to the same
    # destination is delivered; the lost one, had it been stored, would have been
    # delivered along with it.
    marker = f"marker-{tok}@example.test"
    send_until_accepted(relay, sender, marker, make_message(sender, [marker], "marker", "marker\n"))
    wait_for_event(relay, "delivered", marker)
    wait_for(lambda: receiver.messages_to(marker), what="the marker message at the receiver")

    assert receiver.messages_to(rcpt) == [], "a message answered 451 was delivered"
    assert receiver.messages_with(message_id.encode()) == []
    assert relay.events(message_id=message_id) == [], "events exist for a message answered 451"
    assert [e for e in relay.events() if e["event"] == "accepted" and rcpt in e.get("recipients", [])] == []


def test_kill9_worker_mid_batch_loses_nothing(make_relay, receiver):
    overrides = {"delivery": {"concurrency": 8}}
    ingest = make_relay("ingest", overrides)
    worker = make_relay("worker", overrides)
    tok = token()
    sender = f"sender-{tok}@origin.test"

    accepted: dict[str, str] = {}   # Message-ID -> recipient
    with smtplib.SMTP("127.0.0.1", ingest.relay_port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        for i in range(20):
            rcpt = f"slow-{tok}-{i:02d}@k{i % 5 + 1}.test"
            message_id = f"<kill-{tok}-{i:02d}@client.test>"
            message = make_message(sender, [rcpt], f"kill -9 test {i}", f"message {i} of 20, {tok}\n", message_id)
            assert smtp.mail(sender)[0] == 250
            assert smtp.rcpt(rcpt)[0] == 250
            code, reply = smtp.data(message)
            if code == 250:
                accepted[message_id] = rcpt
            else:
                print(f"message {i} not accepted: {code} {reply!r}")
    assert len(accepted) == 20, f"only {len(accepted)} of 20 messages accepted with everything healthy"

    def arrived() -> collections.Counter:
        counts = collections.Counter()
        for m in receiver.messages():
            for message_id in accepted:
                if message_id.encode() in m["data"]:
                    counts[message_id] += 1
        return counts

    # Kill the worker while deliveries are in progress (the receiver answers each after 2 s).
    wait_for(lambda: len(arrived()) >= 1, what="the first deliveries by the worker")
    worker.kill9()
    before = arrived()
    report_note(f"kill -9 test: {len(before)} of 20 messages had reached the receiver when the worker was killed")
    if len(before) == 20:
        pytest.skip("the worker delivered everything before it could be killed; nothing was tested")

    make_relay("worker", overrides)
    final = wait_for(lambda: (lambda c: c if len(c) == len(accepted) else None)(arrived()), timeout=90,
                     what="every accepted message to reach the receiver after the worker was replaced")
    missing = [mid for mid in accepted if final[mid] == 0]
    assert not missing, f"lost messages: {missing}"
    duplicates = sum(count - 1 for count in final.values())
    report_note(f"kill -9 test: all 20 accepted messages delivered; duplicates at the receiver: {duplicates}")

    # Every recipient also gets a final 'delivered' event.
    for message_id, rcpt in accepted.items():
        wait_for_event(ingest, "delivered", rcpt, timeout=30)
    assert worker.process.proc.returncode == -9
