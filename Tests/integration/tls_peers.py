"""Peers for the outbound TLS tests (test_outbound_tls.py): a scripted SMTP server with
STARTTLS that a test can make hostile, a test certificate authority, an HTTPS server for
MTA-STS policies, and a DNS zone in dnsmasq. Each runs for one test on loopback."""

from __future__ import annotations

import asyncio
import http.server
import ssl
import subprocess
import threading
from pathlib import Path

from hikyaku_testsupport.certs import issue_cert, make_ca, self_signed
from hikyaku_testsupport.dns import Dnsmasq, dns_query
from hikyaku_testsupport.ports import free_port
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.waiting import wait_for


class LocalCA:
    """A certificate authority of one test session: ``issue(name)`` makes a key and a
    certificate for a DNS name signed by it; ``self_signed(name)`` one signed by nobody."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.cert, self.key = make_ca(directory, "local", common_name="Hikyaku Test CA")

    def issue(self, name: str, *more_names: str) -> tuple[Path, Path]:
        return issue_cert(self.directory, name, (self.cert, self.key), ",".join(f"DNS:{n}" for n in (name, *more_names)),
                          extensions="extendedKeyUsage=serverAuth\n")

    def self_signed(self, name: str) -> tuple[Path, Path]:
        return self_signed(self.directory, f"self-{name}", name, f"DNS:{name}")


class ScriptedSMTPServer:
    """A small SMTP server (asyncio, in a thread) that accepts every command, offers
    STARTTLS and records what it receives. ``after_starttls`` is written as the answer to
    STARTTLS, in one write, before the TLS handshake — a hostile server puts a second
    reply there. ``messages`` holds each message body received; ``tls_sessions`` counts
    completed handshakes."""

    def __init__(self, cert: Path, key: Path, after_starttls: bytes = b"220 2.0.0 go ahead\r\n"):
        self.port = free_port()
        self.after_starttls = after_starttls
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.messages: list[bytes] = []
        self.tls_sessions = 0
        self.commands: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "ScriptedSMTPServer":
        self._thread.start()
        assert self._ready.wait(10), "the scripted SMTP server did not start"
        return self

    def stop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        tls = False
        try:
            writer.write(b"220 scripted.test ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    return
                command = line.decode("ascii", "replace").strip()
                self.commands.append(command)
                verb = command.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    offer = b"" if tls else b"250-STARTTLS\r\n"
                    writer.write(b"250-scripted.test\r\n" + offer + b"250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == "HELO":
                    writer.write(b"250 scripted.test\r\n")
                elif verb == "STARTTLS" and not tls:
                    writer.write(self.after_starttls)
                    await writer.drain()
                    await writer.start_tls(self.context)
                    tls = True
                    self.tls_sessions += 1
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    writer.write(b"250 2.0.0 ok\r\n")
                elif verb == "DATA":
                    writer.write(b"354 go on\r\n")
                    await writer.drain()
                    body = b""
                    while True:
                        chunk = await reader.readline()
                        if not chunk or chunk == b".\r\n":
                            break
                        body += chunk
                    self.messages.append(body)
                    writer.write(b"250 2.0.0 queued\r\n")
                elif verb == "QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"502 5.5.2 what\r\n")
                await writer.drain()
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


class PolicyServer:
    """HTTPS (http.server + ssl, in a thread) serving MTA-STS policies at
    ``/.well-known/mta-sts.txt`` by Host header: ``policies = {"mta-sts.example.test": text}``.
    ``requests`` lists the hosts asked for."""

    def __init__(self, cert: Path, key: Path, policies: dict[str, str]):
        self.policies = policies
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                outer.requests.append(host)
                body = outer.policies.get(host)
                if self.path != "/.well-known/mta-sts.txt" or body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "PolicyServer":
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Zone(Dnsmasq):
    """dnsmasq for one test, with the records given as dnsmasq options (``--mx-host=…``,
    ``--host-record=…``, ``--txt-record=…``); everything else under ``.test`` is NXDOMAIN.
    Ready once it answers the MX query for ``probe``."""

    def __init__(self, directory: Path, records: list[str], probe: str):
        super().__init__(directory, ["--local=/test/", *records], probe=probe, name="dnsmasq (outbound TLS zone)")


def spki_sha256(cert: Path) -> str:
    """The SHA-256 of a certificate's SubjectPublicKeyInfo, hex (TLSA 3 1 1)."""
    import hashlib
    pem = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem, check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def cert_sha256(cert: Path) -> str:
    """The SHA-256 of a whole certificate (DER), hex (TLSA 2 0 1 / 3 0 1)."""
    import hashlib
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"], check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


class ValidatingResolver:
    """Debian's ``unbound`` as a local DNSSEC-validating resolver: ``zone`` is signed with
    ``ldns-keygen``/``ldns-signzone``, served by unbound's ``auth-zone`` and validated
    with the key's DS record as trust anchor, so answers from it carry the AD bit.
    ``records`` are zone-file lines relative to the origin."""

    def __init__(self, directory: Path, zone: str, records: list[str]):
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.zone = zone
        zone_file = directory / f"{zone}.zone"
        zone_file.write_text("\n".join([
            f"$ORIGIN {zone}.", "$TTL 300",
            f"@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 900 604800 300",
            f"@ IN NS ns.{zone}.", "ns IN A 127.0.0.1", *records, ""]))
        key = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=directory,
                             check=True, capture_output=True, text=True).stdout.strip()
        subprocess.run(["ldns-signzone", zone_file.name, key], cwd=directory, check=True, capture_output=True)
        config = directory / "unbound.conf"
        config.write_text(f"""server:
  interface: 127.0.0.1
  port: {self.port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{directory}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  # .test is a special-use name unbound answers locally by default (RFC 6761).
  local-zone: "test." nodefault
  module-config: "validator iterator"
  trust-anchor-file: "{directory / (key + '.ds')}"
auth-zone:
  name: "{zone}."
  zonefile: "{directory / (zone_file.name + '.signed')}"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
""")
        self.process = ManagedProcess("unbound (validating)", ["unbound", "-d", "-c", config], directory / "unbound.log")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "ValidatingResolver":
        self.process.start()

        def answers():
            self.process.require_alive()
            return dns_query(self.port, self.zone)
        wait_for(answers, timeout=20, interval=0.1, what=f"unbound to answer the MX query for {self.zone}")
        return self

    def stop(self):
        self.process.stop()
