"""A hostile MX (issue 10, item 4): replies of 512 lines × ~3.9 KB full of terminal escape
sequences, at RCPT and at the end of DATA. What the relay stores per recipient is bounded
(512 octets) and free of control characters, and nothing the server chose reaches an
operator's terminal: not ``hikyaku events tail``, not ``hikyaku queue``, not the log."""

import asyncio
import smtplib
import subprocess
import threading

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.events import events_of_kind, wait_for_event
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for

CAP = 512
LINES = 512
# ESC sequences (clear screen, set the window title, colours), BEL, a C1 CSI (U+009B) and
# multi-octet UTF-8 so that a cut in the wrong place would split a character.
EVIL = "\x1b[2J\x1b]0;pwned\x07\x1b[31m red \u009b1m 日本語のテキスト "


def huge_reply(code: int, enhanced: str) -> bytes:
    payload = ""
    for char in EVIL * 200:  # ~3.9 KB of UTF-8 per line, under the client's 4 KiB line limit
        if len((payload + char).encode()) > 3900:
            break
        payload += char
    lines = [f"{code}{'-' if i < LINES - 1 else ' '}{enhanced} {payload} line {i}" for i in range(LINES)]
    return ("\r\n".join(lines) + "\r\n").encode()


class HostileMX:
    """An SMTP server that answers ``bounce-*`` RCPTs with a huge 550, ``defer-*`` with a
    huge 451, and the end of DATA with a huge 554; no STARTTLS, no PIPELINING."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.port = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.server = server
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    def start(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _session(self, reader, writer):
        async def send(data: bytes):
            writer.write(data)
            await writer.drain()
        try:
            await send(b"220 hostile.test ESMTP\r\n")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    await send(b"250-hostile.test\r\n250 8BITMIME\r\n")
                elif verb == b"MAIL":
                    await send(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    if b"<bounce-" in line:
                        await send(huge_reply(550, "5.1.1"))
                    elif b"<defer-" in line:
                        await send(huge_reply(451, "4.7.1"))
                    else:
                        await send(b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    await send(b"354 go ahead\r\n")
                    while (await reader.readline()) not in (b".\r\n", b""):
                        pass
                    await send(huge_reply(554, "5.7.1"))
                elif verb == b"RSET" or verb == b"NOOP":
                    await send(b"250 2.0.0 Ok\r\n")
                elif verb == b"QUIT":
                    await send(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    await send(b"502 5.5.2 What\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
def hostile_mx():
    server = HostileMX().start()
    yield server
    server.stop()


def has_controls(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


def raw_output(argv: list[str]) -> bytes:
    out = subprocess.run(argv, capture_output=True, timeout=30, env=child_environment())
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    return out.stdout


def test_huge_escape_laden_replies_are_capped_and_never_reach_a_terminal(make_relay, hostile_mx):
    relay = make_relay("all", {"delivery": {
        "routes": {"hostile.test": f"127.0.0.1:{hostile_mx.port}"},
        # A 451 from it suspends the site: its reply becomes what `hikyaku queue` shows.
        "backoff_rules": [{"name": "hostile", "code": "451", "action": "suspend_site", "duration": "10m"}],
    }})
    tok = token()
    sender = f"s-{tok}@origin.test"
    rcpts = {kind: f"{kind}-{tok}@hostile.test" for kind in ("bounce", "data", "defer")}
    for kind, rcpt in rcpts.items():
        with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
            smtp.sendmail(sender, [rcpt], make_message(sender, [rcpt], f"{kind} {tok}", "hello\n"))

    stored = {}
    for kind, expected in (("bounce", ("bounced", "550 5.1.1")), ("data", ("bounced", "554 5.7.1")),
                           ("defer", ("deferred", "451 4.7.1"))):
        [event] = events_of_kind(wait_for_event(relay, expected[0], rcpts[kind]), expected[0], rcpts[kind])[:1]
        reply = event["reply"]
        stored[kind] = reply
        print(f"{kind}: stored {len(reply.encode())} octets of a {len(huge_reply(550, '5.1.1'))}-octet reply")
        assert reply.startswith(expected[1]), reply[:100]
        assert len(reply.encode()) <= CAP, len(reply.encode())
        assert not has_controls(reply), repr(reply[:200])
        assert "日本語" in reply and reply.endswith("\u2026"), repr(reply[-40:])

    # The suspension the 451 caused carries the same capped text as its reason.
    def suspension_shown():
        out = raw_output([HIKYAKU_BIN, "queue", "--config", str(relay.config_path)])
        return out if b"pwned" in out else None
    queue = wait_for(suspension_shown, what="the suspension in `hikyaku queue`")
    queue_json = raw_output([HIKYAKU_BIN, "queue", "--json", "--config", str(relay.config_path)])
    tail = raw_output([HIKYAKU_BIN, "events", "tail", "--config", str(relay.config_path)])
    log = relay.process.log_path.read_bytes()
    for name, output in (("hikyaku queue", queue), ("hikyaku queue --json", queue_json),
                         ("hikyaku events tail", tail), ("the relay's log", log)):
        for forbidden in (b"\x1b", b"\x07", "\u009b".encode()):
            assert forbidden not in output, f"{name} prints {forbidden!r}"
    assert b"pwned" in tail and b"pwned" in log  # the text is there, only its controls are not
    # The log line of an outcome is bounded as well: a 1.8 MB reply is not logged whole.
    assert max(len(line) for line in log.splitlines()) < 16 * 1024
