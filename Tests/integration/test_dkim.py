"""DKIM signing (issue 5), end to end: `hikyaku domain add` makes the keys and prints the
records; a dnsmasq of this test serves exactly those records; messages go through the relay
to the recording receiver; dkimpy (an independent verifier, PyPI) checks the signatures on
the bytes the receiver got, resolving the keys from that dnsmasq.
"""

from __future__ import annotations

import re
import subprocess
import time

import dkim
import dns.resolver

from hikyaku_testsupport import notes
from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.dns import TXT, Dnsmasq
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for


def hikyaku(relay, *args: str) -> str:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment())
    assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out.stdout


def zone_records(output: str) -> dict[str, str]:
    """The TXT records `hikyaku domain add|show|rotate` printed: {name: joined value}."""
    records = {}
    for line in output.splitlines():
        match = re.match(r"^(\S+)\. \d+ IN TXT \( (.*) \)$", line)
        if match:
            strings = re.findall(r'"([^"]*)"', match.group(2))
            assert all(len(s) <= 255 for s in strings), "a TXT character-string is over 255 octets"
            records[match.group(1)] = "".join(strings)
    return records


class KeyServer(Dnsmasq):
    """dnsmasq answering TXT queries for the DKIM records (long values as several strings)."""

    def __init__(self, directory, records: dict[str, str]):
        # On the command line dnsmasq takes the text as is (quotes would be part of it)
        # and splits it into strings of 255 octets itself.
        assert all("," not in value for value in records.values())
        # Authoritative for the test domains: unknown names are NXDOMAIN.
        options = ["--local=/example/", *(f"--txt-record={name},{value}" for name, value in records.items())]
        super().__init__(directory, options, probe=next(iter(records)), qtype=TXT, name="dnsmasq (DKIM keys)",
                         session=True)

    def dnsfunc(self, name, timeout=5):
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(name, "TXT", lifetime=timeout)
        except Exception:
            return b""
        return b"".join(b"".join(rdata.strings) for rdata in answer)


def verify_all(data: bytes, keys: KeyServer) -> list[tuple[str, str, bool]]:
    """(algorithm, selector, verified) for every DKIM-Signature of the message."""
    checker = dkim.DKIM(data)
    count = len(re.findall(rb"(?im)^DKIM-Signature:", data))
    results = []
    for index in range(count):
        try:
            ok = checker.verify(idx=index, dnsfunc=keys.dnsfunc)
        except dkim.ValidationError:   # e.g. "body hash mismatch": a failed verification
            ok = False
        results.append((checker.signature_fields.get(b"a", b"").decode(), checker.signature_fields.get(b"s", b"").decode(), bool(ok)))
    return results


def send(port: int, sender: str, rcpt: str, header_from: str, body: str, source: str | None = None) -> str:
    import smtplib
    message = make_message(sender, [rcpt], f"dkim {rcpt}", body, f"<{rcpt.split('@')[0]}@client.test>")
    message = message.replace(f"From: <{sender}>".encode(), f"From: {header_from}".encode(), 1)
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0) if source else None) as smtp:
        smtp.sendmail(sender, [rcpt], message)
    return rcpt


