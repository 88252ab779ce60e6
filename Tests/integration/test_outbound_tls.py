"""Outbound TLS (issue 10, item 9): what the relay does with a receiver's STARTTLS, MTA-STS
policies (RFC 8461) and DANE TLSA records (RFC 7672), against real local peers."""

from __future__ import annotations

import smtplib

import pytest

from hikyaku_testsupport.events import events_of_kind, wait_for_event
from hikyaku_testsupport.receiver import Receiver
from hikyaku_testsupport.smtp import make_message, token
from hikyaku_testsupport.waiting import wait_for
from tls_peers import LocalCA, PolicyServer, ScriptedSMTPServer, ValidatingResolver, Zone, cert_sha256, spki_sha256


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return LocalCA(tmp_path_factory.mktemp("ca"))


def first_outcome(relay, rcpt: str) -> list[dict]:
    """Waits for the first delivered, deferred or bounced event of ``rcpt``; returns its events."""
    def check():
        events = relay.events(recipient=rcpt)
        return events if any(e.get("event") in ("delivered", "deferred", "bounced") for e in events) else None
    return wait_for(check, what=f"an outcome for {rcpt}")


def submit(relay, sender: str, recipient: str, subject: str):
    message = make_message(sender, [recipient], subject, f"{subject}\n")
    with smtplib.SMTP("127.0.0.1", relay.relay_port, timeout=30) as smtp:
        smtp.sendmail(sender, [recipient], message)


# --------------------------------------------------------------------------- STARTTLS injection

def test_reply_injected_before_the_tls_handshake_is_not_taken_for_an_answer(make_relay, test_ca):
    """RFC 3207 §4.2: a server that answers STARTTLS with ``220`` and, in the same write, a
    forged ``550`` must not have that 550 read as the answer to the first command sent
    over TLS. Before the fix every later reply was shifted by one: the reply to RCPT
    was taken as the answer to DATA, so the message was recorded as delivered although
    the server never got it. Now the connection is dropped and the recipient deferred."""
    cert, key = test_ca.issue("inject.test")
    hostile = ScriptedSMTPServer(cert, key, after_starttls=b"220 2.0.0 go ahead\r\n550 5.1.1 no\r\n").start()
    try:
        relay = make_relay("all", {"delivery": {"routes": {"inject.test": f"127.0.0.1:{hostile.port}"}}})
        tok = token()
        rcpt = f"victim-{tok}@inject.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"injection {tok}")
        events = first_outcome(relay, rcpt)
        assert not events_of_kind(events, "delivered", rcpt), f"recorded as delivered: {events}"
        deferred = events_of_kind(events, "deferred", rcpt)[0]
        assert deferred["reply"].startswith("451 4."), deferred
        assert "STARTTLS" in deferred["reply"], deferred
        assert hostile.messages == [], "no message may be sent on a connection that was tampered with"
    finally:
        hostile.stop()


def test_clean_starttls_still_delivers(make_relay, test_ca):
    """The same server without the injected reply: delivered over TLS (the check refuses
    only bytes that arrive before the handshake)."""
    cert, key = test_ca.issue("clean.test")
    server = ScriptedSMTPServer(cert, key).start()
    try:
        relay = make_relay("all", {"delivery": {"routes": {"clean.test": f"127.0.0.1:{server.port}"}}})
        tok = token()
        rcpt = f"user-{tok}@clean.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"clean {tok}")
        wait_for_event(relay, "delivered", rcpt)
        assert server.tls_sessions >= 1
        assert any(f"clean {tok}".encode() in m for m in server.messages)
    finally:
        server.stop()


# --------------------------------------------------------------------------- MTA-STS (RFC 8461)

STS_DOMAINS = {
    # domain: (policy mode, mx patterns in its policy)
    "sts.test": ("enforce", ["mx.sts.test"]),
    "stswild.test": ("enforce", ["*.stswild.test"]),
    "stsbad.test": ("enforce", ["mx.elsewhere.test"]),
    "ststesting.test": ("testing", ["mx.elsewhere.test"]),
    "ststestlisted.test": ("testing", ["mx.ststestlisted.test"]),
}


