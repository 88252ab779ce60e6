"""Ingest hardening (issue 10, items 3, 5, 7 and 8), end to end against a real relay and
a real redis-server: every From:/Sender: field is checked for accounts with sending
domains; a large message refused at the dot leaves no `tmp:` body in Redis, and the
account's size limit holds while streaming; AUTH user names are bounded before Redis is
touched and a locked-out user still logs in from an address where it did before; the
relay's memory stays flat when a client floods it while its session waits (slow Redis, a
large DKIM-signed message).

Clients are Python's smtplib and raw sockets, bound to 127.0.0.x source addresses where
the test needs several clients; Redis is read over a raw RESP socket.
"""

from __future__ import annotations

import base64
import os
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import insecure_tls_context, token
from hikyaku_testsupport.waiting import wait_for

ACME_IP = "127.0.0.9"        # in account acme's network (sending domain acme.example)
FREE_IP = "127.0.0.10"       # in account free's network (--any-sender)
KEY_PREFIX = "hk:"


def hikyaku(relay, *args: str, stdin: str | None = None) -> str:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60, env=child_environment())
    assert out.returncode == 0, f"{' '.join(argv)} exited with {out.returncode}: {out.stdout}{out.stderr}"
    return out.stdout


def redis(port: int, *args: str | bytes):
    """One command over a raw RESP socket; the decoded reply (bytes, int, list, None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        parts = [a.encode() if isinstance(a, str) else a for a in args]
        sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        reader = sock.makefile("rb")

        def read():
            line = reader.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:]
            if kind == b"+":
                return rest
            if kind == b"-":
                raise RuntimeError(rest.decode())
            if kind == b":":
                return int(rest)
            if kind == b"$":
                length = int(rest)
                if length < 0:
                    return None
                data = reader.read(length + 2)
                return data[:-2]
            if kind == b"*":
                count = int(rest)
                return None if count < 0 else [read() for _ in range(count)]
            raise RuntimeError(f"unexpected RESP reply {line!r}")
        return read()


def keys(port: int, pattern: str) -> list[str]:
    """Every key matching `pattern`, by SCAN."""
    found, cursor = [], b"0"
    while True:
        cursor, batch = redis(port, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
        found += [k.decode() for k in batch]
        if cursor == b"0":
            return sorted(found)


def used_memory(port: int) -> int:
    info = redis(port, "INFO", "memory").decode()
    return next(int(line.split(":")[1]) for line in info.splitlines() if line.startswith("used_memory:"))


def wait_for_accounts(relay, count: int):
    wait_for(lambda: f"loaded {count} account(s)" in relay.process.log_text(), what=f"the relay to load {count} account(s)")


def send(port: int, source: str, sender: str, rcpt: str, data: bytes) -> tuple[int, str]:
    """One transaction with smtplib from `source`; the reply to the final dot (or the
    first refusal)."""
    code, text, _ = send_then_scan(port, source, sender, rcpt, data, None)
    return code, text


def send_then_scan(port: int, source: str, sender: str, rcpt: str, data: bytes,
                   redis_port: int | None) -> tuple[int, str, list[str]]:
    """`send`, plus the `tmp:` keys in Redis right after the reply to the dot — before
    QUIT, while the session is still open (closing it deletes them anyway)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60, source_address=(source, 0)) as smtp:
        smtp.ehlo("client.test")
        for code, text in (smtp.mail(sender), smtp.rcpt(rcpt)):
            if code >= 400:
                return code, text.decode(), []
        code, text = smtp.data(data)
        left = keys(redis_port, KEY_PREFIX + "tmp:*") if redis_port else []
        return code, text.decode(), left


def message(header: str, rcpt: str, body: bytes = b"hello\r\n") -> bytes:
    return (header + f"To: <{rcpt}>\r\nSubject: header test\r\n\r\n").encode() + body


# --------------------------------------------------------------------------- item 3

