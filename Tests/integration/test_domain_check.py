"""``hikyaku domain check`` against a real DNS server.

Each test starts its own dnsmasq on a free loopback port, serving one zone for the
sending domain ``sender.test`` and the reverse zones of the relay's egress IPs, and runs
the real binary against it -- nothing about DNS is mocked. The relay's egress addresses
and EHLO names come from a configuration file (``delivery.egress``), as on a worker host.

* A correct zone -- SPF authorising the three egress IPs (one of them through an
  ``include:``), the DKIM key split over several character-strings as any 2048-bit key
  must be, DMARC, an MX, PTR records pointing to the EHLO names and A/AAAA records
  pointing back -- passes every check: exit status 0.
* A broken zone -- SPF without the IPs, another DKIM key, no DMARC, a null MX, a PTR to
  the provider's generic name, a missing PTR, a PTR whose name points elsewhere -- fails
  each of those checks with the record that fixes it: exit status 1.

dnsmasq notes: ``--host-record`` would also publish a PTR for its address, so forward
records here use ``--address=/name/ip`` (A or AAAA only) and reverse records
``--ptr-record``; a ``--txt-record`` value over 255 octets is split into 255-octet
character-strings, which the checker must join (RFC 6376 §3.6.2.2).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import subprocess
from pathlib import Path

import pytest

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.dns import SOA, Dnsmasq
from hikyaku_testsupport.processes import child_environment

DOMAIN = "sender.test"
# (address, EHLO name) of the relay's egress IPs.
EGRESS = [("192.0.2.10", "out1.sender.test"), ("192.0.2.11", "out2.sender.test"), ("2001:db8::25", "out6.sender.test")]


def rsa_public_key() -> str:
    """A real 2048-bit RSA public key, base64 SubjectPublicKeyInfo (392 characters), as DKIM publishes it."""
    private = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                             capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=private,
                         capture_output=True, check=True).stdout
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    """The relay's DKIM public key and another one."""
    return rsa_public_key(), rsa_public_key()


def dkim_record(key: str) -> str:
    return f"v=DKIM1; k=rsa; p={key}"