@pytest.fixture(scope="module")
def sts_world(tmp_path_factory, test_ca):
    """dnsmasq with each STS domain's MX (mx.<domain> → 127.0.0.1), its ``_mta-sts`` TXT
    record and ``mta-sts.<domain>`` → 127.0.0.1; an HTTPS server with a certificate from
    the test CA serving each domain's policy."""
    directory = tmp_path_factory.mktemp("sts")
    records = []
    policies = {}
    for domain, (mode, mx) in STS_DOMAINS.items():
        records += [f"--mx-host={domain},mx.{domain},10", f"--host-record=mx.{domain},127.0.0.1",
                    f"--host-record=mta-sts.{domain},127.0.0.1", f"--txt-record=_mta-sts.{domain},v=STSv1; id=20261206;"]
        policies[f"mta-sts.{domain}"] = "version: STSv1\r\nmode: %s\r\n%smax_age: 86400\r\n" % (
            mode, "".join(f"mx: {m}\r\n" for m in mx))
    zone = Zone(directory / "dns", records, probe="sts.test").start()
    cert, key = test_ca.issue(*[f"mta-sts.{d}" for d in STS_DOMAINS])
    policy_server = PolicyServer(cert, key, policies).start()
    yield zone, policy_server
    policy_server.stop()
    zone.stop()


def sts_relay(make_relay, sts_world, test_ca, receiver_port: int):
    zone, policy_server = sts_world
    return make_relay("all", {"delivery": {
        "dns_servers": [zone.address], "mx_port": receiver_port, "ca_file": str(test_ca.cert),
        "mta_sts": {"https_port": policy_server.port}}})


def sts_receiver(tmp_path, name: str, cert_and_key) -> Receiver:
    directory = tmp_path / name
    directory.mkdir()
    server = Receiver(directory, *cert_and_key)
    server.start()
    return server


def test_mta_sts_enforce_delivers_to_a_listed_mx_with_a_verified_certificate(make_relay, sts_world, test_ca, tmp_path):
    receiver = sts_receiver(tmp_path, "good-mx", test_ca.issue("mx.sts.test"))
    try:
        relay = sts_relay(make_relay, sts_world, test_ca, receiver.port)
        tok = token()
        rcpt = f"user-{tok}@sts.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"sts good {tok}")
        wait_for_event(relay, "delivered", rcpt)
        [message] = receiver.messages_to(rcpt)
        assert message["tls"] is True
        assert "mta-sts.sts.test" in sts_world[1].requests, "the policy was never fetched"
        assert "MTA-STS policy fetched" in relay.process.log_text()
    finally:
        receiver.process.stop()


@pytest.mark.parametrize("certificate", ["self-signed", "other-name"])
def test_mta_sts_enforce_defers_when_the_certificate_does_not_verify(make_relay, sts_world, test_ca, tmp_path, certificate):
    """The MX is listed, but its certificate is self-signed or names another host: the
    mail is deferred with 4.7.5, never sent (RFC 8461 §4.2). Before MTA-STS it went out."""
    cert_and_key = test_ca.self_signed("mx.sts.test") if certificate == "self-signed" else test_ca.issue("wrong-name.test")
    receiver = sts_receiver(tmp_path, f"bad-mx-{certificate}", cert_and_key)
    try:
        relay = sts_relay(make_relay, sts_world, test_ca, receiver.port)
        tok = token()
        rcpt = f"user-{tok}@sts.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"sts {certificate} {tok}")
        events = first_outcome(relay, rcpt)
        assert not events_of_kind(events, "delivered", rcpt), events
        [deferred] = events_of_kind(events, "deferred", rcpt)
        assert deferred["reply"].startswith("451 4.7.5"), deferred
        assert "MTA-STS policy of sts.test" in deferred["reply"], deferred
        assert receiver.messages() == []
    finally:
        receiver.process.stop()


