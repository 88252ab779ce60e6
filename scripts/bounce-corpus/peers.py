"""The SMTP peers every MTA run talks to, all on 127.0.60.0/24 port 25:

  127.0.60.1  capture server: accepts everything and keeps each message (the bounces)
  127.0.60.2  refusing receiver for remote.test: fails recipients by local part
              unknown*  RCPT  550 5.1.1   (recipient refused)
              full*     DATA  552 5.2.2   (mailbox full, after DATA)
              spam*     DATA  554 5.7.1   (content block, after DATA)
              tempfail* RCPT  451 4.3.0   (temporary; the MTA expires it)
              slow*     RCPT  451 4.7.1   (temporary; for delay warnings)
              anything else is accepted.
"""

import email.utils
import random
import smtplib
import threading
import time

from aiosmtpd.controller import Controller

CAPTURE_IP = '127.0.60.1'
REMOTE_IP = '127.0.60.2'
SENDER_DOMAIN = 'capture.test'
REMOTE_DOMAIN = 'remote.test'
ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'  # RelayCore.QueueID's base32


class CaptureHandler:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  bytes(envelope.original_content or envelope.content)))
        return '250 2.0.0 Ok: captured'


class RefusingHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@')[0].lower()
        if local.startswith('unknown'):
            return f'550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table'
        if local.startswith('tempfail'):
            return f'451 4.3.0 <{address}>: Temporary lookup failure'
        if local.startswith('slow'):
            return f'451 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again later'
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 Ok'

    async def handle_DATA(self, server, session, envelope):
        locals_ = [a.split('@')[0].lower() for a in envelope.rcpt_tos]
        for addr, local in zip(envelope.rcpt_tos, locals_):
            if local.startswith('full'):
                return f'552 5.2.2 <{addr}>: Mailbox full: quota exceeded (10240000/10240000 bytes)'
        if any(local.startswith('spam') for local in locals_):
            return '554 5.7.1 Message rejected due to content restrictions: spam score 14.2 exceeds 5.0'
        return '250 2.0.0 Ok: queued as 4cRemote'


class Peers:
    """Starts the capture server and the refusing receiver; stop() ends both."""

    def __init__(self):
        self.capture = CaptureHandler()
        self.controllers = [
            Controller(self.capture, hostname=CAPTURE_IP, port=25, server_hostname='capture.test'),
            Controller(RefusingHandler(), hostname=REMOTE_IP, port=25, server_hostname='mx.remote.test'),
        ]

    def start(self):
        for c in self.controllers:
            c.start()

    def stop(self):
        for c in self.controllers:
            c.stop()

    def wait_for(self, cases, timeout, delayed=('delay-warning',)):
        """Wait until each case's report arrived: a delay warning for the cases in `delayed`,
        otherwise the failure report (an MTA may send a warning first). {case: [raw]}."""
        deadline = time.time() + timeout
        while True:
            got = {}
            for case, raws in self.by_case().items():
                want_delay = case in delayed
                match = [r for r in raws if (b'Action: delayed' in r) == want_delay]
                if match:
                    got[case] = match
            if all(c in got for c in cases) or time.time() > deadline:
                return got
            time.sleep(0.5)

    def by_case(self):
        out = {}
        with self.capture.lock:
            for _mail_from, rcpts, raw in self.capture.messages:
                for r in rcpts:
                    local = r.split('@')[0]
                    if '+' in local:
                        out.setdefault(local.split('+', 1)[1], []).append(raw)
        return out


def queue_id():
    return ''.join(random.choice(ALPHABET) for _ in range(18))


def original_message(case, recipients, qid):
    """A message as Hikyaku relays it: its Received trace with the queue id, its Message-ID."""
    date = email.utils.formatdate(localtime=False, usegmt=True)
    for_clause = f'\r\n\tfor <{recipients[0]}>' if len(recipients) == 1 else ''
    return (f'Received: from app.example.com ([198.51.100.10])\r\n'
            f'\tby relay1.example.com (Hikyaku) with ESMTPSA id {qid}{for_clause}; {date}\r\n'
            f'From: Corpus Sender <sender@{SENDER_DOMAIN}>\r\n'
            f'To: {", ".join(recipients)}\r\n'
            f'Subject: bounce corpus case {case}\r\n'
            f'Date: {date}\r\n'
            f'Message-ID: <{qid}@relay1.example.com>\r\n'
            f'MIME-Version: 1.0\r\n'
            f'Content-Type: text/plain; charset=us-ascii\r\n'
            f'\r\n'
            f'This message was sent to make the MTA produce a bounce ({case}).\r\n')


def submit(host, port, case, recipients):
    """Hand one message to the MTA under test; returns its queue id and Message-ID."""
    qid = queue_id()
    with smtplib.SMTP(host, port, timeout=30) as s:
        s.ehlo('app.example.com')
        s.sendmail(f'sender+{case}@{SENDER_DOMAIN}', recipients,
                   original_message(case, recipients, qid).encode())
    return qid
