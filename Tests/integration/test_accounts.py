"""Accounts (tenants), SMTP AUTH with lockout, per-account limits, the bounce-rate pause
and TLS certificate reload (issue 5), end to end: accounts are created with the real
`hikyaku account` command, clients are swaks and Python's smtplib, mail goes through
the relay to the recording receiver.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import smtplib
import subprocess

from hikyaku_testsupport.binaries import HIKYAKU_BIN
from hikyaku_testsupport.ports import free_port
from hikyaku_testsupport.processes import child_environment
from hikyaku_testsupport.receiver import Receiver
from hikyaku_testsupport.smtp import insecure_tls_context, make_message, token
from hikyaku_testsupport.waiting import wait_for

ACCOUNT_IP = "127.0.0.9"      # in the test account's network
STRANGER_IP = "127.0.0.7"     # in no account's network and not allow-listed


def hikyaku(relay, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    argv = [HIKYAKU_BIN, *args, "--config", str(relay.config_path)]
    out = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30, env=child_environment())
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {out.returncode}: {out.stdout}{out.stderr}")
    return out


def swaks(port: int, sender: str, rcpt: str, *extra: str, local: str | None = None, header_from: str | None = None) -> str:
    argv = ["swaks", "--server", f"127.0.0.1:{port}", "--from", sender, "--to", rcpt, "--timeout", "20"]
    if local:
        argv += ["--local-interface", local]
    if header_from:
        argv += ["--h-From", header_from]
    out = subprocess.run(argv + list(extra), capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


def final_reply(transcript: str) -> str:
    """The reply that decided the transaction in a swaks transcript: the first error
    (``<**``), else the last reply before QUIT's ``221`` (the 250 to the final dot)."""
    lines = [l for l in transcript.splitlines() if l.startswith("<-") or l.startswith("<**")]
    errors = [l for l in lines if l.startswith("<**")]
    if errors:
        return errors[0].split(" ", 1)[1].strip()
    replies = [l.split(" ", 1)[1].strip() for l in lines if not l.split(" ", 1)[1].strip().startswith("221")]
    return replies[-1] if replies else ""


def account_events(relay, name: str) -> list[dict]:
    out = hikyaku(relay, "events", "tail", "--account", name)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_network_account_sends_only_its_domains_within_its_quota(make_relay, receiver):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms"}})
    tok = token()
    hikyaku(relay, "account", "add", "acme", "--network", f"{ACCOUNT_IP}/32", "--domain", "acme.example",
            "--hourly-quota", "3")
    wait_for(lambda: "loaded 1 account(s)" in relay.process.log_text(), what="the relay to load the new account")
    port = relay.relay_port

    # Envelope sender outside the account's domains: refused at MAIL.
    reply = final_reply(swaks(port, "news@other.example", f"a-{tok}@static.test", local=ACCOUNT_IP))
    assert reply.startswith("553 5.7.1"), reply
    # From: header of another domain (display name dressed as ours): refused at the dot.
    reply = final_reply(swaks(port, "news@acme.example", f"b-{tok}@static.test", local=ACCOUNT_IP,
                              header_from='"news@acme.example" <ceo@bank.example>'))
    assert reply.startswith("550 5.7.1") and "bank.example" in reply, reply
    # A subdomain of a sending domain is the account's too; three recipients fill the quota.
    delivered = []
    for index, sender in enumerate(["news@acme.example", "news@mail.acme.example", "x@acme.example"]):
        rcpt = f"ok{index}-{tok}@static.test"
        reply = final_reply(swaks(port, sender, rcpt, local=ACCOUNT_IP, header_from=f"Acme <{sender}>"))
        assert reply.startswith("250"), reply
        delivered.append(rcpt)
    reply = final_reply(swaks(port, "news@acme.example", f"over-{tok}@static.test", local=ACCOUNT_IP,
                              header_from="news@acme.example"))
    assert reply.startswith("451 4.7.0") and "hourly quota of 3" in reply, reply
    # An address in no account's network is refused as before.
    reply = final_reply(swaks(port, "news@acme.example", f"c-{tok}@static.test", local=STRANGER_IP))
    assert reply.startswith("550 5.7.1"), reply
    # The allow-listed 127.0.0.1 sends without an account.
    reply = final_reply(swaks(port, "ops@anything.example", f"ops-{tok}@static.test"))
    assert reply.startswith("250"), reply

    for rcpt in delivered + [f"ops-{tok}@static.test"]:
        wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{rcpt} to arrive")
    for refused in (f"a-{tok}", f"b-{tok}", f"over-{tok}", f"c-{tok}"):
        assert receiver.messages_to(f"{refused}@static.test") == [], refused

    # Tenant isolation in the event stream: the account sees its own events only.
    events = wait_for(lambda: (e := account_events(relay, "acme")) and
                      len([x for x in e if x["event"] == "delivered"]) == 3 and e, what="acme's delivered events")
    assert {e["account"] for e in events} == {"acme"}
    assert {e["recipient"] for e in events if e["event"] == "delivered"} == set(delivered)
    assert not [e for e in events if "ops-" in (e.get("recipient") or "") + " ".join(e.get("recipients") or [])]

    show = hikyaku(relay, "account", "show", "acme").stdout
    assert "used this hour   3 of 3" in show, show


