"""Messages and SMTP for the tests: RFC 5322 messages, header fields, the relay's own
additions, and a raw client for input no library would send."""

from __future__ import annotations

import os
import re
import select
import smtplib
import socket
import ssl
import threading
import time

from .waiting import DEFAULT_TIMEOUT


def token() -> str:
    """A short unique string to tell this test's addresses and messages apart."""
    return os.urandom(4).hex()


def make_message(sender: str, recipients: list[str], subject: str, body: bytes | str,
                 message_id: str | None = None, extra_headers: list[str] | None = None) -> bytes:
    """An RFC 5322 message with CRLF line ends, ending in CRLF."""
    headers = [f"From: <{sender}>", f"To: {', '.join(f'<{r}>' for r in recipients)}", f"Subject: {subject}",
               "Date: Thu, 01 Jan 2026 00:00:00 +0000", "MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii"]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    headers += extra_headers or []
    if isinstance(body, str):
        body = body.encode()
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def header_fields(data: bytes) -> tuple[list[bytes], bytes]:
    """Splits a message into its header fields (each with its folded lines and CRLFs) and
    everything after the header section (the empty line and the body)."""
    fields: list[bytes] = []
    position = 0
    while position < len(data):
        end = data.find(b"\r\n", position)
        if end < 0:
            end = len(data) - 2
        line = data[position:end + 2]
        if line == b"\r\n":
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
        position = end + 2
    return fields, data[position:]


def field_name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().lower().decode("ascii", "replace")


def field_value(field: bytes) -> str:
    return field.split(b":", 1)[1].replace(b"\r\n", b"").strip().decode("ascii", "replace")


def strip_relay_additions(received: bytes, original: bytes) -> tuple[bytes, bytes, str | None]:
    """Checks the relay's additions and returns ``(received minus them, Received field,
    added Message-ID or None)``.

    The relay must put exactly one ``Received:`` field at the very top, and add a
    ``Message-ID:`` field only when the original has none. The caller compares the rest
    with the original, byte for byte.
    """
    fields, rest = header_fields(received)
    assert fields, f"no header section in the received message: {received[:200]!r}"
    assert field_name(fields[0]) == "received", f"first header field is not Received: {fields[0]!r}"
    received_field = fields.pop(0)
    original_fields, _ = header_fields(original)
    original_ids = [f for f in original_fields if field_name(f) == "message-id"]
    ids = [f for f in fields if field_name(f) == "message-id"]
    added_id = None
    if original_ids:
        assert ids == original_ids, f"Message-ID changed or duplicated: {ids!r} vs {original_ids!r}"
    else:
        assert len(ids) == 1, f"expected the relay to add exactly one Message-ID, found {ids!r}"
        added_id = field_value(ids[0])
        fields.remove(ids[0])
    return b"".join(fields) + rest, received_field, added_id


def insecure_tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class RawSMTP:
    """An SMTP client on a plain socket, for input no library would send: malformed line
    ends, trickled bytes, floods. ``source`` binds the client's address (any 127.x.y.z
    works on Linux), so a test can be a client outside ``ingest.relay_networks``."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self.buffer = b""

    def send(self, data: bytes | str):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def reply(self) -> tuple[int, str]:
        """The next reply: ``(code, text)`` with the lines' texts joined by newlines.
        Raises ``ConnectionError`` if the server closes the connection first."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"connection closed by the server; partial reply {self.buffer!r}")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text[4:])
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), "\n".join(lines)

    def command(self, line: str | bytes) -> tuple[int, str]:
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def has_input(self, timeout: float) -> bool:
        """Whether a reply (or the end of the connection) arrives within ``timeout``."""
        if self.buffer:
            return True
        readable, _, _ = select.select([self.sock], [], [], timeout)
        return bool(readable)

    def closed_by_server(self) -> bool:
        """Whether the server has closed the connection (reads the end of stream)."""
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.sock.close()

    def __enter__(self) -> "RawSMTP":
        return self

    def __exit__(self, *exc):
        self.close()


def has_bare_line_ends(data: bytes) -> bool:
    """Whether ``data`` holds a CR not followed by LF or an LF not preceded by CR."""
    return re.search(rb"\r(?!\n)|(?<!\r)\n", data) is not None


def queue_id_from(reply: bytes | str) -> str:
    text = reply.decode() if isinstance(reply, bytes) else reply
    match = re.search(r"queued as (\S+)", text)
    assert match, f"no 'queued as <id>' in the reply {text!r}"
    return match.group(1)


class Submitter(threading.Thread):
    """Submits one message after another on fresh connections until stopped; records the
    final reply of each (250 = accepted, anything else = refused, the client keeps it)."""

    def __init__(self, port: int, tag: str, pause: float = 0.05):
        super().__init__(daemon=True)
        self.port, self.tag, self.pause = port, tag, pause
        self.results: list[dict] = []
        self.stopping = threading.Event()

    def run(self):
        index = 0
        while not self.stopping.is_set():
            rcpt = f"ha{index:05d}-{self.tag}@static.test"
            message_id = f"<ha-{self.tag}-{index}@client.test>"
            message = make_message(f"app-{self.tag}@origin.test", [rcpt], f"ha {index}", "failover test\n", message_id)
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
                    smtp.sendmail(f"app-{self.tag}@origin.test", [rcpt], message)
                code = 250
            except smtplib.SMTPResponseException as error:
                code = error.smtp_code
            except (smtplib.SMTPException, OSError):
                code = 0
            self.results.append({"rcpt": rcpt, "code": code, "time": time.time()})
            index += 1
            time.sleep(self.pause)

    def accepted(self) -> list[dict]:
        return [r for r in self.results if r["code"] == 250]
