"""Talking to the cluster's Redis from this machine (through the bridge): over TLS, with a
password, and to whichever node the Sentinels name as the primary right now."""

from __future__ import annotations

import ssl

from hikyaku_testsupport.resp import Redis, RedisError

from .topology import MASTER_NAME, REDIS_PORT


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

    def client(self, address: str) -> Redis:
        host, port = address.rsplit(":", 1)
        return Redis(int(port), host=host, timeout=2.0, password=self.password, tls=self.tls)

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


class PrimaryRedis(Redis):
    """A connection to the current primary: asks the Sentinels where it is on every
    (re)connection, and reconnects after a READONLY reply (a demoted primary)."""

    def __init__(self, sentinels: Sentinels, password: str | None, timeout: float = 3.0):
        super().__init__(REDIS_PORT, host="0.0.0.0", timeout=timeout, password=password, tls=sentinels.tls)
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
