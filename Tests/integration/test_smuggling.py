"""SMTP smuggling (SEC Consult, 2023): malformed ends of data sent to the relay listener.

Each variant is sent in its own session, inside a message, followed by a smuggled second
transaction (MAIL FROM / RCPT TO / DATA / a spoofed message) and then the real end of
data. The relay must take none of them as the end of data (the smuggled commands get no
replies and form no envelope) and must not pass them on unchanged: the receiver gets
exactly one message per session, in which the smuggled commands are ordinary CRLF lines
of the body, with no bare CR, bare LF or NUL anywhere.
"""

from hikyaku_testsupport.events import wait_for_event
from hikyaku_testsupport.smtp import RawSMTP, has_bare_line_ends, queue_id_from, token
from hikyaku_testsupport.waiting import wait_for

VARIANTS = [
    ("LF.LF", b"\n.\n"),
    ("CR.CR", b"\r.\r"),
    ("LF.CRLF", b"\n.\r\n"),
    ("CRLF.LF", b"\r\n.\n"),
    ("CRLF.CR", b"\r\n.\r"),
    ("CR.LF", b"\r.\n"),
    ("CR.CRLF", b"\r.\r\n"),
    ("LF.CR", b"\n.\r"),
    ("CRLF.CR-CRLF", b"\r\n.\r\r\n"),
    ("CRLF-NUL.CRLF", b"\r\n\x00.\r\n"),
    ("CRLF.NUL-CRLF", b"\r\n.\x00\r\n"),
    ("CR-NUL-LF.CRLF", b"\r\x00\n.\r\n"),
    ("LF-NUL.LF", b"\n\x00.\n"),
]


def test_malformed_ends_of_data_neither_end_the_data_nor_reach_the_next_hop(relay, receiver):
    tok = token()
    sender = f"app-{tok}@origin.test"
    sessions = []
    for index, (name, variant) in enumerate(VARIANTS):
        victim = f"victim{index}-{tok}@example.test"
        smuggled_rcpt = f"smuggled{index}-{tok}@example.test"
        smuggled = (f"MAIL FROM:<spoof-{tok}@bank.test>\r\nRCPT TO:<{smuggled_rcpt}>\r\nDATA\r\n"
                    f"From: <ceo@bank.test>\r\nSubject: smuggled {index}\r\n\r\nsmuggled body {index}\r\n").encode()
        content = (f"From: <{sender}>\r\nTo: <{victim}>\r\nSubject: variant {name}\r\n"
                   f"Message-ID: <smuggle-{index}-{tok}@client.test>\r\n\r\nfirst part\r\nlast line").encode()
        content += variant + smuggled
        with RawSMTP(relay.relay_port) as client:
            assert client.reply()[0] == 220
            assert client.command("EHLO client.test")[0] == 250
            assert client.command(f"MAIL FROM:<{sender}>")[0] == 250
            assert client.command(f"RCPT TO:<{victim}>")[0] == 250
            assert client.command("DATA")[0] == 354
            client.send(content + b".\r\n")
            code, text = client.reply()
            assert code == 250, f"{name}: {code} {text}"
            queue_id = queue_id_from(text)
            # Had the relay ended the data early, the smuggled MAIL, RCPT, DATA and the real
            # end would have replies waiting before this one.
            code, text = client.command("QUIT")
            assert code == 221, f"{name}: the relay answered smuggled commands: {code} {text}"
        sessions.append((name, victim, smuggled_rcpt, queue_id, smuggled))

    # One accepted message per session, for the session's envelope only.
    for name, victim, _, queue_id, _ in sessions:
        wait_for_event(relay, "delivered", victim)
    accepted = [e for e in relay.events() if e["event"] == "accepted"]
    assert sorted((e["queue_id"], tuple(e["recipients"])) for e in accepted) == \
        sorted((queue_id, (victim,)) for _, victim, _, queue_id, _ in sessions), accepted

    messages = wait_for(lambda: (lambda m: m if len(m) >= len(sessions) else None)(receiver.messages()),
                        what="every session's message at the receiver")
    assert len(messages) == len(sessions), [m["rcpt_tos"] for m in messages]
    failures = []
    for name, victim, smuggled_rcpt, _, smuggled in sessions:
        copies = receiver.messages_to(victim)
        if len(copies) != 1:
            failures.append(f"{name}: {len(copies)} messages for {victim}")
            continue
        data = copies[0]["data"]
        if copies[0]["rcpt_tos"] != [victim]:
            failures.append(f"{name}: envelope {copies[0]['rcpt_tos']}")
        if receiver.messages_to(smuggled_rcpt):
            failures.append(f"{name}: the smuggled recipient got a message")
        if has_bare_line_ends(data):
            failures.append(f"{name}: bare CR or LF reached the receiver: {data[-300:]!r}")
        if b"\x00" in data:
            failures.append(f"{name}: NUL reached the receiver")
        # The smuggled transaction is body text: whole CRLF lines, in the one message.
        if b"\r\n" + smuggled not in data:
            failures.append(f"{name}: smuggled lines not found as body lines: {data[-300:]!r}")
    assert not failures, "\n".join(failures)
