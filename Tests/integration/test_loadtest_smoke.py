"""The load-test runner at CI size (issue 4): `load-tests/run.py load-tests/scenarios/smoke.json
--smoke` against the debug binaries `make test` builds (.build/debug: hikyaku, hikyaku-load,
hikyaku-sim), so the runner, the generator and the simulator never rot.

Asserts only the loss accounting from report.json — every message accepted, none missing,
every accepted message delivered or bounced — never speed. The runner starts its own
redis-server, dnsmasq, simulator and relay (see load-tests/README.md); their logs are in the
test's tmp_path and the end of the runner's output is shown on failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hikyaku_testsupport.processes import child_environment
REPO = Path(__file__).resolve().parents[2]
BIN_DIR = REPO / ".build" / "debug"
RUNNER = REPO / "load-tests" / "run.py"
SCENARIO = REPO / "load-tests" / "scenarios" / "smoke.json"


def test_loadtest_smoke_accounts_for_every_message(tmp_path):
    missing = [name for name in ("hikyaku", "hikyaku-load", "hikyaku-sim") if not os.access(BIN_DIR / name, os.X_OK)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not built in {BIN_DIR} (make test builds them: swift build --build-tests)")
    out = tmp_path / "loadtest"
    # The tool imports this clone's hikyaku_testsupport, as the tests do (pytest.ini), even
    # when scripts/install-deps.sh last installed another clone's.
    env = child_environment({"PYTHONPATH": str(REPO)})
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(SCENARIO), "--smoke", "--bin-dir", str(BIN_DIR), "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    report_path = out / "report.json"
    assert report_path.exists(), f"no report.json (runner exit {result.returncode}):\n{tail}"
    report = json.loads(report_path.read_text())
    run = report["runs"]["hikyaku"]
    assert "error" not in run, f"{run.get('error')}\n{tail}"

    loss = run["loss"]
    assert run["accepted"] == run["messages"], f"accepted {run['accepted']} of {run['messages']}\n{tail}"
    assert loss["missing"] == 0, f"missing seqs {loss['missing_seqs_sample']}\n{tail}"
    assert loss["accounted"] == run["accepted"], f"{loss}\n{tail}"
    assert loss["all_accounted"] is True
    # The smoke scenario has unknown users: some messages are accounted for as bounced.
    assert loss["bounced"] >= 1, loss
    assert loss["delivered_once"] + loss["duplicates"] + loss["bounced"] == run["accepted"], loss
    assert result.returncode == 0, f"runner exit {result.returncode}:\n{tail}"
    for name in ("summary.txt", "chart.svg"):
        assert (out / name).stat().st_size > 0, name
