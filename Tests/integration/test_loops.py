"""Mail loops (issue 10, item 1): a domain whose MX is the relay itself must not make the
relay take the message back again and again (RFC 5321 §5.1, §6.3).

- A real MX record (dnsmasq) pointing at the relay's own listener: the worker refuses to
  connect, the recipient bounces once with 5.4.6, the message is accepted once.
- The same through a wildcard listener (0.0.0.0) and this host's non-loopback address.
- Without ``delivery.allowed_mx_networks`` a loopback MX is refused (5.4.4) while a static
  route to loopback still delivers.
- More than ``ingest.max_received_headers`` Received: fields: 554 5.4.6 at the dot; and a
  queued message over a worker's limit is bounced with 5.4.6.
"""

import smtplib
import subprocess
import time

import pytest

from hikyaku_testsupport.dns import Dnsmasq
from hikyaku_testsupport.events import events_of_kind, wait_for_event
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import DEFAULT_TIMEOUT, wait_for
from hikyaku_testsupport.world import STATIC_DOMAIN


def send(port: int, sender: str, recipients: list[str], message: bytes):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        return smtp.sendmail(sender, recipients, message)


def with_received(count: int, tok: str, sender: str, rcpt: str) -> bytes:
    """A message whose header starts with ``count`` Received: fields (as after that many hops)."""
    trace = [f"Received: from hop{i}.test ([192.0.2.{i % 250 + 1}])\r\n\tby hop{i + 1}.test with ESMTP id H{i};"
             f" Thu, 01 Jan 2026 00:00:{i % 60:02d} +0000" for i in range(count)]
    body = make_message(sender, [rcpt], f"loop {tok}", f"hops {count}\n", message_id=f"<{tok}@origin.test>")
    return ("\r\n".join(trace) + "\r\n").encode() + body


def relay_port_of(config: dict) -> int:
    return int(config["ingest"]["listeners"][0]["address"].rsplit(":", 1)[1])


@pytest.mark.parametrize("roles", [["all"], ["ingest", "worker"]])
def test_mx_pointing_at_the_relay_itself_bounces_once_with_5_4_6(make_relay, relay_config, receiver, roles):
    # example.test's MX (dnsmasq) is mx.example.test = 127.0.0.1; with mx_port set to the
    # relay's own listener port, delivering means connecting to the relay itself. With
    # ingest and worker in separate processes the worker knows the listeners from the
    # configuration file they share.
    port = relay_port_of(relay_config)
    relay = [make_relay(role, {"delivery": {"mx_port": port}}) for role in roles][-1]
    tok = token()
    sender, rcpt = f"s-{tok}@origin.test", f"loop-{tok}@example.test"
    send(relay.relay_port, sender, [rcpt], make_message(sender, [rcpt], f"loop {tok}", "x\n", message_id=f"<{tok}@origin.test>"))

    events = wait_for_event(relay, "bounced", rcpt)
    [bounce] = events_of_kind(events, "bounced", rcpt)
    assert "5.4.6" in bounce["reply"], bounce
    assert f"127.0.0.1]:{port}" in bounce["reply"], f"the reply must name the refused address: {bounce['reply']}"
    # Were the loop still there, copies would keep being accepted meanwhile.
    time.sleep(2)
    accepted = events_of_kind(relay.events(message_id=f"<{tok}@origin.test>"), "accepted")
    assert len(accepted) == 1, f"accepted {len(accepted)} times: {accepted}"
    assert events_of_kind(relay.events(recipient=rcpt), "bounced", rcpt) == [bounce]
    assert not receiver.messages_to(rcpt)


