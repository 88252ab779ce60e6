"""Notes a test prints and pytest repeats in its terminal summary (visible with -q);
Tests/integration/conftest.py's ``pytest_terminal_summary`` prints them."""

from __future__ import annotations

collected: list[str] = []


def report_note(text: str):
    """Prints ``text`` and repeats it in the terminal summary ("Hikyaku integration notes")."""
    print(text)
    collected.append(text)