def test_mta_sts_enforce_defers_when_the_mx_is_not_in_the_policy(make_relay, sts_world, test_ca, tmp_path):
    receiver = sts_receiver(tmp_path, "unlisted-mx", test_ca.issue("mx.stsbad.test"))
    try:
        relay = sts_relay(make_relay, sts_world, test_ca, receiver.port)
        tok = token()
        rcpt = f"user-{tok}@stsbad.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"sts unlisted {tok}")
        events = first_outcome(relay, rcpt)
        assert not events_of_kind(events, "delivered", rcpt), events
        [deferred] = events_of_kind(events, "deferred", rcpt)
        assert deferred["reply"].startswith("451 4.7.5"), deferred
        assert "mx.stsbad.test is not listed in the MTA-STS policy of stsbad.test" in deferred["reply"], deferred
        assert receiver.messages() == []
    finally:
        receiver.process.stop()


def test_mta_sts_wildcard_pattern_and_testing_mode(make_relay, sts_world, test_ca, tmp_path):
    """``*.stswild.test`` covers ``mx.stswild.test`` (enforce: delivered); a ``testing``
    policy that does not list the MX, or lists it but its certificate names other hosts,
    only reports (logs), and the messages are delivered."""
    receiver = sts_receiver(tmp_path, "wild-mx", test_ca.issue("mx.stswild.test", "mx.ststesting.test"))
    try:
        relay = sts_relay(make_relay, sts_world, test_ca, receiver.port)
        tok = token()
        wild, testing, listed = f"w-{tok}@stswild.test", f"t-{tok}@ststesting.test", f"l-{tok}@ststestlisted.test"
        for rcpt in (wild, testing, listed):
            submit(relay, f"s-{tok}@origin.test", rcpt, f"sts {rcpt}")
        for rcpt in (wild, testing, listed):
            wait_for_event(relay, "delivered", rcpt)
        log = relay.process.log_text()
        assert "MTA-STS (testing): MX mx.ststesting.test is not listed" in log
        assert "MTA-STS (testing): the certificate of mx.ststestlisted.test would be refused under enforce" in log
        assert "MTA-STS (testing): the certificate of mx.stswild.test" not in log
    finally:
        receiver.process.stop()


# --------------------------------------------------------------------------- tls_required sites

@pytest.mark.parametrize("certificate", ["from-the-ca", "self-signed"])
def test_tls_required_site_verifies_the_certificate(make_relay, sts_world, test_ca, tmp_path, certificate):
    """A site with ``tls_required`` (as the gmail preset) takes only a certificate that
    chains to ``delivery.ca_file`` and names the MX host; MTA-STS is off here so that only
    the site setting decides. Before, any certificate was accepted."""
    cert_and_key = test_ca.issue("mx.sts.test") if certificate == "from-the-ca" else test_ca.self_signed("mx.sts.test")
    receiver = sts_receiver(tmp_path, f"strict-{certificate}", cert_and_key)
    try:
        zone, _ = sts_world
        relay = make_relay("all", {"delivery": {
            "dns_servers": [zone.address], "mx_port": receiver.port, "ca_file": str(test_ca.cert),
            "mta_sts": {"enabled": False},
            "sites": [{"name": "strict", "mx": ["mx.sts.test"], "tls_required": True}]}})
        tok = token()
        rcpt = f"user-{tok}@sts.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"strict {certificate} {tok}")
        events = first_outcome(relay, rcpt)
        if certificate == "from-the-ca":
            assert events_of_kind(events, "delivered", rcpt), events
            assert receiver.messages_to(rcpt)[0]["tls"] is True
        else:
            assert not events_of_kind(events, "delivered", rcpt), events
            [deferred] = events_of_kind(events, "deferred", rcpt)
            assert deferred["reply"].startswith("451 4.7.5"), deferred
            assert "tls_required" in deferred["reply"] and "certificate verify failed" in deferred["reply"], deferred
            assert receiver.messages() == []
    finally:
        receiver.process.stop()


def test_worker_refuses_to_start_without_a_ca_bundle(make_relay, tmp_path):
    """Verification on (MTA-STS is by default) and the configured bundle missing: the
    worker does not start, and says which file and which settings."""
    missing = tmp_path / "no-such-bundle.pem"
    relay = make_relay("worker", {"delivery": {"ca_file": str(missing)}}, start=False)
    relay.process.start()
    wait_for(lambda: not relay.process.alive(), what="the worker to exit")
    log = relay.process.log_text()
    assert relay.process.proc.returncode != 0
    assert "delivery.ca_file" in log and str(missing) in log, log[-2000:]