def test_rsa_and_ed25519_signatures_verify_with_dkimpy_and_tampering_fails(make_relay, receiver, tmp_path):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    tok = token()
    domain = f"s{tok}.example"
    records = zone_records(hikyaku(relay, "domain", "add", domain))
    assert len(records) == 2, records
    assert any("k=rsa" in v for v in records.values()) and any("k=ed25519" in v for v in records.values())
    wait_for(lambda: "1 signing domain(s)" in relay.process.log_text(), what="the relay to load the keys")
    # Accounts: one owning the domain (signed), one that may send as anyone (never signed
    # with another tenant's key).
    hikyaku(relay, "account", "add", "owner", "--network", "127.0.0.9/32", "--domain", domain)
    hikyaku(relay, "account", "add", "legacy", "--network", "127.0.0.8/32", "--any-sender")
    wait_for(lambda: "loaded 2 account(s)" in relay.process.log_text(), what="the relay to load the accounts")

    big_body = ("A line of a large message that is streamed to Redis in pieces.\n" * 6000)
    sent = {
        "operator": send(relay.relay_port, f"app@{domain}", f"op-{tok}@static.test", f"App <app@{domain}>", "hello\n.leading dot\n"),
        "subdomain": send(relay.relay_port, f"news@mail.{domain}", f"sub-{tok}@static.test", f"news@mail.{domain}", "sub\n"),
        "owner": send(relay.relay_port, f"a@{domain}", f"own-{tok}@static.test", f"a@{domain}", "owner\n", source="127.0.0.9"),
        "large": send(relay.relay_port, f"app@{domain}", f"big-{tok}@static.test", f"app@{domain}", big_body),
        "legacy": send(relay.relay_port, f"x@{domain}", f"leg-{tok}@static.test", f"x@{domain}", "not mine\n", source="127.0.0.8"),
        "unrelated": send(relay.relay_port, "a@elsewhere.example", f"else-{tok}@static.test", "a@elsewhere.example", "x\n"),
    }
    arrived = {name: wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{name} to arrive")[0]["data"]
               for name, rcpt in sent.items()}

    with KeyServer(tmp_path / "keys", records) as keys:
        for name in ("operator", "subdomain", "owner", "large"):
            results = verify_all(arrived[name], keys)
            assert sorted(a for a, _, _ in results) == ["ed25519-sha256", "rsa-sha256"], (name, results)
            assert all(ok for _, _, ok in results), (name, results)
            assert re.search(rb"(?im)^DKIM-Signature:.*\bd=" + domain.encode(), arrived[name].replace(b"\r\n ", b" ")), name
        assert len(arrived["large"]) > 300_000
        for name in ("legacy", "unrelated"):
            assert b"DKIM-Signature:" not in arrived[name], f"{name} must not be signed"
        # Tampering: one body byte, or the Subject, and neither signature verifies.
        original = arrived["operator"]
        for tampered in (original.replace(b"hello", b"hellp"), original.replace(b"Subject: dkim", b"Subject: DKIM")):
            assert tampered != original
            assert not any(ok for _, _, ok in verify_all(tampered, keys))


def test_rotation_signs_with_the_new_keys_after_activate(make_relay, receiver, tmp_path):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    tok = token()
    domain = f"r{tok}.example"
    first = zone_records(hikyaku(relay, "domain", "add", domain))
    pending = zone_records(hikyaku(relay, "domain", "rotate", domain))
    assert set(pending).isdisjoint(first)
    listing = hikyaku(relay, "domain", "list")
    assert domain in listing
    wait_for(lambda: "1 signing domain(s)" in relay.process.log_text(), what="the relay to load the keys")
    before = send(relay.relay_port, f"a@{domain}", f"before-{tok}@static.test", f"a@{domain}", "before\n")
    hikyaku(relay, "domain", "activate", domain)
    time.sleep(1.0)   # > accounts.refresh_interval: the ingest node has the new keys
    after = send(relay.relay_port, f"a@{domain}", f"after-{tok}@static.test", f"a@{domain}", "after\n")
    data = {rcpt: wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{rcpt}")[0]["data"] for rcpt in (before, after)}
    with KeyServer(tmp_path / "keys", first | pending) as keys:
        old = verify_all(data[before], keys)
        new = verify_all(data[after], keys)
    assert {f"{s}._domainkey.{domain}" for _, s, _ in old} == set(first)
    assert {f"{s}._domainkey.{domain}" for _, s, _ in new} == set(pending)
    assert all(ok for _, _, ok in old + new), (old, new)
    # The private keys never appear in what the commands print.
    shown = hikyaku(relay, "domain", "show", domain)
    assert "PRIVATE KEY" not in shown and "retired" in shown


def test_domain_check_compares_the_published_records_with_the_relays_keys(make_relay, tmp_path):
    import json
    relay = make_relay("all")
    domain = f"c{token()}.example"
    records = zone_records(hikyaku(relay, "domain", "add", domain))
    rsa_name = next(n for n, v in records.items() if "k=rsa" in v)

    def dkim_checks(served: dict[str, str]) -> dict[str, dict]:
        with KeyServer(tmp_path / f"keys-{len(served)}", served) as keys:
            argv = [HIKYAKU_BIN, "domain", "check", domain, "--json", "--dns-server", f"127.0.0.1:{keys.port}",
                    "--config", str(relay.config_path)]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_environment())
        report = json.loads(out.stdout)
        return {c["target"]: c for c in report["checks"] if c["name"] == "dkim"}

    both = dkim_checks(records)
    assert len(both) == 2 and all(c["status"] == "pass" for c in both.values()), both
    only_rsa = dkim_checks({rsa_name: records[rsa_name]})
    failing = [c for c in only_rsa.values() if c["status"] == "fail"]
    assert len(failing) == 1 and "k=ed25519" in failing[0]["fix"]["value"], only_rsa


