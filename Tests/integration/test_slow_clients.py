"""Slow clients and connection floods are cut off without starving anyone else.

``ingest.command_timeout`` bounds how long one command line may take from its first
octet (a byte now and then keeps the idle timeout from firing, not this);
``ingest.min_data_rate`` bounds how slowly DATA may arrive; ``ingest.max_connections_per_ip``
bounds the sessions of one client address. The limits are configured short here; the
tests assert what happens, never how long it took.
"""

import smtplib
import threading

from hikyaku_testsupport.events import wait_for_event
from hikyaku_testsupport.smtp import RawSMTP, make_message, token
from hikyaku_testsupport.waiting import wait_for

TRICKLE_INTERVAL = 0.25


def trickle_until_reply(client: RawSMTP, data: bytes) -> tuple[int, str, int] | None:
    """Sends ``data`` one octet at a time until the server says something; returns
    ``(code, text, octets sent)``, or None if every octet went out unanswered."""
    for sent, octet in enumerate(data):
        if client.has_input(TRICKLE_INTERVAL):
            code, text = client.reply()
            return code, text, sent
        try:
            client.send(bytes([octet]))
        except (BrokenPipeError, ConnectionResetError):
            break
    if client.has_input(5):
        code, text = client.reply()
        return code, text, len(data)
    return None


def normal_transaction(relay, rcpt: str, results: list):
    sender = f"normal-{rcpt}"
    try:
        with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
            refused = smtp.sendmail(sender, [rcpt], make_message(sender, [rcpt], "meanwhile", "sent while a client trickles\n"))
            results.append(("ok", refused))
    except Exception as error:  # noqa: BLE001 -- reported by the test
        results.append(("error", repr(error)))


def test_trickled_command_line_is_cut_off_while_another_client_completes(make_relay, receiver):
    relay = make_relay(overrides={"ingest": {"command_timeout": "2s"}})
    tok = token()
    line = b"EHLO " + b"slow-" * 20 + b"client.test\r\n"   # 118 octets: about 30 s at this pace
    with RawSMTP(relay.relay_port) as slow:
        assert slow.reply()[0] == 220
        slow.send(line[:3])   # a line is now in progress
        rcpt = f"meanwhile-{tok}@example.test"
        results: list = []
        normal = threading.Thread(target=normal_transaction, args=(relay, rcpt, results))
        normal.start()
        outcome = trickle_until_reply(slow, line[3:])
        normal.join(60)
        assert outcome is not None, "the trickled line went through unanswered"
        code, text, sent = outcome
        assert sent < len(line) - 3, f"the whole line was sent before the relay answered {code} {text}"
        assert code == 421 and text.startswith("4.4.2"), (code, text)
        assert slow.closed_by_server(), "the connection stays open after 421"
    assert results == [("ok", {})], results
    wait_for_event(relay, "delivered", rcpt)


def test_trickled_data_is_cut_off_and_nothing_is_accepted(make_relay, receiver):
    relay = make_relay(overrides={"ingest": {"command_timeout": "2s", "min_data_rate": "1KiB"}})
    tok = token()
    rcpt = f"trickle-{tok}@example.test"
    body = make_message(f"s-{tok}@origin.test", [rcpt], "trickle", "x" * 200)
    with RawSMTP(relay.relay_port) as slow:
        assert slow.reply()[0] == 220
        assert slow.command("EHLO client.test")[0] == 250
        assert slow.command(f"MAIL FROM:<s-{tok}@origin.test>")[0] == 250
        assert slow.command(f"RCPT TO:<{rcpt}>")[0] == 250
        assert slow.command("DATA")[0] == 354
        outcome = trickle_until_reply(slow, body)
        assert outcome is not None, "the trickled message went through unanswered"
        code, text, sent = outcome
        assert sent < len(body), f"the whole message was sent before the relay answered {code} {text}"
        assert code == 421 and text.startswith("4.4.2"), (code, text)
        assert slow.closed_by_server()

    # A message sent at full speed is far larger than command_timeout x min_data_rate
    # would allow a trickle, and is accepted: DATA earns time as it arrives.
    big = f"big-{tok}@example.test"
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=60) as smtp:
        assert smtp.sendmail(f"b-{tok}@origin.test", [big],
                             make_message(f"b-{tok}@origin.test", [big], "big", ("y" * 998 + "\n") * 4096)) == {}
    wait_for_event(relay, "delivered", big)
    assert not [e for e in relay.events() if rcpt in e.get("recipients", []) or e.get("recipient") == rcpt]
    assert not receiver.messages_to(rcpt)


def greeting(port: int, source: str) -> tuple[RawSMTP, int, str]:
    client = RawSMTP(port, source=source)
    code, text = client.reply()
    return client, code, text


def test_connection_flood_from_one_address_is_refused_others_are_served(make_relay, receiver):
    limit = 4
    relay = make_relay(overrides={"ingest": {"max_connections_per_ip": limit}})
    held = []
    try:
        for _ in range(limit):
            client, code, text = greeting(relay.relay_port, "127.0.0.5")
            held.append(client)
            assert code == 220, (code, text)
        # The limit counts sessions over all listeners.
        client, code, text = greeting(relay.submission_port, "127.0.0.5")
        assert code == 421 and text.startswith("4.7.0") and "Too many connections" in text, (code, text)
        assert client.closed_by_server()
        client.close()
        for _ in range(3):
            client, code, text = greeting(relay.relay_port, "127.0.0.5")
            assert code == 421 and text.startswith("4.7.0"), (code, text)
            assert client.closed_by_server()
            client.close()

        # Another source address is still served, a whole session long.
        with RawSMTP(relay.relay_port, source="127.0.0.6") as other:
            assert other.reply()[0] == 220
            assert other.command("EHLO other.test")[0] == 250
            assert other.command("QUIT")[0] == 221
        # Allow-listed networks (ingest.relay_networks: 127.0.0.1) are exempt.
        insiders = []
        for _ in range(limit + 2):
            client, code, text = greeting(relay.relay_port, "127.0.0.1")
            insiders.append(client)
            assert code == 220, (code, text)
        tok = token()
        rcpt = f"flooded-{tok}@example.test"
        with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
            assert smtp.sendmail(f"x-{tok}@origin.test", [rcpt],
                                 make_message(f"x-{tok}@origin.test", [rcpt], "during a flood", "hi\n")) == {}
        for client in insiders:
            client.close()

        # A closed session frees its slot.
        held.pop().close()

        def admitted():
            client, code, _ = greeting(relay.relay_port, "127.0.0.5")
            if code == 220:
                held.append(client)
                return True
            client.close()
            return False
        wait_for(admitted, what="a slot for 127.0.0.5 after one of its sessions closed")
    finally:
        for client in held:
            client.close()
    wait_for_event(relay, "delivered", rcpt)
