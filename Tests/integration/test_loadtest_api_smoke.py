"""The load generator's HTTP mode end to end at CI size (issue 12): `load-tests/run.py
flat-out-single-node --smoke --api` against the debug binaries. The runner starts the relay
with `api.plain_listen`, makes an account and an API key with `hikyaku account`, and runs
`hikyaku-load --http` once with one message per request and once with batches (the last
one short), through the relay to the simulator, after the SMTP pass.

Asserts the loss accounting and that the generator's summary counts agree with what
arrived at the simulator; never speed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hikyaku_testsupport.processes import child_environment

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = REPO / ".build" / "debug"
RUNNER = REPO / "load-tests" / "run.py"
MESSAGES = 300
BATCH = 40


def test_http_single_and_batch_arrive_and_the_summaries_match(tmp_path):
    missing = [name for name in ("hikyaku", "hikyaku-load", "hikyaku-sim") if not os.access(BIN_DIR / name, os.X_OK)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not built in {BIN_DIR} (make test builds them: swift build --build-tests)")
    out = tmp_path / "loadtest"
    env = child_environment({"PYTHONPATH": str(REPO)})
    result = subprocess.run(
        [sys.executable, str(RUNNER), "flat-out-single-node", "--smoke", "--messages", str(MESSAGES), "--api",
         "--api-batch", str(BATCH), "--bin-dir", str(BIN_DIR), "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    report_path = out / "report.json"
    assert report_path.exists(), f"no report.json (runner exit {result.returncode}):\n{tail}"
    report = json.loads(report_path.read_text())

    for key, mode, requests in (("hikyaku-api", "http", MESSAGES), ("hikyaku-api-batch", "http-batch", math.ceil(MESSAGES / BATCH))):
        run = report["runs"].get(key)
        assert run and "error" not in run, f"{key}: {run and run.get('error')}\n{tail}"
        loss = run["loss"]
        assert run["accepted"] == MESSAGES, f"{key}: accepted {run['accepted']}\n{tail}"
        assert loss["missing"] == 0 and loss["duplicates"] == 0 and loss["bounced"] == 0, (key, loss)
        assert loss["delivered_once"] == MESSAGES, (key, loss)
        assert run["simulator"]["arrivals"] == MESSAGES, (key, run["simulator"])

        summary = run["generator"]["summary"]
        assert summary["mode"] == mode, summary
        assert (summary["messages"], summary["accepted"], summary["refused"], summary["errors"]) == (MESSAGES, MESSAGES, {}, 0), summary
        assert summary["requests"] == requests, summary
        assert summary["submission_latency_ms"]["p50"] > 0, summary

        records = [json.loads(line) for line in (out / key / "generator-records.jsonl").read_text().splitlines()]
        assert sorted(r["seq"] for r in records) == list(range(MESSAGES)), key
        assert {(r["code"], r["http_status"]) for r in records} == {(250, 202)}, key
        assert len({r["queue_id"] for r in records}) == MESSAGES, f"{key}: one relay id per message"
        if mode == "http-batch":
            # One request's messages share its send and answer times.
            assert len({(r["submitted_us"], r["accepted_us"]) for r in records}) == requests, key

    assert set(report["api_comparison"]) == {"SMTP", report["runs"]["hikyaku-api"]["label"],
                                             report["runs"]["hikyaku-api-batch"]["label"]}
    assert "SMTP vs HTTP API" in (out / "summary.txt").read_text()
    assert result.returncode == 0, f"runner exit {result.returncode}:\n{tail}"
