"""Free ports and readiness of a listening port."""

from __future__ import annotations

import socket


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


def free_ports(count: int) -> list[int]:
    """``count`` different free ports on 127.0.0.1."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


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