AUTHOR_CASES = [
    # (header fields, reply to an account with sending domain acme.example)
    ("From: News <news@acme.example>\r\n", "250"),
    ("From : news@acme.example\r\n", "250"),
    ("From: =?utf-8?Q?Acme_News?=\r\n <news@mail.acme.example>\r\nSender: ops@acme.example\r\n", "250"),
    ("From: news@acme.example\r\nFrom: ceo@bank.example\r\n", "550 5.6.0"),     # the second From (accepted before)
    ("From: news@acme.example\r\nFrom : news@acme.example\r\n", "550 5.6.0"),
    ("Subject-less: no author\r\n", "550 5.6.0"),
    ("From : ceo@bank.example\r\n", "550 5.7.1"),
    ("From:\r\n\tNews\r\n <ceo@bank.example>\r\n", "550 5.7.1"),
    ("From: news@acme.example, ceo@bank.example\r\n", "550 5.7.1"),
    ("From: team: news@acme.example, ceo@bank.example;\r\n", "550 5.7.1"),
    ("From: =?utf-8?Q?news=40acme.example?= <ceo@bank.example>\r\n", "550 5.7.1"),
    ("From: \"news@acme.example\"@bank.example\r\n", "550 5.7.1"),
    ("From: news@acme.example\r\nSender: ceo@bank.example\r\n", "550 5.7.1"),  # Sender (accepted before)
]


def test_every_from_and_sender_field_is_checked_for_accounts_with_domains(make_relay, receiver):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACME_IP}/32", "--domain", "acme.example")
    hikyaku(relay, "account", "add", "free", "--network", f"{FREE_IP}/32", "--any-sender")
    wait_for_accounts(relay, 2)
    tok = token()
    accepted, wrong = [], []
    for index, (header, expected) in enumerate(AUTHOR_CASES):
        rcpt = f"author{index}-{tok}@static.test"
        code, text = send(relay.relay_port, ACME_IP, "news@acme.example", rcpt, message(header, rcpt))
        reply = f"{code} {text}"
        if not reply.startswith(expected) or (expected == "550 5.7.1" and "bank.example" not in text):
            wrong.append((header, expected, reply))
        if code == 250:
            accepted.append(rcpt)
    assert not wrong, "\n".join(f"{h!r}: expected {e}, got {r}" for h, e, r in wrong)

    # Exempt from the domain check: the operator's allow-listed network and an
    # --any-sender account (no DKIM keys here, so two From fields are not refused).
    two_from = "From: news@acme.example\r\nFrom: ceo@bank.example\r\nSender: x@other.example\r\n"
    for source in ("127.0.0.1", FREE_IP):
        rcpt = f"exempt-{source}-{tok}@static.test"
        code, text = send(relay.relay_port, source, "news@acme.example", rcpt, message(two_from, rcpt))
        assert code == 250, (source, code, text)
        accepted.append(rcpt)

    for rcpt in accepted:
        wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{rcpt} to arrive")
    refused = {f"author{i}-{tok}@static.test" for i, (_, e) in enumerate(AUTHOR_CASES) if e != "250"}
    assert not [m for m in receiver.messages() if set(m["rcpt_tos"]) & refused]


# --------------------------------------------------------------------------- item 5

