"""No webhook event is lost across a Redis failover (issue 12: at-least-once; receivers
dedupe by `event_id`; events are as durable as the queue).

Real parts on loopback: the Sentinel-managed primary and replica of test_failover.py
(``redis_ha``), an API, a worker and a separate webhook dispatcher process all finding the
primary through the Sentinels with `redis.wait_replicas: 1`, the recording SMTP receiver,
and test_webhooks.py's HTTP receiver that verifies every request's signature. Messages are
sent over the HTTP API while the primary is SIGKILLed; every message answered 202 must
have its `accepted` and `delivered` events at the webhook. Duplicates are counted, not
refused: a step acknowledged by the old primary but not yet replicated is done again.
"""

from __future__ import annotations

import threading
import time

import requests

from hikyaku_testsupport.notes import report_note
from hikyaku_testsupport.smtp import token
from hikyaku_testsupport.waiting import wait_for

from test_api import API, make_account, wait_loaded
from test_webhooks import FAST_KEY, FAST_RETRIES, add_endpoint, api_process, hooks  # noqa: F401 (fixture)

TARGET = 200


class APISender(threading.Thread):
    """POSTs one message after another until `target` are accepted (or stopped); records
    each answer (202 = accepted with its queue id; 503 and connection errors are refused:
    the client keeps the message)."""

    def __init__(self, api: API, tag: str, target: int, pause: float = 0.02):
        super().__init__(daemon=True)
        self.api, self.tag, self.target, self.pause = api, tag, target, pause
        self.results: list[dict] = []
        self.stopping = threading.Event()

    def accepted(self) -> list[dict]:
        return [r for r in self.results if r["status"] == 202]

    def run(self):
        index = 0
        while not self.stopping.is_set() and len(self.accepted()) < self.target:
            rcpt = f"f{index:04d}-{self.tag}@static.test"
            body = {"from": "app@acme.example", "to": rcpt, "subject": "s", "text": "t"}
            try:
                answer = self.api.post("/v1/messages", body)
                status, queue_id = answer.status_code, answer.json().get("id") if answer.status_code == 202 else None
            except (requests.RequestException, ValueError):
                status, queue_id = 0, None
            self.results.append({"status": status, "id": queue_id, "rcpt": rcpt, "time": time.time()})
            index += 1
            time.sleep(self.pause)


def test_redis_failover_loses_no_webhook_event(make_relay, receiver, redis_ha, hooks):  # noqa: F811
    redis = {"redis": redis_ha.redis_config(wait_replicas=1, wait_timeout="500ms", command_timeout="2s")}
    api = api_process(make_relay, "api", redis)
    make_relay("worker", redis)
    dispatcher = make_relay("webhooks", {**redis, "webhooks": FAST_RETRIES})
    wait_for(lambda: "webhook dispatcher running" in dispatcher.process.log_text(), what="the dispatcher")
    key = make_account(api, "acme", "acme.example", rate=FAST_KEY)
    wait_loaded(api, 1)
    _, secret = add_endpoint(api, "acme", f"http://127.0.0.1:{hooks.port}/", "--allow-private")
    hooks.secrets = [secret]

    sender = APISender(API(f"http://127.0.0.1:{api.api_port}", key), token(), TARGET)
    sender.start()
    # Mid-run, with events in every state: in the stream, in the outbox, being POSTed.
    wait_for(lambda: len(sender.accepted()) >= TARGET // 3 and len(hooks.events) >= 10,
             what="a third of the messages accepted and the first events at the webhook")
    failover = redis_ha.fail_over()
    sender.join(timeout=180)
    assert not sender.is_alive(), f"only {len(sender.accepted())} of {TARGET} accepted 3 minutes on"

    accepted = [r["id"] for r in sender.accepted()]
    refused = [r for r in sender.results if r["status"] != 202]
    assert all(r["status"] in (0, 503) for r in refused), {r["status"] for r in refused}
    assert len(set(accepted)) == len(accepted)

    def missing() -> list[tuple[str, str]]:
        seen = hooks.kinds_by_queue_id()
        return [(qid, kind) for qid in accepted for kind in ("accepted", "delivered") if kind not in seen.get(qid, set())]
    try:
        wait_for(lambda: not missing(), timeout=120, interval=1, what="every accepted message's events at the webhook")
    finally:
        lost = missing()
        arrivals = sorted(hooks.arrivals.values())
        resumed = next((t for t in arrivals if t > failover.promoted_at), None)
        report_note(
            f"webhooks across a Redis failover: primary :{failover.old_port} killed, :{failover.new_port} promoted after "
            f"{failover.promoted_at - failover.killed_at:.1f}s, replica back after {failover.rejoined_at - failover.killed_at:.1f}s; "
            f"{len(accepted)} accepted (202), {len(refused)} refused during the failover; {len(hooks.events)} distinct events "
            f"at the webhook in {hooks.requests} POSTs, {hooks.duplicates} duplicate(s), {len(lost)} missing; "
            f"first event after the promotion {(resumed or 0) - failover.killed_at:.1f}s after the kill, "
            f"last {(arrivals or [0])[-1] - failover.killed_at:.1f}s after it")
    assert hooks.bad_signatures == 0
    # The accepted messages themselves arrived too (the events say so; the receiver agrees).
    arrived = {m["rcpt_tos"][0].lower() for m in receiver.messages()}
    assert not [r["rcpt"] for r in sender.accepted() if r["rcpt"].lower() not in arrived]
