"""Ports, readiness checks and a one-question DNS client."""

from __future__ import annotations

import random
import socket
import struct
import time


def free_port(addresses: tuple[str, ...] = ("127.0.0.1",), udp: bool = False) -> int:
    """A port free for TCP (and UDP when asked) on every one of ``addresses``."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((addresses[0], 0))
            port = s.getsockname()[1]
        if all(_bindable(a, port, socket.SOCK_STREAM) for a in addresses) and \
                (not udp or all(_bindable(a, port, socket.SOCK_DGRAM) for a in addresses)):
            return port
    raise RuntimeError("no free port found")


def _bindable(address: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
            return True
        except OSError:
            return False


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1, alive=None):
    """Polls ``predicate`` until truthy; ``alive()`` returning False aborts early."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if alive is not None and not alive():
            raise RuntimeError(f"gave up waiting for {what}: the process exited")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def dns_answer_count(port: int, name: str, qtype: int = 15, timeout: float = 0.5,
                     host: str = "127.0.0.1") -> int | None:
    """Asks host:port one question over UDP; the answer count, or None."""
    tid = random.randrange(65536)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", tid, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(packet, (host, port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
    rid, _flags, _qd, ancount = struct.unpack(">HHHH", data[:8])
    return ancount if rid == tid else None
