"""The smtp-source profiles of `make bench` (load-tests/smtp_source_bench.py, issue 16) at a
tiny size, so the tool never rots: Postfix's smtp-source into the relay under test (the
`hikyaku` beside $HIKYAKU_BIN) and into smtp-sink, and straight into smtp-sink.

Asserts what the report must hold — every run moved all its messages, and the relay's and
redis-server's CPU and context switches were read — never speed. Postfix itself is left to
`make bench-smtp` (it needs root and takes minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.processes import child_environment

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "load-tests" / "smtp_source_bench.py"
MESSAGES = 500  # enough for the relay and redis-server to show CPU at 10 ms clock ticks


def test_smtp_source_profiles_move_every_message_and_read_cpu_and_switches(tmp_path):
    bin_dir = Path(HIKYAKU_BIN).parent
    out = tmp_path / "smtp-source"
    result = subprocess.run(
        [sys.executable, str(TOOL), "--bin-dir", str(bin_dir), "--relays", "sink,hikyaku", "--messages", str(MESSAGES),
         "--runs", "2", "--warmup", "20", "--out", str(out)],
        cwd=REPO, env=child_environment({"PYTHONPATH": str(REPO)}), capture_output=True, text=True, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"exit {result.returncode}:\n{tail}"
    summary = json.loads((out / "report.json").read_text())["smtp_source"]

    for key in ("sink", "hikyaku"):
        relay = summary["relays"][key]
        assert "error" not in relay, relay.get("error")
        assert set(relay["profiles"]) == {"per-connection", "reuse"}
        for profile, figures in relay["profiles"].items():
            assert len(figures["runs"]) == 2, (key, profile)
            for run in figures["runs"]:
                assert run["messages"] == MESSAGES
                assert run["messages_per_second"] > 0 and run["seconds"] > 0
                assert ("-d" in run["argv"]) == (profile == "reuse"), run["argv"]
    hikyaku = summary["relays"]["hikyaku"]["profiles"]
    for profile in ("per-connection", "reuse"):
        for process in ("relay", "redis"):
            assert hikyaku[profile][process]["cpu_ms_per_message"] > 0, (profile, process)
            assert hikyaku[profile][process]["context_switches_per_message"] > 0, (profile, process)
    rows = {row["profile"]: row for row in summary["table"]}
    assert rows["per-connection"]["hikyaku"]["messages_per_second"] == hikyaku["per-connection"]["messages_per_second"]
    text = (out / "summary.txt").read_text()
    assert "one connection per message" in text and "connection reuse (smtp-source -d)" in text
    assert "ceiling of the client and sink" in text


def test_split_roles_reports_each_roles_cpu(tmp_path):
    """`--split-roles` runs ingest, worker, webhooks and campaigns as separate processes:
    every message still moves, each role's CPU is read, and `relay` is their sum."""
    bin_dir = Path(HIKYAKU_BIN).parent
    out = tmp_path / "split"
    result = subprocess.run(
        [sys.executable, str(TOOL), "--bin-dir", str(bin_dir), "--relays", "hikyaku", "--messages", "300",
         "--runs", "1", "--warmup", "0", "--split-roles", "--out", str(out)],
        cwd=REPO, env=child_environment({"PYTHONPATH": str(REPO)}), capture_output=True, text=True, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"exit {result.returncode}:\n{tail}"
    summary = json.loads((out / "report.json").read_text())["smtp_source"]
    assert summary["split_roles"] is True
    hikyaku = summary["relays"]["hikyaku"]
    assert "error" not in hikyaku, hikyaku.get("error")
    assert "--role ingest" in hikyaku["system"]["processes"] and "--role worker" in hikyaku["system"]["processes"]
    for profile, figures in hikyaku["profiles"].items():
        run = figures["runs"][0]
        assert run["messages"] == 300, profile
        for role in ("ingest", "worker"):  # the two that do the work; the readers may idle below a clock tick
            assert run[role]["cpu_seconds"] > 0, (profile, role)
        roles = sum(run[role]["cpu_seconds"] for role in ("ingest", "worker", "webhooks", "campaigns"))
        assert abs(run["relay"]["cpu_seconds"] - roles) < 0.02, (profile, run["relay"], roles)
    text = (out / "summary.txt").read_text()
    assert "relay CPU ms per message by role, one connection per message: ingest" in text
