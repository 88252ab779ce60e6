"""`hikyaku bounce parse` over the bounce corpus (Tests/bounce-corpus, its expected.json:
path → kind and expected recipients), and the DSN the relay composes read by independent
parsers (Python's email package; and flufl.bounce).

Per file: the kind must match and every recipient found must be an expected one (no
false positives: a wrong address would be suppressed). Overall: recipients found in at
least 90% of the files whose kind is `dsn` (issue 13). BOUNCE_CORPUS overrides the
corpus directory.
"""
import collections
import email
import email.policy
import json
import os
import subprocess

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.environ.get("BOUNCE_CORPUS", os.path.join(ROOT, "Tests", "bounce-corpus"))


def load_expected():
    path = os.path.join(CORPUS, "expected.json")
    if not os.path.exists(path):
        pytest.fail(f"no corpus at {CORPUS} (expected.json missing)")
    with open(path, encoding="utf-8") as fp:
        return json.load(fp)


def parse(paths):
    """One `hikyaku bounce parse --json` run over many files: path → result."""
    results = {}
    for start in range(0, len(paths), 200):
        chunk = paths[start:start + 200]
        out = subprocess.run([HIKYAKU_BIN, "bounce", "parse", "--json", *chunk], capture_output=True, timeout=120, check=True)
        for path, result in zip(chunk, json.loads(out.stdout)):
            assert result["file"] == path
            results[path] = result
    return results


@pytest.fixture(scope="module")
def corpus():
    expected = load_expected()
    names = sorted(expected)
    results = parse([os.path.join(CORPUS, name) for name in names])
    return expected, {name: results[os.path.join(CORPUS, name)] for name in names}


def found_addresses(result):
    """The recipients a result names: a DSN's failed recipients, a complaint's Original-Rcpt-To."""
    if result["kind"] == "complaint":
        recipient = result["complaint"].get("original_recipient")
        return {recipient.lower()} if recipient else set()
    return {r["recipient"].lower() for r in result["recipients"] if r.get("recipient")}


def test_complaint_fields_and_original_identifiers(corpus):
    """expected.json's feedback_type, original_mail_from, original_message_id and
    original_queue_id, where it gives them."""
    expected, results = corpus
    problems = []
    checked = 0
    for name, entry in expected.items():
        result = results[name]
        for key in ("feedback_type", "original_mail_from", "original_message_id", "original_queue_id"):
            if key not in entry:
                continue
            checked += 1
            # The original's identifiers are in every result; the rest is the complaint's.
            in_complaint = key in ("feedback_type", "original_mail_from")
            got = (result.get("complaint") or {}).get(key) if in_complaint else result.get(key)
            if got != entry[key]:
                problems.append(f"{name}: {key} {got!r}, expected {entry[key]!r}")
    assert not problems, "\n".join(problems)
    print(f"\n{checked} complaint fields and original identifiers checked")


def test_each_file_kind_and_no_false_recipients(corpus):
    expected, results = corpus
    problems = []
    for name, entry in expected.items():
        result = results[name]
        if result["kind"] != entry["kind"]:
            problems.append(f"{name}: kind {result['kind']}, expected {entry['kind']}")
            continue
        wanted = {address.lower() for address in entry["recipients"]}
        extra = found_addresses(result) - wanted
        if extra:
            problems.append(f"{name}: found {sorted(extra)} not among {sorted(wanted)}")
    assert not problems, "\n".join(problems)


def test_recipients_found_in_at_least_90_percent_of_dsn_files(corpus):
    expected, results = corpus
    table = collections.defaultdict(lambda: [0, 0])
    hits = total = 0
    for name, entry in expected.items():
        if entry["kind"] != "dsn":
            continue
        wanted = {address.lower() for address in entry["recipients"]}
        hit = bool(found_addresses(results[name]) & wanted) if wanted else False
        row = table[entry.get("format", name.split("/")[0])]
        row[1] += 1
        row[0] += hit
        total += 1
        hits += hit
    print("\nformat                files  recipients found")
    for format_name, (found, count) in sorted(table.items()):
        print(f"{format_name:<20} {count:>6}  {found:>6} ({100 * found / count:.0f}%)")
    print(f"{'all dsn':<20} {total:>6}  {hits:>6} ({100 * hits / total:.1f}%)")
    named = sum(1 for entry in expected.values() if entry["kind"] == "dsn" and entry["recipients"])
    print(f"{'dsn naming one':<20} {named:>6}  {hits:>6} ({100 * hits / named:.1f}%)  (files whose text names a recipient)")
    assert total > 0
    assert hits / total >= 0.90, f"recipients found in {hits} of {total} DSN files"


def test_stdin_and_text_output():
    path = next(os.path.join(CORPUS, name) for name, entry in sorted(load_expected().items())
                if entry["kind"] == "dsn" and entry["recipients"])
    with open(path, "rb") as fp:
        data = fp.read()
    out = subprocess.run([HIKYAKU_BIN, "bounce", "parse"], input=data, capture_output=True, timeout=30, check=True)
    assert out.stdout.decode().startswith("-: dsn")


def composed_dsn():
    out = subprocess.run([HIKYAKU_BIN, "bounce", "parse", "--compose-example"], capture_output=True, timeout=30, check=True)
    return out.stdout


def test_composed_dsn_read_by_python_email():
    message = email.message_from_bytes(composed_dsn(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    assert message["Auto-Submitted"] == "auto-replied"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    # message/delivery-status: the email package reads each field group as a block.
    groups = parts[1].get_payload()
    assert groups[0]["Reporting-MTA"] == "dns; relay.example"
    recipients = {g["Final-Recipient"]: g for g in groups[1:]}
    failed = recipients["rfc822; nobody@example.net"]
    assert failed["Action"] == "failed" and failed["Status"] == "5.1.1"
    assert recipients["rfc822; later@example.org"]["Action"] == "delayed"
    assert "Message-ID: <order-42@acme.example>" in parts[2].get_content()


def test_composed_dsn_read_by_flufl_bounce():
    import flufl.bounce as bounce  # installed by scripts/install-deps.sh
    message = email.message_from_bytes(composed_dsn())
    temporary, permanent = bounce.all_failures(message)
    assert permanent == {b"nobody@example.net"}
    assert temporary == {b"later@example.org"}
