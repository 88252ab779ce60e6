"""Shared helper: Tests/bounce-corpus/expected.json is one map keyed by path
relative to Tests/bounce-corpus; each generator owns one sub-directory and
replaces only the keys under it, so the parts can be regenerated separately."""

import json
import os

CORPUS = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..',
                                       'Tests', 'bounce-corpus'))
EXPECTED = os.path.join(CORPUS, 'expected.json')
KINDS = {'dsn', 'complaint', 'auto_reply', 'unrecognized'}


def merge_expected(prefix, entries):
    """Replace every key starting with `prefix` by `entries`."""
    current = {}
    if os.path.exists(EXPECTED):
        with open(EXPECTED, encoding='utf-8') as fp:
            current = json.load(fp)
    current = {k: v for k, v in current.items() if not k.startswith(prefix)}
    for key, entry in entries.items():
        assert key.startswith(prefix), key
        assert entry['kind'] in KINDS, (key, entry['kind'])
        assert isinstance(entry['recipients'], list), key
        assert os.path.exists(os.path.join(CORPUS, key)), key
        current[key] = entry
    with open(EXPECTED, 'w', encoding='utf-8') as fp:
        json.dump(dict(sorted(current.items())), fp, indent=2, ensure_ascii=False)
        fp.write('\n')
