"""Where the binaries under test are: ``$HIKYAKU_BIN`` for the integration tests, a build
directory holding hikyaku, hikyaku-load and hikyaku-sim for the load tools."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BINARIES = ("hikyaku", "hikyaku-load", "hikyaku-sim")
DEFAULT_BIN_DIRS = (".build-release/release", ".build/release", ".build/debug")


def hikyaku_bin() -> str:
    """``$HIKYAKU_BIN`` (a path, or a name looked up on PATH), else <repo>/.build/debug/hikyaku."""
    configured = os.environ.get("HIKYAKU_BIN")
    if not configured:
        return str(REPO / ".build" / "debug" / "hikyaku")
    if os.sep not in configured:
        return shutil.which(configured) or configured
    return str(Path(configured).resolve())


def find_binaries(bin_dir: str | None, allow_mixed: bool = False) -> dict[str, str]:
    """hikyaku, hikyaku-load and hikyaku-sim from ``bin_dir`` (relative: to the current
    directory if it exists there, else to the repository), or from the first of
    ``DEFAULT_BIN_DIRS`` that has all three. ``allow_mixed``: else each from the first
    directory that has it, with a warning. Exits with the build command when missing."""
    if bin_dir:
        directory = Path(bin_dir)
        if not directory.is_absolute():
            directory = (Path.cwd() / directory) if (Path.cwd() / directory).exists() else REPO / directory
        missing = [b for b in BINARIES if not os.access(directory / b, os.X_OK)]
        if missing:
            raise SystemExit(f"error: {', '.join(missing)} not found in {directory} "
                             f"(build them: swift build --product NAME)")
        return {b: str((directory / b).resolve()) for b in BINARIES}
    for candidate in DEFAULT_BIN_DIRS:
        directory = REPO / candidate
        if all(os.access(directory / b, os.X_OK) for b in BINARIES):
            return {b: str(directory / b) for b in BINARIES}
    found = {}
    for b in BINARIES:
        for candidate in DEFAULT_BIN_DIRS:
            if os.access(REPO / candidate / b, os.X_OK):
                found[b] = str(REPO / candidate / b)
                break
    missing = [b for b in BINARIES if b not in found]
    if missing or not allow_mixed:
        raise SystemExit(
            f"error: {', '.join(missing or BINARIES)} not found together under {', '.join(DEFAULT_BIN_DIRS)}; "
            "build with\n"
            + "".join(f"  swift build -c release --scratch-path .build-release --product {b}\n"
                      for b in (missing or BINARIES)))
    print(f"warning: binaries come from different builds: {found}", file=sys.stderr)
    return found


# The relay binary the integration tests run (read once, when the tests are collected).
HIKYAKU_BIN = hikyaku_bin()
