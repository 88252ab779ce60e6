"""The recording SMTP receiver (``smtp_receiver.py``, aiosmtpd) as a process: what it
accepted and what it refused, read back from its JSON Lines files."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess
from .records import read_jsonl
from .waiting import wait_for

SCRIPT = Path(__file__).resolve().parent / "smtp_receiver.py"


class Receiver:
    """``behaviours``: ``{domain: "tempfail" | "throttle:N" | "slow:SECONDS"}`` (see
    smtp_receiver.py); ``starttls=False``: a receiver that does not offer STARTTLS;
    ``port``: listen on this port (e.g. to replace a receiver), else a free one."""

    def __init__(self, directory: Path, cert: Path, key: Path, behaviours: dict[str, str] | None = None,
                 starttls: bool = True, port: int | None = None):
        self.port = port or free_port()
        self.record_path = directory / "received.jsonl"
        self.refusal_path = directory / "refused.jsonl"
        argv = [sys.executable, SCRIPT, "--port", self.port, "--record", self.record_path,
                "--refusals", self.refusal_path, "--cert", cert, "--key", key]
        if not starttls:
            argv.append("--no-starttls")
        for domain, behaviour in (behaviours or {}).items():
            argv += ["--behaviour", f"{domain}={behaviour}"]
        self.process = ManagedProcess("receiver (aiosmtpd)", argv, directory / "receiver.log")

    def start(self) -> "Receiver":
        self.process.start()
        wait_for(lambda: "receiver listening" in self.process.log_text(), timeout=20, interval=0.05,
                 what="the receiver to listen", alive=self.process.alive)
        return self

    def stop(self):
        self.process.stop()

    def messages(self) -> list[dict]:
        """Every recorded message, oldest first, with ``data`` as bytes."""
        records = read_jsonl(self.record_path, strict=True)
        for record in records:
            record["data"] = base64.b64decode(record["data"])
        return records

    def messages_to(self, address: str) -> list[dict]:
        address = address.lower()
        return [m for m in self.messages() if address in (r.lower() for r in m["rcpt_tos"])]

    def messages_with(self, needle: bytes) -> list[dict]:
        return [m for m in self.messages() if needle in m["data"]]

    def refusals(self) -> list[dict]:
        """Every RCPT the receiver refused because of a domain behaviour (tempfail,
        throttle), oldest first: ``{"time", "peer", "rcpt", "reply"}``."""
        return read_jsonl(self.refusal_path, strict=True)