def smtp_session(port: int, implicit: bool = False) -> smtplib.SMTP:
    if implicit:
        smtp = smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=insecure_tls_context())
        smtp.ehlo("client.test")
        return smtp
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    smtp.ehlo("client.test")
    smtp.starttls(context=insecure_tls_context())
    smtp.ehlo("client.test")
    return smtp


def test_smtp_auth_plain_and_login_over_tls_with_lockout(make_relay, receiver):
    implicit_port = free_port()
    relay = make_relay("all", {
        "accounts": {"refresh_interval": "200ms", "auth_failures_before_lockout": 3, "auth_lockout": "2s",
                     "auth_lockout_max": "4s"},
    }, start=False)
    relay.config["ingest"]["listeners"].append({"name": "smtps", "address": f"127.0.0.1:{implicit_port}",
                                                 "mode": "submission", "tls": "implicit"})
    relay.config_path.write_text(json.dumps(relay.config))
    relay.start()
    tok = token()
    hikyaku(relay, "account", "add", "tenant", "--password-stdin", "--domain", "tenant.example", stdin="s3cret-pass\n")
    wait_for(lambda: "loaded 1 account(s)" in relay.process.log_text(), what="the relay to load the new account")

    # AUTH on the plaintext connection is not offered; a client that tries is refused.
    with smtplib.SMTP("127.0.0.1", relay.submission_port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        assert "auth" not in smtp.esmtp_features, smtp.esmtp_features
        code, _ = smtp.docmd("AUTH", "PLAIN AHRlbmFudABzM2NyZXQtcGFzcw==")
        assert code == 538, code

    # PLAIN over STARTTLS and LOGIN over implicit TLS (port 465 style), each sending a message.
    sent = []
    for mechanism, implicit in (("PLAIN", False), ("LOGIN", True)):
        rcpt = f"{mechanism.lower()}-{tok}@static.test"
        with smtp_session(implicit_port if implicit else relay.submission_port, implicit=implicit) as smtp:
            assert mechanism in smtp.esmtp_features.get("auth", "").upper().split(), smtp.esmtp_features
            smtp.user, smtp.password = "tenant", "s3cret-pass"
            code, reply = smtp.auth(mechanism, smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login)
            assert code == 235, reply
            message = make_message("app@tenant.example", [rcpt], f"{mechanism} {tok}", "hello\n")
            assert smtp.sendmail("app@tenant.example", [rcpt], message) == {}
        sent.append(rcpt)
    for rcpt in sent:
        wait_for(lambda r=rcpt: receiver.messages_to(r), what=f"{rcpt} to arrive")

    # swaks with STARTTLS and AUTH LOGIN, as a third-party client.
    rcpt = f"swaks-{tok}@static.test"
    out = swaks(relay.submission_port, "app@tenant.example", rcpt, "-tls", "-a", "LOGIN", "-au", "tenant",
                "-ap", "s3cret-pass", header_from="app@tenant.example")
    assert "235 2.7.0" in out and "queued as" in out, out
    wait_for(lambda: receiver.messages_to(rcpt), what="the swaks message to arrive")

    # Wrong passwords: 535 until the threshold, then 454 for a while — even with the right one.
    def auth_plain(password: str) -> tuple[int, bytes]:
        # One AUTH PLAIN per session (smtplib's login() would try every mechanism).
        with smtp_session(relay.submission_port) as smtp:
            smtp.user, smtp.password = "tenant", password
            try:
                return smtp.auth("PLAIN", smtp.auth_plain)
            except smtplib.SMTPAuthenticationError as error:
                return error.smtp_code, error.smtp_error

    codes = [auth_plain("wrong")[0] for _ in range(3)]
    assert codes == [535, 535, 535], codes
    code, text = auth_plain("s3cret-pass")
    assert code == 454 and b"Too many failed" in text, (code, text)
    # Locked out for 2 s after the third failure: afterwards the right password works again.
    def logs_in():
        code, text = auth_plain("s3cret-pass")
        assert code in (235, 454), (code, text)
        return code == 235
    wait_for(logs_in, timeout=30, interval=1, what="the lockout to expire")
    # The log (at debug level) never holds a password or a password hash.
    log = relay.process.log_text()
    assert "s3cret-pass" not in log
    assert "$y$" not in log and "$6$" not in log, "a password hash was logged"


def test_high_bounce_rate_pauses_account_until_resumed(make_relay, receiver):
    relay = make_relay("all", {"accounts": {"refresh_interval": "200ms", "bounce_minimum_volume": 5,
                                            "bounce_rate_threshold": 0.3}})
    tok = token()
    hikyaku(relay, "account", "add", "bulk", "--network", f"{ACCOUNT_IP}/32", "--domain", "bulk.example")
    wait_for(lambda: "loaded 1 account(s)" in relay.process.log_text(), what="the relay to load the new account")
    port = relay.relay_port
    # 2 good and 3 unknown users: 3/5 bounced, over 30% once all 5 outcomes are in (the
    # pause cannot come before the fifth, so all five are accepted).
    for index in range(5):
        local = f"ok{index}" if index < 2 else f"reject-{index}"
        reply = final_reply(swaks(port, "n@bulk.example", f"{local}-{tok}@static.test", local=ACCOUNT_IP,
                                  header_from="n@bulk.example"))
        assert reply.startswith("250"), reply
    paused = wait_for(lambda: [e for e in account_events(relay, "bulk") if e["event"] == "paused"],
                      what="the account to be paused for its bounce rate")
    assert "hard-bounce rate" in paused[0]["reply"] and "30.0%" in paused[0]["reply"], paused
    # Its clients are told to come back later (nothing is accepted meanwhile).
    def refused():
        reply = final_reply(swaks(port, "n@bulk.example", f"later-{tok}@static.test", local=ACCOUNT_IP,
                                  header_from="n@bulk.example"))
        return reply if reply.startswith("451 4.7.1") else None
    reply = wait_for(refused, what="MAIL to be refused while paused")
    assert "paused" in reply, reply
    assert "PAUSED" in hikyaku(relay, "account", "show", "bulk").stdout

    out = hikyaku(relay, "account", "resume", "bulk").stdout
    assert "resumed account bulk" in out, out
    def accepted():
        reply = final_reply(swaks(port, "n@bulk.example", f"again-{tok}@static.test", local=ACCOUNT_IP,
                                  header_from="n@bulk.example"))
        return reply if reply.startswith("250") else None
    wait_for(accepted, what="the resumed account to send again")
    wait_for(lambda: receiver.messages_to(f"again-{tok}@static.test"), what="the message after resuming to arrive")
    assert [e for e in account_events(relay, "bulk") if e["event"] == "resumed"]


def certificate_sha256(port: int) -> str:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        smtp.starttls(context=insecure_tls_context())
        der = smtp.sock.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest()


def test_tls_certificate_reloads_without_restart_and_tls12_is_the_minimum(make_relay, tmp_path):
    cert, key = tmp_path / "live-cert.pem", tmp_path / "live-key.pem"

    def make_certificate(cn: str):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", str(key) + ".new", "-out", str(cert) + ".new", "-days", "2", "-subj", f"/CN={cn}"],
                       check=True, capture_output=True)
        os.replace(str(key) + ".new", key)     # key first: a reload in between fails and keeps the old pair
        os.replace(str(cert) + ".new", cert)

    make_certificate("first.relay.test")
    relay = make_relay("all", {"ingest": {"tls": {"certificate": str(cert), "private_key": str(key),
                                                  "reload_interval": "1s"}}})
    first = certificate_sha256(relay.submission_port)
    make_certificate("second.relay.test")
    second = wait_for(lambda: (f := certificate_sha256(relay.submission_port)) != first and f,
                      what="new connections to get the renewed certificate (file watch)")
    make_certificate("third.relay.test")
    os.kill(relay.pid, signal.SIGHUP)
    wait_for(lambda: certificate_sha256(relay.submission_port) not in (first, second), what="SIGHUP to reload")
    assert relay.alive()
    assert "reloaded TLS certificate" in relay.process.log_text()

    # openssl s_client: TLS 1.2 and 1.3 are accepted, 1.1 is not (even when the client allows it).
    def s_client(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{relay.submission_port}",
                               *flags], input="QUIT\n", capture_output=True, text=True, timeout=30)
    ok12 = s_client("-tls1_2")
    assert "Protocol  : TLSv1.2" in ok12.stdout or "TLSv1.2" in ok12.stdout, ok12.stdout[-2000:] + ok12.stderr[-2000:]
    old = s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert "New, TLSv1.1" not in old.stdout and (old.returncode != 0 or "Cipher is (NONE)" in old.stdout), \
        old.stdout[-2000:] + old.stderr[-2000:]