# --------------------------------------------------------------------------- DANE (RFC 7672)

def dane_relay(make_relay, resolver, receiver_port: int):
    return make_relay("all", {"delivery": {
        "dns_servers": [resolver.address], "mx_port": receiver_port, "dane": {"enabled": True}}})


@pytest.mark.parametrize("case", ["ee-match", "ee-mismatch", "ta-match", "ta-wrong-name"])
def test_dane(make_relay, test_ca, tmp_path, case):
    """A signed zone served by a validating unbound: ``dane.test`` MX ``mx.dane.test`` with a
    TLSA record at ``_<port>._tcp.mx.dane.test``. DANE-EE 3 1 1 matching the receiver's
    (self-signed) key → delivered over TLS; another key → deferred 4.7.5. DANE-TA 2 0 1 of
    the test CA, with the CA in the receiver's chain → delivered when the leaf names the MX,
    deferred otherwise. Before DANE every case was delivered (opportunistic TLS)."""
    if case.startswith("ee"):
        cert, key = test_ca.self_signed("mx.dane.test")
        other, _ = test_ca.self_signed("someone-else.test")
        tlsa = f"3 1 1 {spki_sha256(cert if case == 'ee-match' else other)}"
    else:
        leaf, key = test_ca.issue("mx.dane.test" if case == "ta-match" else "elsewhere.test")
        cert = tmp_path / "fullchain.pem"
        cert.write_bytes(leaf.read_bytes() + test_ca.cert.read_bytes())
        tlsa = f"2 0 1 {cert_sha256(test_ca.cert)}"
    receiver = sts_receiver(tmp_path, f"dane-{case}", (cert, key))
    resolver = ValidatingResolver(tmp_path / "unbound", "dane.test", [
        "@ IN MX 10 mx.dane.test.", "mx IN A 127.0.0.1", f"_{receiver.port}._tcp.mx IN TLSA {tlsa}"]).start()
    try:
        relay = dane_relay(make_relay, resolver, receiver.port)
        tok = token()
        rcpt = f"user-{tok}@dane.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"dane {case} {tok}")
        events = first_outcome(relay, rcpt)
        assert "DANE applies" in relay.process.log_text(), "the TLSA records were not used"
        if case in ("ee-match", "ta-match"):
            assert events_of_kind(events, "delivered", rcpt), events
            assert receiver.messages_to(rcpt)[0]["tls"] is True
        else:
            assert not events_of_kind(events, "delivered", rcpt), events
            [deferred] = events_of_kind(events, "deferred", rcpt)
            assert deferred["reply"].startswith("451 4.7.5"), deferred
            assert f"_{receiver.port}._tcp.mx.dane.test" in deferred["reply"], deferred
            assert receiver.messages() == []
    finally:
        resolver.stop()
        receiver.process.stop()


def test_dane_needs_an_authenticated_answer(make_relay, test_ca, tmp_path):
    """The same non-matching TLSA record served by dnsmasq (no DNSSEC, no AD bit) is not
    trusted: the message goes out with opportunistic TLS (RFC 7672 §2.2)."""
    cert, key = test_ca.self_signed("mx.dane.test")
    other, _ = test_ca.self_signed("someone-else.test")
    receiver = sts_receiver(tmp_path, "dane-insecure", (cert, key))
    tlsa_hex = spki_sha256(other)
    # dnsmasq --dns-rr: TYPE 52 with RDATA 03 01 01 <hash>.
    zone = Zone(tmp_path / "dns", ["--mx-host=dane.test,mx.dane.test,10", "--host-record=mx.dane.test,127.0.0.1",
                                   f"--dns-rr=_{receiver.port}._tcp.mx.dane.test,52,030101{tlsa_hex}"], probe="dane.test").start()
    try:
        relay = dane_relay(make_relay, zone, receiver.port)
        tok = token()
        rcpt = f"user-{tok}@dane.test"
        submit(relay, f"s-{tok}@origin.test", rcpt, f"dane insecure {tok}")
        events = first_outcome(relay, rcpt)
        assert events_of_kind(events, "delivered", rcpt), events
        assert "DANE applies" not in relay.process.log_text()
    finally:
        zone.stop()
        receiver.process.stop()
