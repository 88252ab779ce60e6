#!/usr/bin/env bash
# Installs what building, running and testing Hikyaku needs on Debian 12.
# As root it runs apt-get/pip itself; otherwise it prints the exact commands and fails.
set -euo pipefail

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
# Tests/integration/test_redis_tls.py and the cluster run Redis and redis-cli over TLS
# (--tls-port, --tls): both must be built with OpenSSL, as Debian's are.
if command -v redis-server >/dev/null && ! ldd "$(command -v redis-server)" 2>/dev/null | grep -q libssl; then
  echo "error: $(command -v redis-server) is built without TLS (the tests use --tls-port); install Debian's redis-server" >&2
  exit 1
fi
if command -v redis-cli >/dev/null && ! redis-cli --tls --version >/dev/null 2>&1; then
  echo "error: $(command -v redis-cli) is built without TLS (the tests use --tls); install Debian's redis-tools" >&2
  exit 1
fi
[ -x /usr/sbin/dnsmasq ] || command -v dnsmasq >/dev/null || need_apt+=(dnsmasq-base)
command -v swaks >/dev/null || need_apt+=(swaks)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
[ -f /usr/include/hiredis/hiredis.h ] || need_apt+=(libhiredis-dev)
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
[ -f /usr/include/crypt.h ] || need_apt+=(libcrypt-dev)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
# Outbound TLS (test_outbound_tls.py): workers verify certificates against the system CA
# bundle; DANE is tested against unbound validating a zone signed with ldns (ECDSA P-256)
# and served from its auth-zone (unbound ≥ 1.8).
[ -s /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)
unbound -V 2>/dev/null | grep -Eq '^Version 1\.([89]|[1-9][0-9])\.' || need_apt+=(unbound)
{ ldns-keygen -a list 2>&1 | grep -qx ECDSAP256SHA256 && ldns-signzone -v >/dev/null 2>&1; } || need_apt+=(ldnsutils)

need_pip=()
python3 -c 'import aiosmtpd' 2>/dev/null || need_pip+=(aiosmtpd)
python3 -c 'import pytest' 2>/dev/null || need_pip+=(pytest)
# dkimpy (+ PyNaCl for ed25519-sha256) verifies our DKIM signatures independently (Tests/DKIMTests).
python3 -c 'import dkim' 2>/dev/null || need_pip+=(dkimpy)
python3 -c 'import nacl.signing' 2>/dev/null || need_pip+=(pynacl)

if ! command -v swift >/dev/null; then
  echo "error: Swift 6 toolchain not found on PATH (install it from https://swift.org/install/linux/)" >&2
  exit 1
fi

if [ ${#need_apt[@]} -eq 0 ] && [ ${#need_pip[@]} -eq 0 ]; then
  exit 0
fi

pip_install() {
  python3 -m pip install --quiet "$@" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$@"
}

if [ "$(id -u)" -eq 0 ]; then
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_pip[@]} -gt 0 ]; then
    echo "installing Python packages: ${need_pip[*]}"
    pip_install "${need_pip[@]}"
  fi
else
  echo "Missing prerequisites. Run:" >&2
  [ ${#need_apt[@]} -gt 0 ] && echo "  sudo apt-get update && sudo apt-get install -y ${need_apt[*]}" >&2
  [ ${#need_pip[@]} -gt 0 ] && echo "  python3 -m pip install ${need_pip[*]}" >&2
  exit 1
fi
