#!/usr/bin/env python3
"""A recipient MX for the integration tests, built on aiosmtpd.

Run as a subprocess by the ``receiver`` fixture in conftest.py:

    python3 receiver.py --port P --record FILE --cert cert.pem --key key.pem

It listens on 127.0.0.1:P, offers STARTTLS with the given (self-signed) certificate,
and appends one JSON line per accepted message to FILE:

    {"mail_from": ..., "rcpt_tos": [...], "data": <base64 of the raw data after
     dot-unstuffing, exactly as received>, "peer": [ip, port], "tls": bool,
     "helo": ..., "time": unix seconds}

Recipients are treated by their local part:

    reject-*   550 5.1.1 No such user
    grey-*     451 4.7.1 Greylisted on the first RCPT for that address, accepted afterwards
    slow-*     accepted; the end of DATA is answered only after SLOW_SECONDS
    anything   accepted

A message whose transaction was cut off (client gone before the reply to the final dot)
is not recorded: aiosmtpd cancels the DATA handler when the connection is lost, the way a
real MTA does not commit a message it never acknowledged.
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP

SLOW_SECONDS = 2.0


class RecordingHandler:
    def __init__(self, record_path):
        self.record_path = record_path
        self.greylisted = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 No such user"
        if local.startswith("grey-"):
            key = address.lower()
            if key not in self.greylisted:
                self.greylisted.add(key)
                return "451 4.7.1 Greylisted"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@", 1)[0].lower().startswith("slow-") for r in envelope.rcpt_tos):
            # Cancelled (and so not recorded) if the client disconnects meanwhile.
            await asyncio.sleep(SLOW_SECONDS)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": base64.b64encode(envelope.original_content).decode("ascii"),
            "peer": list(session.peer) if session.peer else None,
            "tls": session.ssl is not None,
            "helo": session.host_name,
            "time": time.time(),
        }
        line = json.dumps(record) + "\n"
        # One write of a whole line, flushed before answering 250.
        with open(self.record_path, "a", encoding="ascii") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        print(f"recorded message from={envelope.mail_from} to={envelope.rcpt_tos} "
              f"size={len(envelope.original_content)} tls={record['tls']}", flush=True)
        return "250 2.0.0 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    # aiosmtpd logs connections, commands and replies under "mail.log"; keep all but the
    # per-line DATA records (a 5 MB message has ~70,000 lines).
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda record: not str(record.msg).startswith("DATA readline"))
    logging.basicConfig(level=logging.DEBUG, handlers=[handler])

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    handler = RecordingHandler(args.record)
    loop = asyncio.get_running_loop()

    def factory():
        return SMTP(handler, hostname="mx.example.test", tls_context=tls,
                    data_size_limit=64 * 1024 * 1024, loop=loop)

    server = await loop.create_server(factory, host=args.host, port=args.port)
    print(f"receiver listening on {args.host}:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