def local_ipv4() -> str | None:
    """A non-loopback IPv4 address of this host, or None."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


@pytest.fixture
def self_dns(tmp_path):
    """A second dnsmasq: self.test's MX is this host's own non-loopback address."""
    address = local_ipv4()
    if address is None:
        pytest.skip("this host has no non-loopback IPv4 address")
    server = Dnsmasq(tmp_path, ["--local=/test/", "--mx-host=self.test,mx.self.test,10",
                                f"--host-record=mx.self.test,{address}"],
                     probe="self.test", name="dnsmasq (self.test)", stem="self-dns").start()
    yield {"address": address, "server": server.address}
    server.stop()


def test_wildcard_listener_matches_every_local_address(make_relay, relay_config, receiver, self_dns):
    # The relay listens on 0.0.0.0:P; self.test's MX is this host's eth address, which is
    # neither loopback nor otherwise forbidden: only the listener check can refuse it.
    port = relay_port_of(relay_config)
    listeners = [dict(l) for l in relay_config["ingest"]["listeners"]]
    listeners[0]["address"] = f"0.0.0.0:{port}"
    # The host's own address is allow-listed, as an operator's LAN would be: without the
    # check, every delivery would be taken back in as a new message.
    relay = make_relay("all", {"ingest": {"listeners": listeners,
                                          "relay_networks": ["127.0.0.1/32", f"{self_dns['address']}/32"]},
                               "delivery": {"mx_port": port, "dns_servers": [self_dns["server"]]}})
    tok = token()
    sender, rcpt = f"s-{tok}@origin.test", f"loop-{tok}@self.test"
    send(relay.relay_port, sender, [rcpt], make_message(sender, [rcpt], f"loop {tok}", "x\n", message_id=f"<{tok}@origin.test>"))

    [bounce] = events_of_kind(wait_for_event(relay, "bounced", rcpt), "bounced", rcpt)
    assert "5.4.6" in bounce["reply"] and f"{self_dns['address']}]:{port}" in bounce["reply"], bounce
    time.sleep(2)
    assert len(events_of_kind(relay.events(message_id=f"<{tok}@origin.test>"), "accepted")) == 1


def test_loopback_mx_is_refused_by_default_but_static_routes_work(make_relay, relay_config, receiver):
    del relay_config["delivery"]["allowed_mx_networks"]
    relay = make_relay("all")
    tok = token()
    sender = f"s-{tok}@origin.test"
    mx_rcpt, routed_rcpt = f"mx-{tok}@example.test", f"routed-{tok}@{STATIC_DOMAIN}"
    send(relay.relay_port, sender, [mx_rcpt], make_message(sender, [mx_rcpt], f"mx {tok}", "x\n"))
    send(relay.relay_port, sender, [routed_rcpt], make_message(sender, [routed_rcpt], f"routed {tok}", "x\n"))

    [bounce] = events_of_kind(wait_for_event(relay, "bounced", mx_rcpt), "bounced", mx_rcpt)
    assert "5.4.4" in bounce["reply"] and "[127.0.0.1]" in bounce["reply"] and "loopback" in bounce["reply"], bounce
    assert not receiver.messages_to(mx_rcpt), "the receiver on 127.0.0.1 must not have been contacted"
    # A static route is the operator's explicit choice: it bypasses the check.
    wait_for_event(relay, "delivered", routed_rcpt)
    assert receiver.messages_to(routed_rcpt)


def test_too_many_received_fields_are_refused_at_the_dot(relay, receiver):
    tok = token()
    sender, rcpt = f"s-{tok}@origin.test", f"hops-{tok}@example.test"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(relay.relay_port, sender, [rcpt], with_received(31, tok, sender, rcpt))
    assert refused.value.smtp_code == 554, refused.value
    assert refused.value.smtp_error.startswith(b"5.4.6"), refused.value

    # 30 is the limit, not over it: accepted and delivered, with the relay's own on top.
    ok = f"ok-{tok}@example.test"
    send(relay.relay_port, sender, [ok], with_received(30, tok + "b", sender, ok))
    [message] = wait_for(lambda: receiver.messages_to(ok), what="the 30-hop message to arrive")
    assert message["data"].count(b"\nReceived: ") + message["data"].startswith(b"Received: ") == 31
    assert not receiver.messages_to(rcpt)


def test_queued_message_over_the_workers_limit_is_bounced(make_relay, receiver):
    # An ingest that takes up to 100 Received: fields, a worker whose limit is 30: the
    # message gets into the queue, and the worker bounces it instead of sending it on.
    make_relay("ingest", {"ingest": {"max_received_headers": 100}})
    worker = make_relay("worker")
    tok = token()
    sender, rcpt = f"s-{tok}@origin.test", f"hops-{tok}@example.test"
    ingest_port = worker.relay_port
    send(ingest_port, sender, [rcpt], with_received(40, tok, sender, rcpt))

    [bounce] = events_of_kind(wait_for_event(worker, "bounced", rcpt, timeout=DEFAULT_TIMEOUT), "bounced", rcpt)
    assert bounce["reply"].startswith("554 5.4.6"), bounce
    assert "40 Received" in bounce["reply"], bounce
    assert not receiver.messages_to(rcpt)
