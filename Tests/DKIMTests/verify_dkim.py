#!/usr/bin/env python3
"""Verifies DKIM signatures with dkimpy, independently of Hikyaku's own signer.

Run by DKIMVerificationTests (Tests/DKIMTests):

    python3 verify_dkim.py MANIFEST.json

MANIFEST.json holds the DNS records to serve and the signed messages to verify:

    {"records": {"<selector>._domainkey.<domain>.": "v=DKIM1; k=rsa; p=..."},
     "messages": ["/tmp/.../message.eml", ...]}

Prints one JSON object: {"<path>": {"verified": true|false, "log": "<dkimpy's reasons>"}}.
Exit status 0 when it ran (whatever the verdicts), 2 when dkimpy or PyNaCl is missing.
"""
import io
import json
import logging
import sys

try:
    import dkim
    import nacl.signing  # noqa: F401 -- dkimpy verifies ed25519-sha256 (RFC 8463) with PyNaCl
except ImportError as error:
    print(f"missing Python module {error.name!r}: install with: python3 -m pip install dkimpy pynacl",
          file=sys.stderr)
    sys.exit(2)


def main():
    with open(sys.argv[1], encoding="utf-8") as manifest_file:
        manifest = json.load(manifest_file)
    records = {name.lower(): value.encode() for name, value in manifest["records"].items()}

    def dnsfunc(name, timeout=5):
        # dkimpy asks for b"<selector>._domainkey.<domain>."; an unknown name is NXDOMAIN.
        return records.get(name.decode().lower())

    results = {}
    for path in manifest["messages"]:
        with open(path, "rb") as message_file:
            message = message_file.read()
        log = io.StringIO()
        logger = logging.getLogger(f"verify_dkim.{len(results)}")
        logger.addHandler(logging.StreamHandler(log))
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        verified = dkim.verify(message, logger=logger, dnsfunc=dnsfunc)
        results[path] = {"verified": bool(verified), "log": log.getvalue()}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
