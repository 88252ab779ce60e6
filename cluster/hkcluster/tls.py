"""TLS material of the cluster's Redis links, made with openssl at `up`: a CA and one
certificate for every Redis and Sentinel host (their addresses as IP subjectAltNames, so
a client checks the address a Sentinel names), in var/cluster/tls. Client links (relay →
Redis and Sentinel, this tool → Redis and Sentinel), replication and Sentinel's own links
all use it; the relay verifies with `redis.tls.ca_file`."""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TLSFiles:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "redis.pem"

    @property
    def key(self) -> Path:
        return self.directory / "redis-key.pem"

    def create(self, addresses: list[str]):
        """A fresh CA and a certificate naming `addresses` (2 days: the cluster is for runs)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=hikyaku cluster test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        extensions = self.directory / "redis.ext"
        extensions.write_text("subjectAltName=" + ",".join(f"IP:{a}" for a in addresses)
                              + ",DNS:redis.hikyaku.cluster\nbasicConstraints=CA:FALSE\n")
        csr = self.directory / "redis.csr"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.key, "-out", csr, "-subj", "/CN=redis.hikyaku.cluster")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                "-out", self.cert, "-days", "2", "-extfile", extensions)
        # The relay runs as root here; on VMs the key is readable by the redis user only.
        for path in (self.ca_key, self.key):
            path.chmod(0o600)

    def client_context(self) -> ssl.SSLContext:
        """For this tool's own connections: the server checked against the CA, by address."""
        context = ssl.create_default_context(cafile=str(self.ca))
        context.check_hostname = True
        return context


def openssl(*args):
    result = subprocess.run(["openssl", *[str(a) for a in args]], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]}: {result.stderr.strip()}")