def test_api_keys_are_shown_once_and_stored_only_hashed(make_relay, redis_server):
    relay = make_relay("all")
    hikyaku(relay, "account", "add", "apiuser", "--network", "127.0.0.20/32", "--domain", "api.example")
    out = hikyaku(relay, "account", "api-key", "create", "apiuser", "--label", "billing").stdout
    key = out.strip().splitlines()[-1]
    assert re.fullmatch(r"hk_[0-9a-f]{8}_[0-9a-f]{48}", key), out
    key_id = key.split("_")[1]
    digest = hashlib.sha256(key.encode()).hexdigest()
    stored = json.loads(redis_server.command("GET", f"hk:apikey:{digest}"))
    assert stored["account"] == "apiuser" and stored["id"] == key_id and stored["label"] == "billing"
    # The key itself is nowhere in Redis.
    dump = b"".join(redis_server.command("GET", k.decode()) for k in redis_server.command("KEYS", "hk:*").split()
                    if redis_server.command("TYPE", k.decode()).strip() == b"string")
    assert key.encode() not in dump
    listing = hikyaku(relay, "account", "api-key", "list", "apiuser").stdout
    assert key_id in listing and key not in listing and "billing" in listing
    assert "revoked" in hikyaku(relay, "account", "api-key", "revoke", "apiuser", key_id).stdout
    assert redis_server.command("EXISTS", f"hk:apikey:{digest}").strip() == b"0"
    # Deleting an account takes its keys with it.
    key2 = hikyaku(relay, "account", "api-key", "create", "apiuser").stdout.strip().splitlines()[-1]
    hikyaku(relay, "account", "delete", "apiuser")
    assert redis_server.command("EXISTS", f"hk:apikey:{hashlib.sha256(key2.encode()).hexdigest()}").strip() == b"0"
    # Every change made from the command line is in the audit log (who, what), never a key.
    audit = []
    for _, fields in redis_server.client().call("XRANGE", "hk:audit", "-", "+"):
        entry = {k.decode(): v.decode() for k, v in zip(fields[::2], fields[1::2])}
        audit.append(entry)
    actions = [(e["action"], e.get("account"), e.get("id")) for e in audit]
    assert actions == [("account.add", "apiuser", None), ("api_key.create", "apiuser", key_id),
                       ("api_key.revoke", "apiuser", key_id), ("api_key.create", "apiuser", key2.split("_")[1]),
                       ("account.delete", "apiuser", None)], audit
    assert all(e["actor"].startswith("cli:") for e in audit), audit
    assert key not in str(audit) and key2 not in str(audit)