def memory_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field}")


def test_a_20_mib_signed_message_is_hashed_and_delivered_in_bounded_memory(make_relay, receiver, tmp_path):
    """Issue 16 item 5: the body of a large signed message is hashed while DATA arrives and
    sent to the MX in pieces, so the relay's peak memory does not grow with the message
    (before: read back whole to sign, loaded whole to deliver, about 3× its size)."""
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    tok = token()
    domain = f"m{tok}.example"
    records = zone_records(hikyaku(relay, "domain", "add", domain))
    wait_for(lambda: "1 signing domain(s)" in relay.process.log_text(), what="the relay to load the keys")
    # A small signed message first, so the code paths and buffers of a signed delivery are
    # in place before the baseline is taken.
    warm = send(relay.relay_port, f"app@{domain}", f"warm-{tok}@static.test", f"app@{domain}", "warm\n")
    wait_for(lambda: receiver.messages_to(warm), what="the warm-up message to arrive")
    time.sleep(0.5)
    # Linux resets the peak (VmHWM) to the current RSS on writing 5 to clear_refs.
    with open(f"/proc/{relay.pid}/clear_refs", "w") as clear:
        clear.write("5")
    baseline = memory_kib(relay.pid, "VmRSS")

    # 20 MiB of lines that relaxed canonicalization and dot-stuffing both change: leading
    # dots, trailing white space, runs of spaces, empty lines (and a few at the very end).
    line = ".a line  of the large message, with a leading dot and trailing space \t\n"
    body = (line + "\n") * (20 * 1024 * 1024 // (len(line) + 1)) + "\n\n\n"
    big = send(relay.relay_port, f"app@{domain}", f"huge-{tok}@static.test", f"app@{domain}", body)
    arrived = wait_for(lambda: receiver.messages_to(big), what="the 20 MiB message to arrive", timeout=300)[0]["data"]
    peak = memory_kib(relay.pid, "VmHWM")
    growth_mib = (peak - baseline) / 1024
    notes.report_note(f"20 MiB DKIM-signed message: relay peak RSS {growth_mib:.1f} MiB over its baseline ({baseline / 1024:.0f} MiB)")

    assert len(arrived) > 20 * 1024 * 1024
    with KeyServer(tmp_path / "keys", records) as keys:
        results = verify_all(arrived, keys)
    assert sorted(a for a, _, _ in results) == ["ed25519-sha256", "rsa-sha256"], results
    assert all(ok for _, _, ok in results), results
    assert growth_mib < 10, f"the relay's peak RSS grew by {growth_mib:.1f} MiB for a 20 MiB message"
