"""A minimal Redis client: RESP2 over a socket (optionally TLS, optionally AUTH), enough
for PING, GET, INFO, XRANGE and SENTINEL queries; and a stream read in chunks."""

from __future__ import annotations

import socket
import ssl


class RedisError(Exception):
    pass


class Redis:
    """``password``: AUTH on every (re)connection; ``tls``: a client context (the server's
    certificate must name the address connected to)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0, password: str | None = None,
                 tls: ssl.SSLContext | None = None):
        self.address = (host, port)
        self.timeout = timeout
        self.password = password
        self.tls = tls
        self.sock: socket.socket | None = None
        self.reader = None

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

    def close(self):
        if self.sock is not None:
            try:
                self.reader.close()
                self.sock.close()
            finally:
                self.sock = None
                self.reader = None

    def call(self, *args):
        """Sends one command and returns its reply (bytes, int, list or None); reconnects
        once if the connection was lost."""
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(self._encode(args))
                return self._read()
            except (OSError, EOFError):
                self.close()
                if attempt == 2:
                    raise

    def pipeline(self, commands) -> list:
        """Sends every command in one write, then reads their replies (no reconnect: a
        pipeline half sent cannot be retried blindly)."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(b"".join(self._encode(args) for args in commands))
        return [self._read() for _ in commands]

    @staticmethod
    def _encode(args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    def _read(self):
        line = self.reader.readline()
        if not line:
            raise EOFError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self.reader.read(length + 2)
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None
            return [self._read() for _ in range(count)]
        raise RedisError(f"unexpected reply {line!r}")

    # ------------------------------------------------------------------ helpers

    def ping(self) -> bool:
        try:
            return self.call("PING") == b"PONG"
        except (OSError, EOFError, RedisError):
            self.close()
            return False

    def get_int(self, key: str) -> int | None:
        value = self.call("GET", key)
        return int(value) if value is not None else None

    def info(self, section: str) -> dict[str, str]:
        text = self.call("INFO", section).decode("utf-8", "replace")
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a plain-text Redis (or Sentinel) on host:port answers PING now."""
    client = Redis(port, host=host, timeout=1)
    try:
        return client.ping()
    finally:
        client.close()


class StreamReader:
    """Reads a stream from the beginning, in chunks, remembering where it stopped."""

    def __init__(self, redis: Redis, key: str, count: int = 2000):
        self.redis = redis
        self.key = key
        self.count = count
        self.last_id = b"-"

    def read_new(self, limit: int = 50_000) -> list[dict[bytes, bytes]]:
        """Entries added since the last call (at most ``limit`` per call)."""
        entries = []
        while len(entries) < limit:
            start = b"-" if self.last_id == b"-" else b"(" + self.last_id
            chunk = self.redis.call("XRANGE", self.key, start, "+", "COUNT", self.count)
            if not chunk:
                break
            for entry_id, fields in chunk:
                entries.append({fields[i]: fields[i + 1] for i in range(0, len(fields), 2)})
                self.last_id = entry_id
            if len(chunk) < self.count:
                break
        return entries
