#!/usr/bin/env python3
"""Copy flufl.bounce's test messages (Apache-2.0) into Tests/bounce-corpus/flufl/
and write their expected recipients into expected.json.

Usage: import_flufl.py [path to flufl_bounce-X.tar.gz]
Without an argument it runs `pip download flufl.bounce --no-binary :all: --no-deps`.

The expected recipients come from flufl.bounce's own tests (tests/test_detectors.py,
the DETECTORS table and the test_scan_* functions); where flufl expects nothing,
OVERRIDES below says what the message really is (read by hand)."""

import ast
import email
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from expected_io import CORPUS, merge_expected  # noqa: E402

DEST = os.path.join(CORPUS, 'flufl')

# Formats by file-name prefix, for files without a message/delivery-status part.
PREFIX_FORMAT = {
    'aol': 'aol', 'bounce': 'text-other', 'caiwireless': 'caiwireless',
    'dumbass': 'interscan', 'exim': 'exim', 'groupwise': 'groupwise',
    'hotpop': 'text-other', 'llnl': 'sendmail-old', 'microsoft': 'exchange',
    'newmailru': 'text-other', 'postfix': 'postfix-old', 'qmail': 'qmail',
    'sendmail': 'sendmail-old', 'simple': 'text-other', 'sina': 'sina',
    'smtp32': 'smtp32', 'yahoo': 'yahoo', 'yale': 'yale',
}

# Files flufl's tests expect no address from (or do not mention), read by hand.
OVERRIDES = {
    'bounce_01.txt': dict(kind='dsn', recipients=[], format='jetmail',
                          note='JetMail "mail box space not enough"; names only the bare '
                               'local part "dylan" (no domain), so no address can be found; '
                               'not used by flufl\'s tests'),
    'dumbass_01.txt': dict(kind='dsn', recipients=[], format='interscan',
                           note='InterScan VirusWall NT "Exceeded Maximum Delivery Attempts"; '
                                'names no recipient (flufl test_scan_unrecognized)'),
    'groupwise_03.txt': dict(kind='unrecognized', recipients=[], format='none',
                             note='not a bounce: an Outlook reply with '
                                  'Disposition-Notification-To (flufl: "has confused groupwise")'),
    'qmail_08.txt': dict(kind='auto_reply', recipients=[], format='none',
                         note='"Auto reply" with Precedence: auto_reply, charset '
                              'ansi_x3.110-1983; flufl expects nothing'),
    'simple_42.txt': dict(kind='dsn', recipients=['david...@gmail.com'], format='rfc3464',
                          note='Exim DSN for a Gmail 550 5.7.1 spam block; the address was '
                               'obfuscated by the archive ("david...@gmail.com", not a valid '
                               'address); flufl\'s simplematch expects none, its DSN detector '
                               'returns it as written'),
    'simple_43.txt': dict(kind='dsn', recipients=[], format='text-other',
                          note='"Mail delivery failed" from a gateway that names no recipient '
                               '(only the enclosed message, addressed to the list)'),
}


def fetch_sdist():
    tmp = tempfile.mkdtemp(prefix='flufl-')
    subprocess.run([sys.executable, '-m', 'pip', 'download', 'flufl.bounce',
                    '--no-binary', ':all:', '--no-deps', '-d', tmp], check=True)
    return glob.glob(os.path.join(tmp, 'flufl_bounce-*.tar.gz'))[0]


def detectors_table(src):
    """The DETECTORS list and the scan tests of tests/test_detectors.py, by file."""
    tree = ast.parse(src)
    table = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'DETECTORS' for t in node.targets):
            for module, name, addrs, temporary in ast.literal_eval(node.value):
                row = table.setdefault(name, {'detectors': [], 'addrs': set(), 'temp': temporary})
                row['detectors'].append(module)
                row['addrs'] |= {a.decode() for a in addrs}
    return table


def main():
    sdist = sys.argv[1] if len(sys.argv) > 1 else fetch_sdist()
    work = tempfile.mkdtemp(prefix='flufl-x-')
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter='data')
    root = glob.glob(os.path.join(work, 'flufl_bounce-*'))[0]
    version = os.path.basename(root).split('-', 1)[1]
    with open(os.path.join(root, 'tests', 'test_detectors.py'), encoding='utf-8') as fp:
        table = detectors_table(fp.read())

    shutil.rmtree(DEST, ignore_errors=True)
    os.makedirs(DEST)
    shutil.copy(os.path.join(root, 'LICENSE'), os.path.join(DEST, 'LICENSE'))
    with open(os.path.join(DEST, 'NOTICE'), 'w', encoding='utf-8') as fp:
        fp.write(f'The *.txt files in this directory are the test data of flufl.bounce {version}\n'
                 '(https://gitlab.com/warsaw/flufl.bounce, tests/data/), Copyright 2004-2026\n'
                 'Barry Warsaw, licensed under the Apache License 2.0 (LICENSE). Unmodified.\n')

    entries = {}
    for path in sorted(glob.glob(os.path.join(root, 'tests', 'data', '*.txt'))):
        name = os.path.basename(path)
        shutil.copy(path, os.path.join(DEST, name))
        with open(path, 'rb') as fp:
            msg = email.message_from_binary_file(fp)
        has_dsn = any(p.get_content_type() == 'message/delivery-status' for p in msg.walk())
        prefix = name.split('_')[0]
        entry = {'kind': 'dsn', 'recipients': [], 'source': f'flufl.bounce {version}',
                 'format': 'rfc3464' if has_dsn else PREFIX_FORMAT[prefix]}
        row = table.get(name)
        if name in OVERRIDES:
            entry.update(OVERRIDES[name])
        elif row is None or not row['addrs']:
            sys.exit(f'{name}: no expected address in flufl tests and no override')
        else:
            entry['recipients'] = sorted(row['addrs'], key=str.lower)
            entry['note'] = 'flufl detector: ' + ', '.join(row['detectors'])
            if row['temp']:
                entry['action'] = 'delayed'
                if not has_dsn:
                    entry['format'] = 'text-warning'
        if name == 'simple_38.txt':
            entry['format'] = 'dovecot-mdn'
            entry['note'] += ('; Dovecot LDA rejection sent as multipart/report '
                              'disposition-notification with "Auto-Submitted: auto-replied '
                              '(rejected)": a failure, not an auto-reply')
        entries[f'flufl/{name}'] = entry
    merge_expected('flufl/', entries)
    print(f'{len(entries)} flufl.bounce files')


if __name__ == '__main__':
    main()
