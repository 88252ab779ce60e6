"""The load tools' live progress line and messages."""

from __future__ import annotations

import sys
import time


class Console:
    """The live progress line: rewritten in place on a terminal, a new line every 5 s
    otherwise (logs, CI)."""

    def __init__(self, stream=None, interval: float = 5.0):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.interval = interval
        self.last_print = 0.0
        self.dirty = False

    def progress(self, text: str, force: bool = False):
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
            self.dirty = True
        elif force or now - self.last_print >= self.interval:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last_print = now

    def say(self, text: str):
        if self.dirty:
            self.stream.write("\n")
            self.dirty = False
        self.stream.write(text + "\n")
        self.stream.flush()
