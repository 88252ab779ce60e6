"""The HTTP API against its own OpenAPI 3.1 document (issue 12): schemathesis (PyPI)
generates requests from /v1/openapi.json — valid ones and deliberately broken ones — and
checks that no answer is a 5xx and that every status, content type, header and body is
one the document describes. Messages it gets accepted go to the test receiver's domains
(or bounce for lack of an MX), never outside. The relay keeps a log store, so `/v1/stats`
answers and the reads come from SQLite.
"""

from __future__ import annotations

import subprocess

from hikyaku_testsupport.ports import free_ports
from hikyaku_testsupport.waiting import wait_for

from test_api import make_account, wait_loaded


def test_every_answer_matches_the_openapi_document(make_relay, tmp_path):
    plain, secure = free_ports(2)
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}, "logs": {"sqlite_path": str(tmp_path / "logs.sqlite")},
                               "api": {"plain_listen": [f"127.0.0.1:{plain}"], "listen": [f"127.0.0.1:{secure}"]}})
    relay.api_port = plain
    wait_for(lambda: "HTTP API listening" in relay.process.log_text(), what="the HTTP API to listen")
    # An account that may send as anyone: the document's examples use example.com.
    key = make_account(relay, "acme", "acme.example", "--any-sender", scope="send,read,suppressions", rate="10000/s burst 10000")
    wait_loaded(relay, 1)
    checks = ",".join(["not_a_server_error", "status_code_conformance", "content_type_conformance",
                       "response_headers_conformance", "response_schema_conformance"])
    out = subprocess.run(
        ["schemathesis", "run", f"http://127.0.0.1:{relay.api_port}/v1/openapi.json",
         "-H", f"Authorization: Bearer {key}", "--checks", checks, "--max-examples", "40",
         "--request-timeout", "20", "--seed", "1", "--no-color"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report[-6000:]
    assert "generated" in report and " passed" in report, report[-2000:]
    # It really sent mail through: some generated messages were accepted.
    wait_for(lambda: any(e["event"] == "accepted" for e in relay.events()), what="an accepted message from schemathesis")