def test_outbound_tls_is_opportunistic_and_required_where_the_site_says_so(make_relay, receiver, certs, tmp_path):
    plain = Receiver(tmp_path / "plain-mx", *certs["receiver"], starttls=False)
    (tmp_path / "plain-mx").mkdir(exist_ok=True)
    plain.start()
    try:
        tok = token()
        # Two relays on one Redis would share work; one relay, two routes: the TLS-less
        # receiver is reached only through "plain.test". With tls_required for every site,
        # mail to it is deferred, never sent in clear; mail to the TLS receiver goes.
        # verify_tls_required off: the receiver's certificate is self-signed (verification
        # is tested in test_outbound_tls.py).
        relay = make_relay("all", {"delivery": {"routes": {"plain.test": f"127.0.0.1:{plain.port}"},
                                                "default_shaping": {"tls_required": True},
                                                "verify_tls_required": False}})
        reply = final_reply(swaks(relay.relay_port, "a@origin.test", f"p-{tok}@plain.test"))
        assert reply.startswith("250"), reply
        reply = final_reply(swaks(relay.relay_port, "a@origin.test", f"t-{tok}@static.test"))
        assert reply.startswith("250"), reply
        [tls_message] = wait_for(lambda: receiver.messages_to(f"t-{tok}@static.test"), what="the TLS receiver's message")
        assert tls_message["tls"] is True
        deferred = wait_for(lambda: [e for e in relay.events(recipient=f"p-{tok}@plain.test") if e["event"] == "deferred"],
                            what="the message to the TLS-less receiver to be deferred")
        assert "TLS is required" in deferred[0]["reply"] and deferred[0]["reply"].startswith("451 4.7.5"), deferred[0]
        assert plain.messages() == [], "a message went to a receiver without TLS although TLS was required"
    finally:
        plain.process.stop()
