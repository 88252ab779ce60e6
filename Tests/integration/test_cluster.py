"""The multi-host cluster (issue 6) at CI size: `cluster/hikyaku-cluster chaos FAULT --smoke`
with the debug binaries `make test` builds — a Redis primary, a replica and three Sentinels
(or a Redis Cluster of six nodes),
two ingest hosts and three worker hosts (two egress IPs each), the simulator and the load
generator, each in its own network namespace — one fault per test, then loss accounting
against the simulator's records. Every check of the fault must hold (no accepted message
missing, limits held, the fault's own checks). The full-size set is `make chaos`
(cluster/README.md).

Needs root (network namespaces). Another hikyaku-cluster run on the machine is waited for
(they share the names hk-* and 10.77.0.0/24).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.notes import report_note

# One netns cluster per machine (names hk-*, 10.77.0.0/24): with pytest-xdist these run on
# one worker, one after the other, instead of waiting for each other's lock.
pytestmark = pytest.mark.xdist_group("netns-cluster")

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = REPO / ".build" / "debug"
TOOL = REPO / "cluster" / "hikyaku-cluster"


def cluster_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    if not shutil.which("ip"):
        return "needs iproute2 (ip)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"ip netns does not work here: {probe.stderr.strip()}"
    return None


# CI size, about 40-60 s each with debug binaries; worker-partition (a 30 s cut) runs in
# make chaos only. rolling-restart with two replicas guards the switchover that once lost
# acknowledged messages (cluster/README.md, "A switchover must pause writes"). On a Redis
# Cluster (`--redis cluster`: six nodes, no Sentinels) the faults that differ there: the
# kill -9 of the slot's primary, the kill -9 of the primary of the limits' slot (the relays
# there keep their limit keys apart, so claims run on two primaries), and the rolling
# restart's CLUSTER FAILOVER switches; the relay-only faults behave the same on both and run
# on both in make chaos.
FAULTS = [("worker-kill", "sentinel", []), ("ingest-kill", "sentinel", []), ("redis-failover", "sentinel", []),
          ("restart-all", "sentinel", []), ("rolling-restart", "sentinel", ["--replicas", "2"]),
          ("redis-failover", "cluster", []), ("limits-failover", "cluster", []), ("rolling-restart", "cluster", [])]


@pytest.mark.parametrize("fault,redis,extra", FAULTS,
                         ids=[f if r == "sentinel" else f"{f}@{r}" for f, r, _ in FAULTS])
def test_fault_in_the_cluster_loses_no_accepted_message(tmp_path, fault, redis, extra):
    problem = cluster_available()
    if problem:
        pytest.skip(problem)
    missing = [n for n in ("hikyaku", "hikyaku-load", "hikyaku-sim") if not os.access(BIN_DIR / n, os.X_OK)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not built in {BIN_DIR} (make test builds them)")
    out = tmp_path / "chaos"
    # The tool imports this clone's hikyaku_testsupport, as the tests do (pytest.ini), even
    # when scripts/install-deps.sh last installed another clone's.
    env = child_environment({"PYTHONPATH": str(REPO)})
    result = subprocess.run([sys.executable, str(TOOL), "--var", str(tmp_path / "var"), "--bin-dir", str(BIN_DIR),
                             "chaos", fault, "--smoke", "--redis", redis, *extra, "--out", str(out)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-80:])
    report_path = out / "report.json"
    assert report_path.exists(), f"no report.json (exit {result.returncode}):\n{tail}"
    label = fault if redis == "sentinel" else f"{fault}@{redis}"
    run = json.loads(report_path.read_text())["faults"][label]
    assert not run.get("error"), f"{run['error']}\n{tail}"
    loss = run["loss"]
    failed = [c for c in run["checks"] if not c["ok"]]
    assert loss["missing"] == 0, f"missing {loss['missing_seqs_sample']}\n{tail}"
    assert loss["accepted"] > 0 and loss["delivered_once"] + loss["duplicates"] + loss["bounced"] == loss["accepted"]
    assert not failed, f"{failed}\n{tail}"
    assert result.returncode == 0, tail
    # down left nothing behind.
    leftover = [line for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
                .stdout.splitlines() if line.startswith("hk-")]
    assert not leftover, leftover
    refusals = run["fault"].get("refusals", {})
    report_note(f"cluster {label}: {loss['accepted']} accepted, {loss['missing']} missing, {loss['duplicates']} "
                f"duplicate(s), {run['cluster']['delivered_without_250_total']} delivered without a 250; clients "
                f"went {refusals.get('longest_gap_between_250s_seconds')} s without a 250; limits: "
                f"{run['cluster']['limits']['limited']['max_in_any_10s']} max/10 s at limited.sim, "
                f"{run['simulator']['limit_violations']} simulator refusals; "
                + "; ".join(entry["what"] for entry in run["fault_log"])[:300])
