"""Talking to the cluster's Redis from this machine (through the bridge): over TLS, with a
password, and to whichever node the Sentinels name as the primary right now."""

from __future__ import annotations

import socket
import ssl

from runner.resp import Redis, RedisError

from .topology import MASTER_NAME, REDIS_PORT


class AuthRedis(Redis):
    """The runner's RESP client over TLS (`tls`: the cluster CA's context; the server's
    certificate must name the address connected to), authenticating on every (re)connection."""

    def __init__(self, host: str, port: int, password: str | None, timeout: float = 3.0,
                 tls: ssl.SSLContext | None = None):
        super().__init__(port, host=host, timeout=timeout)
        self.password = password
        self.tls = tls

    def _connect(self):
        sock = socket.create_connection(self.address, timeout=self.timeout)
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_hostname=self.address[0])
            except BaseException:
                sock.close()
                raise
        self.sock = sock
        self.reader = sock.makefile("rb")
        if self.password:
            self.sock.sendall(self._encode(("AUTH", self.password)))
            self._read()

    def info(self, section: str) -> dict[str, str]:
        text = self.call("INFO", section).decode("utf-8", "replace")
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


def pairs(reply) -> dict[str, str]:
    """A flat [key, value, key, value, …] reply (SENTINEL master, …) as a dict."""
    if not isinstance(reply, list):
        return {}
    return {reply[i].decode(): (reply[i + 1].decode() if isinstance(reply[i + 1], bytes) else reply[i + 1])
            for i in range(0, len(reply) - 1, 2)}


class Sentinels:
    def __init__(self, addresses: list[str], password: str | None, tls: ssl.SSLContext | None = None):
        self.addresses = addresses
        self.password = password
        self.tls = tls

    def client(self, address: str) -> AuthRedis:
        host, port = address.rsplit(":", 1)
        return AuthRedis(host, int(port), self.password, timeout=2.0, tls=self.tls)

    def primary_by(self, address: str) -> str | None:
        """What one Sentinel says the primary is (host), or None."""
        client = self.client(address)
        try:
            reply = client.call("SENTINEL", "get-master-addr-by-name", MASTER_NAME)
            return reply[0].decode() if reply else None
        except (OSError, EOFError, RedisError):
            return None
        finally:
            client.close()

    def primary(self) -> str | None:
        for address in self.addresses:
            host = self.primary_by(address)
            if host:
                return host
        return None

    def views(self) -> dict[str, str | None]:
        return {address: self.primary_by(address) for address in self.addresses}

    def master_info(self, address: str) -> dict:
        client = self.client(address)
        try:
            return pairs(client.call("SENTINEL", "master", MASTER_NAME))
        except (OSError, EOFError, RedisError):
            return {}
        finally:
            client.close()

    def replicas_known(self, address: str) -> int:
        client = self.client(address)
        try:
            return len(client.call("SENTINEL", "replicas", MASTER_NAME) or [])
        except (OSError, EOFError, RedisError):
            return 0
        finally:
            client.close()


class PrimaryRedis(AuthRedis):
    """A connection to the current primary: asks the Sentinels where it is on every
    (re)connection, and reconnects after a READONLY reply (a demoted primary)."""

    def __init__(self, sentinels: Sentinels, password: str | None, timeout: float = 3.0):
        super().__init__("0.0.0.0", REDIS_PORT, password, timeout, tls=sentinels.tls)
        self.sentinels = sentinels

    def _connect(self):
        host = self.sentinels.primary()
        if host is None:
            raise OSError("no Sentinel names a primary")
        self.address = (host, REDIS_PORT)
        super()._connect()

    def call(self, *args):
        try:
            return super().call(*args)
        except RedisError as error:
            if "READONLY" not in str(error) and "LOADING" not in str(error):
                raise
            self.close()
            return super().call(*args)
