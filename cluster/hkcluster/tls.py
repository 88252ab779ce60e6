"""TLS material of the cluster's Redis links, made with openssl at `up`: a CA and one
certificate for every Redis and Sentinel host (their addresses as IP subjectAltNames, so
a client checks the address a Sentinel names), in var/cluster/tls. Client links (relay →
Redis and Sentinel, this tool → Redis and Sentinel), replication and Sentinel's own links
all use it; the relay verifies with `redis.tls.ca_file`."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from hikyaku_testsupport.certs import issue_cert, make_ca


@dataclass
class TLSFiles:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "cluster-ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "cluster-ca-key.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "redis-cert.pem"

    @property
    def key(self) -> Path:
        return self.directory / "redis-key.pem"

    def create(self, addresses: list[str]):
        """A fresh CA and a certificate naming `addresses` (2 days: the cluster is for runs)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        ca = make_ca(self.directory, "cluster", common_name="hikyaku cluster test CA")
        san = ",".join(f"IP:{a}" for a in addresses) + ",DNS:redis.hikyaku.cluster"
        issue_cert(self.directory, "redis", ca, san, common_name="redis.hikyaku.cluster")
        # The relay runs as root here; on VMs the key is readable by the redis user only.
        for path in (self.ca_key, self.key):
            path.chmod(0o600)

    def client_context(self) -> ssl.SSLContext:
        """For this tool's own connections: the server checked against the CA, by address."""
        context = ssl.create_default_context(cafile=str(self.ca))
        context.check_hostname = True
        return context
