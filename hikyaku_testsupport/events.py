"""The relay's events: read with ``hikyaku events tail`` (what an operator runs) or
straight from the ``hk:events`` stream (the load tools, thousands per second)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .processes import child_environment
from .waiting import DEFAULT_TIMEOUT, wait_for

EVENTS_STREAM = "hk:events"
FINAL_FAILURES = ("bounced", "expired", "suppressed", "purged")


def events_tail(hikyaku: str, config_path: Path, message_id: str | None = None,
                recipient: str | None = None) -> list[dict]:
    """``hikyaku events tail --config FILE [--message-id ID] [--recipient R]``, parsed; oldest first."""
    argv = [hikyaku, "events", "tail", "--config", str(config_path)]
    if message_id:
        argv += ["--message-id", message_id]
    if recipient:
        argv += ["--recipient", recipient]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=child_environment())
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {out.returncode}: {out.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def decode_stream_events(entries: list[dict[bytes, bytes]]) -> list[dict]:
    """Events from ``hk:events`` stream entries (their JSON in the field ``e``); entries
    without one, or with broken JSON, are skipped."""
    events = []
    for fields in entries:
        raw = fields.get(b"e")
        if raw is None:
            continue
        try:
            events.append(json.loads(raw))
        except ValueError:
            continue
    return events


def events_of_kind(events: list[dict], kind: str, recipient: str | None = None) -> list[dict]:
    found = [e for e in events if e.get("event") == kind]
    if recipient is not None:
        found = [e for e in found if (e.get("recipient") or "").lower() == recipient.lower()]
    return found


def wait_for_event(relay, kind: str, recipient: str, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
    """Waits for a ``kind`` event for ``recipient``; returns all events for that recipient."""
    def check():
        events = relay.events(recipient=recipient)
        return events if events_of_kind(events, kind, recipient) else None
    return wait_for(check, timeout=timeout, what=f"a '{kind}' event for {recipient}")
