#!/usr/bin/env python3
"""Generate Tests/bounce-corpus/generated/<mta>/<case>.eml by making real MTAs bounce.

Run as root on Debian 12 (`make bounce-corpus`). Every server binds to 127.0.60.0/24
(see peers.py); everything started here is stopped before the script ends.

usage: generate.py [postfix] [exim] [sendmail]   (default: all three)
"""

import email
import os
import re
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES  # noqa: E402
from expected_io import CORPUS, merge_expected  # noqa: E402
from peers import Peers  # noqa: E402

RUNNERS = {
    'postfix': 'run_postfix',
    'exim': 'run_exim',
    'sendmail': 'run_sendmail',
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def original_ids(raw):
    """The Message-ID / Hikyaku queue id of the message the bounce encloses."""
    text = raw.decode('utf-8', 'replace')
    qid = re.search(r'\(Hikyaku\) with ESMTPSA id ([0-9A-Z]{18})', text)
    return (f'{qid.group(1)}@relay1.example.com', qid.group(1)) if qid else (None, None)


def write(mta, version, results):
    dest = os.path.join(CORPUS, 'generated', mta)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    entries = {}
    for case, raw in sorted(results.items()):
        spec = CASES[case]
        name = f'{case}.eml'
        with open(os.path.join(dest, name), 'wb') as fp:
            fp.write(raw)
        msg = email.message_from_bytes(raw)
        has_dsn = any(p.get_content_type() == 'message/delivery-status' for p in msg.walk())
        entry = {
            'kind': 'dsn',
            'recipients': spec['recipients'],
            'source': f'{mta} {version} generated',
            'format': 'rfc3464' if has_dsn else f'{mta}-text',
            'mta': mta, 'mta_version': version, 'case': case,
            'note': spec['what'],
        }
        if 'action' in spec:
            entry['action'] = spec['action']
        if 'status' in spec:
            # The receiver's enhanced code; Exim writes Status: 5.0.0 and keeps it in
            # Diagnostic-Code only.
            entry['status'] = spec['status']
            if re.search(rb'^Status: 5\.0\.0', raw, re.M):
                entry['note'] += '; Status: 5.0.0, the enhanced code is in Diagnostic-Code'
        mid, qid = original_ids(raw)
        if mid:
            entry['original_message_id'] = mid
            entry['original_queue_id'] = qid
        entries[f'generated/{mta}/{name}'] = entry
    merge_expected(f'generated/{mta}/', entries)
    return entries


def main():
    if os.geteuid() != 0:
        sys.exit('generate.py must run as root (MTAs, port 25 on 127.0.60.x)')
    wanted = sys.argv[1:] or list(RUNNERS)
    peers = Peers()
    peers.start()
    summary = {}
    try:
        for mta in wanted:
            module = __import__(RUNNERS[mta])
            work = tempfile.mkdtemp(prefix=f'bounce-corpus-{mta}-')
            os.chmod(work, 0o755)
            with peers.capture.lock:
                peers.capture.messages.clear()
            try:
                results = module.run(peers, work, log)
                version = module.version()
            except Exception:
                traceback.print_exc()
                results, version = {}, '?'
            if results:
                write(mta, version, results)
            summary[mta] = (version, sorted(results), sorted(set(CASES) - set(results)))
            shutil.rmtree(work, ignore_errors=True)
    finally:
        peers.stop()
    for mta, (version, done, missing) in summary.items():
        log(f'{mta} {version}: {len(done)} bounces; missing: {", ".join(missing) or "none"}')


if __name__ == '__main__':
    main()
