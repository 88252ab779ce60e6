#!/usr/bin/env python3
"""A recipient MX for the integration tests, built on aiosmtpd.

Run as a subprocess by ``hikyaku_testsupport.receiver.Receiver`` (the ``receiver``
fixture of Tests/integration/conftest.py):

    python3 smtp_receiver.py --port P --record FILE --cert cert.pem --key key.pem

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

and, before that, by their domain when ``--behaviour DOMAIN=KIND`` names it (repeatable):

    tempfail     every RCPT gets 421 4.3.2 Try again later, and the connection is closed
                 (a 421 means the server is closing the channel, RFC 5321 4.2.3)
    throttle:N   the first N RCPTs from each source (peer) IP to any throttle domain get
                 421 4.7.0 slow down, and the connection is closed; later ones are accepted
    slow:S       accepted; the end of DATA is answered only after S seconds
    greylist:S   greylisting as postgrey does it, per (source IP, sender, recipient): the
                 first RCPT of a triple gets 451 4.7.1 Greylisted; a retry of the triple
                 at least S seconds later is accepted, and so is every later one; an
                 earlier retry is refused again (the connection stays open)

Each RCPT refused by a domain behaviour is appended to ``--refusals FILE`` as a JSON line
``{"time", "peer", "rcpt", "reply"}``.

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


def append_line(path, record):
    """One write of a whole JSON line, flushed and synced."""
    with open(path, "a", encoding="ascii") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


class RecordingHandler:
    def __init__(self, record_path, refusal_path=None, behaviours=None):
        self.record_path = record_path
        self.refusal_path = refusal_path
        self.behaviours = behaviours or {}   # domain -> (kind, argument)
        self.greylisted = set()
        self.throttled = {}                  # peer ip -> RCPTs to throttle domains refused so far
        self.greylist = {}                   # (peer ip, sender, rcpt) -> first seen (time) or True once passed

    def behaviour(self, address):
        return self.behaviours.get(address.rsplit("@", 1)[-1].lower(), (None, None))

    def refuse_and_close(self, server, session, address, reply):
        if self.refusal_path:
            append_line(self.refusal_path, {"time": time.time(), "peer": list(session.peer) if session.peer else None,
                                            "rcpt": address, "reply": reply})
        print(f"refused RCPT {address} from {session.peer}: {reply} (closing the connection)", flush=True)
        transport = server.transport
        # After the reply has been written (it is, before the loop runs this callback).
        asyncio.get_running_loop().call_later(0.05, lambda: transport and transport.close())
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        kind, argument = self.behaviour(address)
        if kind == "tempfail":
            return self.refuse_and_close(server, session, address, "421 4.3.2 Try again later")
        if kind == "throttle":
            key = session.peer[0] if session.peer else None
            if self.throttled.get(key, 0) < argument:
                self.throttled[key] = self.throttled.get(key, 0) + 1
                return self.refuse_and_close(server, session, address, "421 4.7.0 slow down")
        if kind == "greylist":
            triple = (session.peer[0] if session.peer else None, (envelope.mail_from or "").lower(), address.lower())
            seen = self.greylist.get(triple)
            if seen is not True:
                now = time.time()
                if seen is None or now - seen < argument:
                    self.greylist.setdefault(triple, now)
                    reply = "451 4.7.1 Greylisted, please try again later"
                    if self.refusal_path:
                        append_line(self.refusal_path, {"time": now, "peer": list(session.peer) if session.peer else None,
                                                        "rcpt": address, "reply": reply})
                    return reply
                self.greylist[triple] = True
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
        delay = 0.0
        if any(r.split("@", 1)[0].lower().startswith("slow-") for r in envelope.rcpt_tos):
            delay = SLOW_SECONDS
        for r in envelope.rcpt_tos:
            kind, argument = self.behaviour(r)
            if kind == "slow":
                delay = max(delay, argument)
        if delay:
            # Cancelled (and so not recorded) if the client disconnects meanwhile.
            await asyncio.sleep(delay)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": base64.b64encode(envelope.original_content).decode("ascii"),
            "peer": list(session.peer) if session.peer else None,
            "tls": session.ssl is not None,
            "helo": session.host_name,
            "time": time.time(),
        }
        # One write of a whole line, flushed before answering 250.
        append_line(self.record_path, record)
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
    parser.add_argument("--refusals", help="JSONL file of RCPTs refused by a domain behaviour")
    parser.add_argument("--no-starttls", action="store_true", help="do not offer STARTTLS (a receiver without TLS)")
    parser.add_argument("--behaviour", action="append", default=[], metavar="DOMAIN=KIND",
                        help="tempfail | throttle:N | slow:SECONDS | greylist:SECONDS for recipients at DOMAIN")
    args = parser.parse_args()
    behaviours = {}
    for spec in args.behaviour:
        domain, _, kind = spec.partition("=")
        kind, _, argument = kind.partition(":")
        if kind == "tempfail":
            behaviours[domain.lower()] = (kind, None)
        elif kind == "throttle":
            behaviours[domain.lower()] = (kind, int(argument or 1))
        elif kind == "slow":
            behaviours[domain.lower()] = (kind, float(argument or SLOW_SECONDS))
        elif kind == "greylist":
            behaviours[domain.lower()] = (kind, float(argument or 1))
        else:
            parser.error(f"unknown behaviour {spec!r}")
    # aiosmtpd logs connections, commands and replies under "mail.log"; keep all but the
    # per-line DATA records (a 5 MB message has ~70,000 lines).
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda record: not str(record.msg).startswith("DATA readline"))
    logging.basicConfig(level=logging.DEBUG, handlers=[handler])

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    handler = RecordingHandler(args.record, args.refusals, behaviours)
    loop = asyncio.get_running_loop()

    def factory():
        return SMTP(handler, hostname="mx.example.test", tls_context=None if args.no_starttls else tls,
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
