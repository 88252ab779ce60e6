"""A one-question DNS client, and dnsmasq serving the records a test or a run gives it."""

from __future__ import annotations

import random
import socket
import struct
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess
from .waiting import wait_for

MX, TXT, SOA = 15, 16, 6


def dns_query(port: int, name: str, qtype: int = MX, timeout: float = 0.5, host: str = "127.0.0.1") -> int | None:
    """Asks host:port one question over UDP; the answer count, or None without a response."""
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


def dnsmasq_argv(port: int, pid_file: Path, options: list[str], listen: str = "127.0.0.1",
                 conf_file: str | Path = "/dev/null") -> list[str]:
    """dnsmasq in the foreground answering only from ``options`` (and ``conf_file``): no
    resolv.conf, no /etc/hosts, logging to stderr, as root (the tests' and tools' user)."""
    return ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
            f"--listen-address={listen}", f"--port={port}", "--user=root", f"--conf-file={conf_file}",
            f"--pid-file={pid_file}", "--log-facility=-", *options]


class Dnsmasq:
    """dnsmasq on 127.0.0.1 with the records given as options (``--mx-host=…``,
    ``--txt-record=…``, ``--local=/test/`` to be authoritative for ``.test``); ``start()``
    waits until it answers ``probe`` (type ``qtype``) with at least one record, or with any
    reply when ``any_reply``. Files are ``<directory>/<stem>.pid`` and ``<stem>.log``."""

    def __init__(self, directory: Path, options: list[str], probe: str, qtype: int = MX, name: str = "dnsmasq",
                 stem: str = "dnsmasq", session: bool = False, any_reply: bool = False,
                 conf_file: str | Path = "/dev/null", log_queries: bool = True, port: int | None = None):
        directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.probe, self.qtype, self.any_reply = probe, qtype, any_reply
        argv = dnsmasq_argv(self.port, directory / f"{stem}.pid",
                            (["--log-queries"] if log_queries else []) + list(options), conf_file=conf_file)
        self.process = ManagedProcess(name, argv, directory / f"{stem}.log", session=session, role="dns")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answers(self) -> bool:
        count = dns_query(self.port, self.probe, qtype=self.qtype)
        return count is not None if self.any_reply else bool(count)

    def start(self) -> "Dnsmasq":
        self.process.start()
        wait_for(self.answers, timeout=20, interval=0.1, what=f"{self.process.name} to answer for {self.probe}",
                 alive=self.process.alive)
        return self

    def stop(self, timeout: float = 15.0):
        self.process.stop(timeout)

    def queried(self, qtype: str, name: str) -> bool:
        """Whether the log shows a query (``--log-queries``), e.g. ``queried("TXT", "x.test")``."""
        return f"query[{qtype}] {name} from" in self.process.log_text()

    def __enter__(self) -> "Dnsmasq":
        return self.start()

    def __exit__(self, *exc):
        self.stop()
