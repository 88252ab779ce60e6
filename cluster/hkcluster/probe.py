#!/usr/bin/env python3
"""Client sessions frozen in the middle of DATA, for the ingest-kill fault.

Run on the client host (`ip netns exec hk-client python3 probe.py …`): opens --count SMTP
sessions to --server, sends EHLO, MAIL, RCPT, DATA and then only part of the message (one
of them more than 256 KiB, so the relay is already streaming its body into Redis), prints
`READY` and waits. When the relay is killed, each session should end without a reply; the
result is one JSON line on stdout. Every message has the Message-ID
`<probe-I.RUN@hikyaku-cluster>`: none of them may ever arrive anywhere.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
import time


def read_reply(sock: socket.socket, buffer: bytearray) -> str:
    """One complete (possibly multi-line) reply."""
    while True:
        lines = buffer.split(b"\r\n")
        for index, line in enumerate(lines[:-1]):
            if len(line) >= 4 and line[3:4] == b" ":
                reply = b"\r\n".join(lines[:index + 1]).decode("utf-8", "replace")
                del buffer[:len(b"\r\n".join(lines[:index + 1])) + 2]
                return reply
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buffer += data


def open_probe(host: str, port: int, index: int, run: str, first_part: int) -> dict:
    sock = socket.create_connection((host, port), timeout=30)
    buffer = bytearray()
    read_reply(sock, buffer)
    for command, expect in ((b"EHLO probe.hikyaku-cluster.test", "250"),
                            (b"MAIL FROM:<probe@hikyaku-cluster.test>", "250"),
                            (f"RCPT TO:<probe-{index}.{run}@bulk.sim>".encode(), "250"),
                            (b"DATA", "354")):
        sock.sendall(command + b"\r\n")
        reply = read_reply(sock, buffer)
        if not reply.startswith(expect):
            raise RuntimeError(f"probe {index}: {command!r} got {reply!r}")
    head = (f"From: probe@hikyaku-cluster.test\r\nTo: probe-{index}@bulk.sim\r\n"
            f"Message-ID: <probe-{index}.{run}@hikyaku-cluster>\r\nSubject: cut off in DATA\r\n\r\n").encode()
    line = b"x" * 76 + b"\r\n"
    body = head + line * max(1, first_part // len(line))
    sock.sendall(body)
    return {"index": index, "sock": sock, "sent": len(body), "buffer": buffer}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="host:port of the ingest node")
    parser.add_argument("--run", required=True)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the sessions to end")
    args = parser.parse_args()
    host, port = args.server.rsplit(":", 1)
    probes = []
    for index in range(args.count):
        # The last one is big: its first 600 KB are already being streamed into Redis.
        first_part = 600 * 1024 if index == args.count - 1 else 2048
        probes.append(open_probe(host, int(port), index, args.run, first_part))
    time.sleep(0.5)  # let the relay read what was sent
    print("READY", flush=True)
    deadline = time.monotonic() + args.wait
    open_socks = {p["sock"]: p for p in probes}
    while open_socks and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_socks), [], [], max(0.0, deadline - time.monotonic()))
        for sock in readable:
            probe = open_socks.pop(sock)
            try:
                data = sock.recv(4096)
                probe["outcome"] = f"reply: {data.decode('utf-8', 'replace').strip()}" if data else \
                    "closed without a reply"
            except OSError as error:
                probe["outcome"] = f"reset without a reply ({error.strerror or error})"
            probe["ended_at"] = time.time()
            sock.close()
    for probe in open_socks.values():
        probe["outcome"] = "still open"
        probe["sock"].close()
    print(json.dumps({"probes": [{"index": p["index"], "sent_bytes": p["sent"], "outcome": p["outcome"],
                                  "ended_at": p.get("ended_at")} for p in probes]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
