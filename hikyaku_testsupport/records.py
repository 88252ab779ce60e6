"""Reading record files (JSON Lines), also while they grow: the simulator's records (one
line per accepted message or refused recipient), the generator's progress output and records."""

from __future__ import annotations

import json
import re
from pathlib import Path


class LineTail:
    """Complete lines appended to a file since the last call."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = 0
        self.partial = b""

    def new_lines(self) -> list[bytes]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [line for line in lines if line.strip()]


class SimRecords:
    """The simulator's record file, parsed as it grows.

    A cluster's simulator records every run into one file, so a run reads only its own part:
    ``offset`` skips what the file held before it started, ``since_us`` drops earlier
    refusals, and ``marker`` keeps only arrivals whose Message-ID contains it (the
    generator's ids are `<N.RUN@hikyaku-load>`; others are counted in ``other_runs``), with
    the cluster's probe messages (`<probe-I.RUN@…>`) kept apart in ``probe_arrivals``."""

    def __init__(self, path: Path, *, offset: int = 0, since_us: int = 0, marker: str | None = None):
        self.tail = LineTail(path)
        self.tail.offset = offset
        self.since_us = since_us
        self.marker = marker
        self.arrivals: list[tuple[int | None, int, str, str, str]] = []  # (seq, t_us, site, ip, recipient)
        self.probe_arrivals: list[dict] = []
        self.refusals: list[dict] = []
        self.other_runs = 0
        self.bad_lines = 0

    def update(self) -> int:
        """Parses new lines; returns how many arrivals they held."""
        before = len(self.arrivals)
        for line in self.tail.new_lines():
            try:
                record = json.loads(line)
            except ValueError:
                self.bad_lines += 1
                continue
            if record.get("refused"):
                if int(record.get("t", 0)) >= self.since_us:
                    self.refusals.append(record)
                continue
            if self.marker is not None:
                message_id = record.get("message_id") or ""
                if self.marker not in message_id:
                    self.other_runs += 1
                    continue
                if message_id.startswith("<probe-"):
                    self.probe_arrivals.append(record)
                    continue
            self.arrivals.append(arrival(record))
        return len(self.arrivals) - before


def arrival(record: dict) -> tuple:
    """A simulator arrival record as (seq, time_us, site, source ip, recipient)."""
    seq = record.get("seq")
    try:
        seq = int(seq) if seq is not None else None
    except (TypeError, ValueError):
        seq = None
    rcpt = record.get("rcpt")
    rcpt = rcpt[0] if isinstance(rcpt, list) and len(rcpt) == 1 else ",".join(rcpt or [])
    return (seq, int(record["t"]), record.get("site", ""), record.get("ip", ""), rcpt)


GENERATOR_PROGRESS = re.compile(rb"accepted (\d+)/(\d+)")


class GeneratorOutput:
    """The generator's stdout: a progress line per second, a JSON summary at the end."""

    def __init__(self, path: Path):
        self.tail = LineTail(path)
        self.accepted = 0
        self.summary: dict | None = None

    def update(self):
        for line in self.tail.new_lines():
            match = GENERATOR_PROGRESS.search(line)
            if match:
                self.accepted = int(match.group(1))
            elif line.startswith(b"{"):
                try:
                    self.summary = json.loads(line)
                    self.accepted = self.summary.get("accepted", self.accepted)
                except ValueError:
                    pass


def read_jsonl(path: Path, strict: bool = False) -> list[dict]:
    """Every JSON line of a file, oldest first; a missing file is empty. ``strict``: a
    line that is not JSON (or a read error) raises, else it is skipped."""
    try:
        with open(path, "rb") as f:
            lines = [line for line in f if line.strip()]
    except FileNotFoundError:
        return []
    except OSError:
        if strict:
            raise
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            if strict:
                raise
    return records


def read_generator_records(path: Path) -> list[dict]:
    """The generator's --record file: one object per submitted message."""
    return read_jsonl(path)