def test_large_messages_refused_at_the_dot_leave_no_streamed_body(make_relay, redis_server):
    limit = 2 * 1024 * 1024
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACME_IP}/32", "--domain", "acme.example",
            "--max-message-size", "2MiB", "--hourly-quota", "1")
    wait_for_accounts(relay, 1)
    tok = token()
    port = redis_server.port
    big = b"".join(b"%07d the quick brown fox jumps over the lazy dog, again and again\r\n" % i for i in range(20000))
    assert 1_000_000 < len(big) < limit   # streamed (over 256 KiB) but within the account's limit

    # A foreign From: refused at the dot, after streaming.
    rcpt = f"from-{tok}@static.test"
    code, text, left = send_then_scan(relay.relay_port, ACME_IP, "news@acme.example", rcpt,
                                      message("From: ceo@bank.example\r\n", rcpt, big), port)
    assert (code, left) == (550, []), text

    # The quota: one small message uses it up; the large one after it gets 451, nothing kept.
    rcpt = f"first-{tok}@static.test"
    code, text = send(relay.relay_port, ACME_IP, "news@acme.example", rcpt, message("From: news@acme.example\r\n", rcpt))
    assert code == 250, text
    rcpt = f"over-quota-{tok}@static.test"
    code, text, left = send_then_scan(relay.relay_port, ACME_IP, "news@acme.example", rcpt,
                                      message("From: news@acme.example\r\n", rcpt, big), port)
    assert code == 451 and "quota" in text, text
    assert left == []

    # Twelve times the account's size limit: 552 at the dot, and Redis never held more
    # than the limit and a chunk of it meanwhile.
    largest_tmp, memory = [0], []
    baseline = used_memory(port)
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            for key in keys(port, KEY_PREFIX + "tmp:*"):
                largest_tmp[0] = max(largest_tmp[0], redis(port, "STRLEN", key))
            memory.append(used_memory(port))
            time.sleep(0.01)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    huge = big * 12
    rcpt = f"too-big-{tok}@static.test"
    try:
        code, text, left = send_then_scan(relay.relay_port, ACME_IP, "news@acme.example", rcpt,
                                          message("From: news@acme.example\r\n", rcpt, huge), port)
    finally:
        stop.set()
        watcher.join()
    growth = max(memory) - baseline
    print(f"sent {len(huge)} octets to a {limit}-octet account: largest tmp: body {largest_tmp[0]} octets, "
          f"Redis memory grew by at most {growth} octets")
    assert (code, left) == (552, []), text
    assert text.startswith("5.3.4"), text
    assert largest_tmp[0] <= limit + 512 * 1024, largest_tmp[0]
    assert growth < limit + 8 * 1024 * 1024, growth   # query and AOF buffers besides the key


# --------------------------------------------------------------------------- item 7

def auth_plain(port: int, source: str, user: str, password: str) -> tuple[int, str]:
    """One AUTH PLAIN over STARTTLS on the submission port, from `source`."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0)) as smtp:
        smtp.ehlo("client.test")
        smtp.starttls(context=insecure_tls_context())
        smtp.ehlo("client.test")
        # The response after 334, where lines may be long (RFC 4954 §4; 9 KB of user name fit).
        code, text = smtp.docmd("AUTH", "PLAIN")
        assert code == 334, (code, text)
        code, text = smtp.docmd(base64.b64encode(f"\0{user}\0{password}".encode()).decode())
        return code, text.decode()


def test_auth_user_names_are_bounded_and_a_known_address_survives_a_lockout(make_relay, redis_server):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms", "auth_failures_before_lockout": 3,
                                            "auth_lockout": "10m", "auth_lockout_max": "1h"}})
    hikyaku(relay, "account", "add", "tenant", "--password-stdin", "--domain", "tenant.example", stdin="s3cret-pass\n")
    wait_for_accounts(relay, 1)
    port = relay.submission_port

    # Over 256 octets: refused without touching Redis (no lockout key for it, nor for the address).
    for length in (257, 9000):
        code, text = auth_plain(port, "127.0.0.1", "u" * length, "whatever")
        assert code == 535, (length, code, text)
    assert keys(redis_server.port, KEY_PREFIX + "authfail:*") == []

    # The user logs in from 127.0.0.1: that address is now known for it.
    assert auth_plain(port, "127.0.0.1", "tenant", "s3cret-pass")[0] == 235
    assert keys(redis_server.port, KEY_PREFIX + "authok:*") == [KEY_PREFIX + "authok:127.0.0.1|tenant"]
    # A guesser at 127.0.0.2 locks the user name (and its own address) out…
    assert [auth_plain(port, "127.0.0.2", "tenant", "guess")[0] for _ in range(3)] == [535, 535, 535]
    code, text = auth_plain(port, "127.0.0.3", "tenant", "s3cret-pass")
    assert code == 454 and "Too many failed" in text, (code, text)
    code, text = auth_plain(port, "127.0.0.2", "tenant", "s3cret-pass")
    assert code == 454, (code, text)
    # …but the real user still logs in from where it did before.
    code, text = auth_plain(port, "127.0.0.1", "tenant", "s3cret-pass")
    assert code == 235, (code, text)
    # And that login did not reset the user's lockout for everyone else.
    assert auth_plain(port, "127.0.0.3", "tenant", "s3cret-pass")[0] == 454


# --------------------------------------------------------------------------- item 8

FLOOD = int(os.environ.get("FLOOD_MIB", "500")) * 1024 * 1024   # FLOOD_MIB=0: the baseline alone


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RSSSampler:
    """Samples the relay's resident set size until stopped; `peak_growth_mib`."""

    def __init__(self, pid: int, baseline_kib: int | None = None):
        self.pid = pid
        self.baseline = baseline_kib if baseline_kib is not None else rss_kib(pid)
        self.samples = [self.baseline]
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_event.is_set():
            self.samples.append(rss_kib(self.pid))
            time.sleep(0.01)

    def stop(self) -> float:
        self.stop_event.set()
        self.thread.join()
        return (self.peak - self.baseline) / 1024

    @property
    def peak(self) -> int:
        return max(self.samples)


