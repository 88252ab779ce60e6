"""Signals an operator's service manager sends: `systemctl reload` is SIGHUP
(cluster/systemd: `ExecReload=/bin/kill -HUP $MAINPID`), `systemctl stop` SIGTERM.

SIGHUP's default action terminates a process; only ingest nodes with `ingest.tls` had a
handler (the certificate reloader). A delivery worker must survive it, keep delivering,
and still stop gracefully on SIGTERM.
"""

import os
import signal
import smtplib
import socket
import time

from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for
from hikyaku_testsupport.world import STATIC_DOMAIN


def test_sighup_does_not_stop_a_delivery_worker(make_relay, receiver):
    ingest = make_relay("ingest")
    worker = make_relay("worker")
    wait_for(lambda: worker.process.require_alive() or "delivery worker" in worker.process.log_text(),
             what="the worker to start")

    os.kill(worker.pid, signal.SIGHUP)
    wait_for(lambda: "SIGHUP: nothing to reload" in worker.process.log_text(), what="the worker to log the SIGHUP")
    time.sleep(0.5)
    assert worker.alive(), f"SIGHUP stopped the worker:\n{worker.process.tail(20)}"

    # It still delivers.
    tok = token()
    rcpt = f"after-hup-{tok}@{STATIC_DOMAIN}"
    with smtplib.SMTP("127.0.0.1", ingest.relay_port, timeout=30) as smtp:
        smtp.sendmail(f"app-{tok}@origin.test", [rcpt],
                      make_message(f"app-{tok}@origin.test", [rcpt], "after SIGHUP", "still delivering\n"))
    wait_for(lambda: receiver.messages_to(rcpt), what="delivery after the SIGHUP")

    # And SIGTERM still stops it gracefully (exit status 0).
    assert worker.stop() == 0, worker.process.tail(20)


def read_reply(sock: socket.socket, buffer: bytearray) -> str:
    """One complete SMTP reply ("" when the connection closed first)."""
    while True:
        lines = buffer.split(b"\r\n")
        for index, line in enumerate(lines[:-1]):
            if len(line) >= 4 and line[3:4] == b" ":
                consumed = b"\r\n".join(lines[:index + 1])
                del buffer[:len(consumed) + 2]
                return consumed.decode()
        data = sock.recv(65536)
        if not data:
            return ""
        buffer += data


def session(port: int) -> tuple[socket.socket, bytearray]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    buffer = bytearray()
    assert read_reply(sock, buffer).startswith("220")
    sock.sendall(b"EHLO client.test\r\n")
    assert read_reply(sock, buffer).startswith("250")
    return sock, buffer


def test_sigterm_lets_a_message_in_progress_finish_then_answers_421(make_relay, receiver):
    """A rolling restart of an ingest node: SIGTERM stops accepting; a session between
    commands gets `421 4.3.2` at once; a session in the middle of DATA may finish its
    message and gets the real reply to its final dot (250) before the 421 (RFC 5321 §3.8)."""
    relay = make_relay("all")
    tok = token()
    rcpt = f"in-flight-{tok}@{STATIC_DOMAIN}"
    idle, idle_buffer = session(relay.relay_port)
    busy, busy_buffer = session(relay.relay_port)
    for command in (f"MAIL FROM:<app-{tok}@origin.test>", f"RCPT TO:<{rcpt}>"):
        busy.sendall(command.encode() + b"\r\n")
        assert read_reply(busy, busy_buffer).startswith("250")
    busy.sendall(b"DATA\r\n")
    assert read_reply(busy, busy_buffer).startswith("354")
    message = make_message(f"app-{tok}@origin.test", [rcpt], "through a shutdown", ("x" * 70 + "\n") * 30)
    busy.sendall(message[:len(message) // 2])
    time.sleep(0.3)

    os.kill(relay.pid, signal.SIGTERM)
    assert read_reply(idle, idle_buffer).startswith("421 4.3.2"), "an idle session gets 421 at once"
    assert idle.recv(100) == b"", "and is closed"
    wait_for(lambda: not port_open(relay.relay_port), what="the listener to stop accepting")

    busy.sendall(message[len(message) // 2:] + b".\r\n")
    final = read_reply(busy, busy_buffer)
    assert final.startswith("250"), f"the message in progress is taken: {final!r}"
    assert read_reply(busy, busy_buffer).startswith("421 4.3.2"), "then 421"
    assert relay.process.proc.wait(40) == 0, relay.process.tail(20)
    assert "session(s) to finish" in relay.process.log_text()

    relay.start()
    wait_for(lambda: receiver.messages_to(rcpt), what="the message taken during the shutdown to be delivered")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.settimeout(1)
            return s.recv(4).startswith(b"220")
    except OSError:
        return False


def test_a_listener_that_cannot_bind_ends_the_process_with_its_error(make_relay, tmp_path):
    """The SMTP port is taken: `hikyaku serve` must say so and exit non-zero — not keep
    running with its other services cancelled. (It once did, with the account refresher
    spinning at 100% CPU because it only looked for a graceful shutdown, not cancellation.)"""
    relay = make_relay("all", start=False)
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", relay.relay_port))
    blocker.listen()
    try:
        relay.process.start()
        wait_for(lambda: not relay.alive(), timeout=30, what="hikyaku serve to exit when its listener cannot bind")
        log = relay.process.log_path.read_text()
        assert relay.process.proc.returncode not in (0, None), relay.process.proc.returncode
        assert "cannot listen" in log, log[-2000:]
    finally:
        blocker.close()
