"""Throwaway certificates made with openssl: EC P-256, valid 2 days."""

from __future__ import annotations

import subprocess
from pathlib import Path

EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    """Runs ``openssl ARGS``; an error names the subcommand and openssl's message."""
    result = subprocess.run(["openssl", *[str(a) for a in args]], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]}: {result.stderr.strip()}")


def self_signed(directory: Path, name: str, common_name: str, san: str) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``san`` (e.g. ``DNS:relay.test,IP:127.0.0.1``)."""
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    openssl("req", "-x509", *EC_KEY, "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={common_name}",
            "-addext", f"subjectAltName={san}")
    return cert, key


def make_ca(directory: Path, name: str, common_name: str | None = None) -> tuple[Path, Path]:
    """A throwaway CA: ``<name>-ca.pem`` and ``<name>-ca-key.pem``."""
    cert, key = directory / f"{name}-ca.pem", directory / f"{name}-ca-key.pem"
    openssl("req", "-x509", *EC_KEY, "-keyout", key, "-out", cert, "-days", "2",
            "-subj", f"/CN={common_name or f'{name} test CA'}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert, key


def issue_cert(directory: Path, name: str, ca: tuple[Path, Path], san: str, common_name: str | None = None,
               extensions: str = "") -> tuple[Path, Path]:
    """A leaf certificate and key (``<name>-cert.pem``, ``<name>-key.pem``) for ``san``
    (e.g. ``DNS:redis.test,IP:127.0.0.1``), signed by ``ca``; ``extensions``: more lines
    of the extension file (``extendedKeyUsage=serverAuth``)."""
    cert, key, csr = directory / f"{name}-cert.pem", directory / f"{name}-key.pem", directory / f"{name}.csr"
    extension_file = directory / f"{name}.ext"
    extension_file.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n{extensions}")
    openssl("req", "-new", *EC_KEY, "-keyout", key, "-out", csr, "-subj", f"/CN={common_name or name}")
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-out", cert,
            "-days", "2", "-extfile", extension_file)
    return cert, key