def flood(sock: socket.socket, total: int = FLOOD) -> int:
    """Sends `total` octets without a line feed as fast as the relay takes them."""
    junk = b"x" * (1024 * 1024)
    sent = 0
    sock.settimeout(120)
    try:
        while sent < total:
            sock.sendall(junk)
            sent += len(junk)
    except OSError:
        pass
    return sent


def flood_while_waiting(relay, sock: socket.socket, trigger: bytes, pause_redis_pid: int | None,
                        baseline_kib: int | None = None) -> tuple[float, int]:
    """Sends `trigger` (the line that makes the session wait) and at once a flood, with
    Redis stopped (SIGSTOP) meanwhile if a pid is given; returns the relay's peak RSS
    growth (MiB) and the octets flooded."""
    sampler = RSSSampler(relay.pid, baseline_kib)
    if pause_redis_pid:
        os.kill(pause_redis_pid, signal.SIGSTOP)
    try:
        sock.sendall(trigger)
        result: list[int] = []
        sender = threading.Thread(target=lambda: result.append(flood(sock)), daemon=True)
        sender.start()
        if pause_redis_pid:
            time.sleep(5)
            os.kill(pause_redis_pid, signal.SIGCONT)
        sender.join(180)
    finally:
        if pause_redis_pid:
            os.kill(pause_redis_pid, signal.SIGCONT)
        growth = sampler.stop()
    relay.process.require_alive()
    return growth, (result[0] if result else 0)


def read_reply(sock: socket.socket) -> bytes:
    """One whole (multi-line) reply, read a byte at a time so nothing after it is taken."""
    data = b""
    while True:
        line = b""
        while not line.endswith(b"\r\n"):
            byte = sock.recv(1)
            assert byte, f"connection closed; got {data + line!r}"
            line += byte
        data += line
        if line[3:4] != b"-":
            return data


def read_replies(sock: socket.socket, wait: float = 5.0) -> bytes:
    sock.settimeout(wait)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (OSError, TimeoutError):
        pass
    return data


