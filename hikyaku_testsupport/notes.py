"""Notes a test prints and pytest repeats in its terminal summary (visible with -q);
Tests/integration/conftest.py's ``pytest_terminal_summary`` prints them. With pytest-xdist
a test runs in a worker process: conftest moves its notes into the test's report
(``take()``), which reaches the controller that prints the summary."""

from __future__ import annotations

collected: list[str] = []


def report_note(text: str):
    """Prints ``text`` and repeats it in the terminal summary ("Hikyaku integration notes")."""
    print(text)
    collected.append(text)


def take() -> list[str]:
    """The notes reported since the last call, removed."""
    taken = collected[:]
    collected.clear()
    return taken