def reverse(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer


def zone_server(directory: Path, options: list[str]) -> Dnsmasq:
    """dnsmasq answering only from ``options``: authoritative (NXDOMAIN/NODATA rather than
    REFUSED) for ``.test`` and the reverse trees. Ready once it answers DOMAIN's SOA query
    at all (any answer will do)."""
    return Dnsmasq(directory, ["--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/", *options],
                   probe=DOMAIN, qtype=SOA, any_reply=True, name="dnsmasq (domain check zone)", stem="zone-dnsmasq")


def correct_zone(key: str) -> list[str]:
    return [
        f"--txt-record={DOMAIN},v=spf1 ip4:192.0.2.10 include:_spf.{DOMAIN} -all",
        f"--txt-record={DOMAIN},google-site-verification=unrelated",
        f"--txt-record=_spf.{DOMAIN},v=spf1 ip4:192.0.2.11 ip6:2001:db8::/64 -all",
        f"--txt-record=s1._domainkey.{DOMAIN},{dkim_record(key)}",
        f"--txt-record=_dmarc.{DOMAIN},v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}",
        f"--mx-host={DOMAIN},mx.{DOMAIN},10",
        f"--address=/mx.{DOMAIN}/192.0.2.25",
    ] + [f"--ptr-record={reverse(ip)},{helo}" for ip, helo in EGRESS] + [
        f"--address=/{helo}/{ip}" for ip, helo in EGRESS]


def broken_zone(other_key: str) -> list[str]:
    return [
        f"--txt-record={DOMAIN},v=spf1 ip4:198.51.100.0/24 ~all",           # the egress IPs are missing
        f"--txt-record=s1._domainkey.{DOMAIN},{dkim_record(other_key)}",   # not the relay's key
        # no _dmarc.sender.test
        f"--dns-rr={DOMAIN},15,000000",                                      # null MX: MX 0 "." (RFC 7505)
        f"--ptr-record={reverse('192.0.2.10')},host-192-0-2-10.provider.test",  # PTR is not the EHLO name
        "--address=/host-192-0-2-10.provider.test/192.0.2.10",
        # 192.0.2.11 has no PTR at all
        f"--ptr-record={reverse('2001:db8::25')},out6.{DOMAIN}",           # its name points elsewhere
        f"--address=/out6.{DOMAIN}/2001:db8::99",
    ]


def write_config(tmp_path: Path, dns_servers: list[str] | None) -> Path:
    delivery: dict = {"egress": [{"address": ip, "helo": helo} for ip, helo in EGRESS]}
    if dns_servers:
        delivery["dns_servers"] = dns_servers
    path = tmp_path / "hikyaku.yaml"
    path.write_text(json.dumps({"hostname": f"relay.{DOMAIN}", "delivery": delivery}, indent=2) + "\n")
    return path


def domain_check(*arguments: str) -> subprocess.CompletedProcess:
    if not os.access(HIKYAKU_BIN, os.X_OK):
        pytest.fail(f"hikyaku binary not found or not executable: {HIKYAKU_BIN} (set HIKYAKU_BIN)")
    return subprocess.run([HIKYAKU_BIN, "domain", "check", *arguments], capture_output=True, text=True,
                          timeout=60, env=child_environment())


def by_name(report: dict) -> dict[str, dict]:
    """Checks keyed by ``name`` or ``name target``."""
    return {" ".join(filter(None, [c["name"], c.get("target")])): c for c in report["checks"]}


def test_correct_zone_passes_every_check(tmp_path, keys):
    key, _ = keys
    assert len(dkim_record(key)) > 255  # one TXT record of several character-strings
    with zone_server(tmp_path, correct_zone(key)) as dns:
        config = write_config(tmp_path, [dns.address])
        out = domain_check(DOMAIN, "--config", str(config), "--json", "--dkim-selector", f"s1={dkim_record(key)}")
        assert out.returncode == 0, out.stdout + out.stderr
        report = json.loads(out.stdout)
        # The include: was followed through DNS, and the reverse names were asked.
        assert dns.queried("TXT", f"_spf.{DOMAIN}")
        assert dns.queried("PTR", reverse("2001:db8::25"))

    assert report["domain"] == DOMAIN
    checks = by_name(report)
    assert list(checks) == ["spf", "dkim s1", "dmarc", "alignment", "mx", "fcrdns 192.0.2.10", "fcrdns 192.0.2.11",
                            "fcrdns 2001:db8::25", "tls", "unsubscribe", "bulk-sender"]
    for name, check in checks.items():
        assert check["status"] == ("info" if name == "unsubscribe" else "pass"), check
        assert "fix" not in check, check
    assert report["summary"] == {"pass": 10, "fail": 0, "warn": 0, "info": 1}
    assert "include:_spf.sender.test → ip4:192.0.2.11" in checks["spf"]["finding"]
    assert checks["fcrdns 2001:db8::25"]["finding"] == "2001:db8::25 → out6.sender.test → 2001:db8::25, the EHLO name"
    assert "RFC 8058" in checks["unsubscribe"]["finding"]

    # The human report: one line per check, then the counts.
    with zone_server(tmp_path, correct_zone(key)) as dns:
        out = domain_check(DOMAIN, "--config", str(write_config(tmp_path, [dns.address])), "--dkim-selector", f"s1={dkim_record(key)}")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"Sending-domain check for {DOMAIN}"
    assert [line.split()[0] for line in lines[1:-1]] == ["PASS"] * 9 + ["INFO", "PASS"]
    assert lines[-1] == "10 pass, 0 warn, 0 fail, 1 info"


def test_broken_zone_names_each_failure_with_its_fix(tmp_path, keys):
    key, other_key = keys
    with zone_server(tmp_path, broken_zone(other_key)) as dns:
        # No dns_servers in the configuration: --dns-server chooses the server.
        config = write_config(tmp_path, None)
        out = domain_check(DOMAIN, "--config", str(config), "--dns-server", dns.address, "--json",
                           "--dkim-selector", f"s1={dkim_record(key)}")
        text = domain_check(DOMAIN, "--config", str(config), "--dns-server", dns.address,
                            "--dkim-selector", f"s1={dkim_record(key)}")
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    checks = by_name(report)
    failed = {name for name, check in checks.items() if check["status"] == "fail"}
    assert failed == {"spf", "dkim s1", "dmarc", "mx", "fcrdns 192.0.2.10", "fcrdns 192.0.2.11", "fcrdns 2001:db8::25",
                      "bulk-sender"}
    assert checks["alignment"]["status"] == "pass"

    spf = checks["spf"]
    assert "192.0.2.10: softfail (~all)" in spf["finding"]
    assert spf["fix"] == {"name": DOMAIN, "type": "TXT",
                          "value": "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 ip4:198.51.100.0/24 ~all"}

    dkim = checks["dkim s1"]
    assert "not the relay's key" in dkim["finding"]
    assert dkim["fix"] == {"name": f"s1._domainkey.{DOMAIN}", "type": "TXT", "value": dkim_record(key)}

    dmarc = checks["dmarc"]
    assert f"no DMARC record at _dmarc.{DOMAIN}" in dmarc["finding"]
    assert dmarc["fix"] == {"name": f"_dmarc.{DOMAIN}", "type": "TXT", "value": f"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"}

    mx = checks["mx"]
    assert "null MX (RFC 7505)" in mx["finding"]
    assert mx["fix"]["name"] == DOMAIN and mx["fix"]["type"] == "MX"

    generic = checks["fcrdns 192.0.2.10"]
    assert "PTR of 192.0.2.10 is host-192-0-2-10.provider.test, but the relay greets as out1.sender.test" in generic["finding"]
    assert generic["fix"] == {"name": "10.2.0.192.in-addr.arpa", "type": "PTR", "value": "out1.sender.test"}

    missing = checks["fcrdns 192.0.2.11"]
    assert "192.0.2.11 has no PTR record" in missing["finding"]
    assert missing["fix"] == {"name": "11.2.0.192.in-addr.arpa", "type": "PTR", "value": "out2.sender.test"}

    elsewhere = checks["fcrdns 2001:db8::25"]
    assert "does not resolve back" in elsewhere["finding"] and "2001:db8::99" in elsewhere["finding"]
    assert elsewhere["fix"] == {"name": f"out6.{DOMAIN}", "type": "AAAA", "value": "2001:db8::25"}

    bulk = checks["bulk-sender"]
    assert bulk["finding"] == "Gmail/Yahoo 2024 bulk-sender requirements not met: SPF pass, DKIM pass, DMARC record, FCrDNS for every IP"
    assert report["summary"]["fail"] == 8

    # The human report gives each failure its record on the same line.
    assert text.returncode == 1, text.stdout + text.stderr
    fail_lines = [line for line in text.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail_lines) == 8
    published = [line.split(" — publish: ", 1)[1] for line in fail_lines if " — publish: " in line]
    assert f'_dmarc.{DOMAIN} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"' in published
    assert "11.2.0.192.in-addr.arpa PTR out2.sender.test" in published
    assert len(published) == 7  # every failure but the summary


def test_without_egress_the_host_name_stands_for_the_relay(tmp_path, keys):
    key, _ = keys
    zone = [
        f"--txt-record={DOMAIN},v=spf1 a:relay.{DOMAIN} -all",
        f"--txt-record=_dmarc.{DOMAIN},v=DMARC1; p=none",
        f"--address=/relay.{DOMAIN}/192.0.2.50",
        f"--ptr-record={reverse('192.0.2.50')},relay.{DOMAIN}",
        f"--address=/{DOMAIN}/192.0.2.80",  # no MX: the A record is the implicit MX
    ]
    with zone_server(tmp_path, zone) as dns:
        config = tmp_path / "plain.yaml"
        config.write_text(json.dumps({"hostname": f"relay.{DOMAIN}", "delivery": {"dns_servers": [dns.address]}}) + "\n")
        out = domain_check(DOMAIN, "--config", str(config), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    checks = by_name(json.loads(out.stdout))
    assert checks["egress"]["status"] == "warn"
    assert "192.0.2.50 (relay.sender.test)" in checks["egress"]["finding"]
    assert checks["spf"]["status"] == "pass" and "a:relay.sender.test" in checks["spf"]["finding"]
    assert checks["fcrdns 192.0.2.50"]["status"] == "pass"
    assert checks["mx"]["status"] == "pass" and "implicit MX" in checks["mx"]["finding"]
    assert checks["dmarc"]["status"] == "warn"
    assert checks["dkim"]["status"] == "warn"          # no selector given
    assert checks["bulk-sender"]["status"] == "warn"   # DKIM not checked


def test_bad_options_are_refused(tmp_path):
    out = domain_check(DOMAIN, "--dkim-selector", "s1=v=DKIM1; k=rsa")
    assert out.returncode != 0 and "no p= key" in out.stderr
    out = domain_check("user@sender.test")
    assert out.returncode != 0 and "not a domain name" in out.stderr
    out = domain_check(DOMAIN, "--egress", "not-an-ip=helo.test")
    assert out.returncode != 0 and "expected IP[=HELO]" in out.stderr


def test_return_path_domain_needs_an_mx_and_spf_for_the_egress_ips(tmp_path, keys):
    """VERP: the envelope sender is b-<token>@bounces.sender.test, so SPF is judged for that
    domain (RFC 7208 §2.4) and its MX -- the bounce listener -- must exist and resolve."""
    key, _ = keys
    return_path = f"bounces.{DOMAIN}"
    spf = f"--txt-record={return_path},v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8::25 -all"
    mx = [f"--mx-host={return_path},bounce.{DOMAIN},10", f"--address=/bounce.{DOMAIN}/192.0.2.53"]
    selector = f"s1={dkim_record(key)}"
    with zone_server(tmp_path, correct_zone(key) + [spf] + mx) as dns:
        config = write_config(tmp_path, [dns.address])
        good = domain_check(DOMAIN, "--config", str(config), "--json", "--dkim-selector", selector, "--return-path", return_path)
        assert dns.queried("MX", return_path) and dns.queried("TXT", return_path)
    assert good.returncode == 0, good.stdout + good.stderr
    checks = by_name(json.loads(good.stdout))
    assert checks[f"return-path-mx {return_path}"]["status"] == "pass"
    assert f"bounce.{DOMAIN}" in checks[f"return-path-mx {return_path}"]["finding"]
    assert checks["spf"]["status"] == "pass" and "192.0.2.11" in checks["spf"]["finding"]

    # No MX, and an SPF record that leaves out the egress IPs: both fail, with their fixes.
    bad_spf = f"--txt-record={return_path},v=spf1 ip4:198.51.100.1 -all"
    with zone_server(tmp_path, correct_zone(key) + [bad_spf]) as dns:
        config = write_config(tmp_path, [dns.address])
        bad = domain_check(DOMAIN, "--config", str(config), "--json", "--dkim-selector", selector, "--return-path", return_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    checks = by_name(json.loads(bad.stdout))
    rp_mx = checks[f"return-path-mx {return_path}"]
    assert rp_mx["status"] == "fail" and "bounce listener" in rp_mx["finding"]
    assert rp_mx["fix"]["name"] == return_path and rp_mx["fix"]["type"] == "MX"
    assert checks["spf"]["status"] == "fail"
    assert checks["spf"]["fix"]["name"] == return_path
    assert checks["mx"]["status"] == "pass"  # the From domain's own MX is unaffected