@pytest.mark.parametrize("path", ["auth-slow-redis", "enqueue-slow-redis", "dkim-large-message"])
def test_memory_stays_flat_when_a_waiting_session_is_flooded(make_relay, redis_server, path):
    # An ingest node alone: a worker delivering the large message meanwhile would blur the figure.
    relay = make_relay("ingest", {"accounts": {"refresh_interval": "200ms"}, "redis": {"command_timeout": "3s"},
                               "ingest": {"enqueue_timeout": "4s"}})
    tok = token()
    rcpt = f"flood-{tok}@static.test"
    if path == "auth-slow-redis":
        # AUTH over STARTTLS, the password check waiting for a stopped Redis.
        smtp = smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30)
        smtp.ehlo("client.test")
        smtp.starttls(context=insecure_tls_context())
        smtp.ehlo("client.test")
        sock = smtp.sock
        trigger = b"AUTH PLAIN " + base64.b64encode(b"\0app\0wrong") + b"\r\n"
        growth, sent = flood_while_waiting(relay, sock, trigger, redis_server.process.pid)
    else:
        sock = socket.create_connection(("127.0.0.1", relay.relay_port), timeout=30)
        read_reply(sock)
        body = b"hello\r\n"
        baseline = None
        sender = "ops@relay.example"
        if path == "dkim-large-message":
            # A 20 MB message signed at the dot (its domain has DKIM keys), then the flood.
            hikyaku(relay, "domain", "add", "signed.example")
            wait_for(lambda: "signing domain(s)" in relay.process.log_text() and
                     "and 1 signing domain(s)" in relay.process.log_text(), what="the relay to load the DKIM keys")
            body = b"".join(b"%07d DKIM relaxed body canonicalisation over a long line of text  \r\n" % i
                            for i in range(280000))
            sender = "ops@signed.example"
        content = f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: flood\r\n\r\n".encode() + body
        sock.sendall(b"EHLO client.test\r\n")
        read_reply(sock)
        if path == "dkim-large-message":
            # Once without a flood first: the peak then (signing a 20 MB message holds
            # it and more) is the baseline, so the growth measured below is the flood's.
            sock.sendall(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
            assert [read_reply(sock)[:3] for _ in range(3)] == [b"250", b"250", b"354"]
            sampler = RSSSampler(relay.pid)
            sock.sendall(content + b".\r\n")
            reply = read_reply(sock)
            sampler.stop()
            baseline = sampler.peak
            print(f"signing the message alone took the relay from {sampler.baseline // 1024} to {baseline // 1024} MiB")
            assert reply.startswith(b"250"), reply
        sock.sendall(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
        assert [read_reply(sock)[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        sock.sendall(content)
        growth, sent = flood_while_waiting(relay, sock, b".\r\n",
                                           redis_server.process.pid if path == "enqueue-slow-redis" else None, baseline)
    replies = read_replies(sock)
    sock.close()
    print(f"{path}: flooded {sent // (1024 * 1024)} MiB while the session waited; relay RSS grew by at most {growth:.1f} MiB")
    # The session answered the pending step (the dot or AUTH) before anything flooded.
    first = replies.split(b"\r\n", 1)[0]
    expected = {"auth-slow-redis": b"454", "enqueue-slow-redis": b"451", "dkim-large-message": b"250"}[path]
    assert first.startswith(expected), replies[:300]
    assert growth < 100, f"relay RSS grew by {growth:.1f} MiB"


def test_memory_stays_flat_when_a_client_does_not_read_its_replies(make_relay):
    """Pipelined commands from a client that never reads: replies would pile up in the
    relay's outbound buffer; reading stops instead while the channel is not writable."""
    relay = make_relay("ingest")
    sock = socket.create_connection(("127.0.0.1", relay.relay_port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    read_reply(sock)
    sampler = RSSSampler(relay.pid)
    # Each 8-octet EHLO is answered with about 150 octets. Sending stops when the relay
    # stops reading (a send blocks for 5 s), after 40 MiB, or after 30 s.
    piece = b"EHLO a\r\n" * 8192
    sent = 0
    sock.settimeout(5)
    started = time.monotonic()
    try:
        while sent < 40 * 1024 * 1024 and time.monotonic() - started < 30:
            sock.sendall(piece)
            sent += len(piece)
    except OSError:
        pass
    growth = sampler.stop()
    relay.process.require_alive()
    sock.close()
    print(f"pipelined {sent // (1024 * 1024)} MiB of EHLO without reading; relay RSS grew by at most {growth:.1f} MiB")
    assert growth < 100, f"relay RSS grew by {growth:.1f} MiB"
