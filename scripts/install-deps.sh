#!/usr/bin/env bash
# Installs what building, running, testing and benchmarking Hikyaku needs on Debian 12
# (Postfix included: make bench compares with it, make test runs its smtp-source). As root it runs apt-get/pip itself; otherwise
# it prints the exact commands and fails.
#
# Each prerequisite is checked by what the build or the tests actually use (a Perl module
# swaks loads for -tls, a Python import, a Redis new enough for Functions), not only by a
# command being on PATH — `--no-install-recommends` leaves out what a plain install would
# bring. Everything present: it prints nothing and takes well under a second.
#
# To add one: a line `need apt|pip PACKAGE 'CHECK'` below; CHECK is bash, run quietly, and
# succeeds when the package is usable.
set -euo pipefail

# --bench is accepted for older Makefiles; everything is installed either way.
need_apt=()
need_pip=()
checks=()   # "PACKAGE<TAB>CHECK", verified again after installing

need() {
  local kind=$1 package=$2 check=$3
  checks+=("$package"$'\t'"$check")
  bash -c "$check" >/dev/null 2>&1 && return 0
  case $kind in
    apt) [[ " ${need_apt[*]} " == *" $package "* ]] || need_apt+=("$package") ;;
    pip) need_pip+=("$package") ;;
  esac
}

# Build: C libraries of Package.swift's system-library targets.
need apt pkg-config      'command -v pkg-config'
need apt libhiredis-dev  'pkg-config --exists hiredis'
need apt libssl-dev      'pkg-config --exists libcrypto'
need apt libcrypt-dev    'test -f /usr/include/crypt.h'
need apt libsqlite3-dev  'test -f /usr/include/sqlite3.h'
# Run and integration tests (Tests/integration, scripts/run-local.sh).
need apt redis-server    'redis-server --version | grep -Eq "v=([7-9]|[1-9][0-9])\."'   # Functions: Redis >= 7.0; also runs --sentinel
need apt redis-tools     'command -v redis-cli'
# test_redis_tls.py and cluster/ run Redis and redis-cli over TLS: both built with OpenSSL, as Debian's are.
need apt redis-server    'ldd "$(command -v redis-server)" | grep -q libssl'
need apt redis-tools     'redis-cli --tls --version'
need apt dnsmasq-base    'test -x /usr/sbin/dnsmasq || command -v dnsmasq'
need apt openssl         'command -v openssl'                                        # test certificates, s_client
need apt swaks           'command -v swaks'
need apt curl            'curl --version | grep -q "Protocols:.* https"'           # test_unsubscribe.py, test_campaigns.py (curl -X POST)
need apt libnet-ssleay-perl     'perl -MNet::SSLeay -e1'                             # swaks -tls
need apt libio-socket-ssl-perl  'perl -MIO::Socket::SSL -e1'                         # swaks -tls
# Outbound TLS (test_outbound_tls.py): workers verify certificates against the system CA
# bundle; DANE is tested against unbound validating a zone signed with ldns (ECDSA P-256)
# and served from its auth-zone (unbound >= 1.8).
need apt ca-certificates 'test -s /etc/ssl/certs/ca-certificates.crt'
need apt unbound         'unbound -V | grep -Eq "^Version 1\.([89]|[1-9][0-9])\."'
need apt ldnsutils       'ldns-keygen -a list 2>&1 | grep -qx ECDSAP256SHA256 && ldns-signzone -v'
need apt iproute2        'ip netns list'                                             # cluster/ (network namespaces)
need apt bsdutils        'command -v script'                                         # load-tests/ Postfix runner
need apt python3         'command -v python3'
need apt python3-pip     'python3 -m pip --version'
need pip aiosmtpd        'python3 -c "import aiosmtpd.smtp"'                         # smtp_receiver.py, run-local.sh
need pip pytest          'python3 -c "import pytest"'
need pip pytest-xdist     'python3 -c "import xdist.plugin"'                           # make test runs the integration tests on two workers
# dkimpy (+ PyNaCl for ed25519-sha256) verifies our DKIM signatures independently;
# dnspython: its DNS lookups and test_dkim.py's.
need pip dkimpy          'python3 -c "import dkim"'
need pip pynacl          'python3 -c "import nacl.signing"'
need pip dnspython       'python3 -c "import dns.resolver"'
need pip requests        'python3 -c "import requests"'                          # test_api.py (a second HTTP client beside curl and urllib)
need pip schemathesis    'python3 -c "import schemathesis; schemathesis.openapi.from_dict"'  # the API against its OpenAPI document
need pip flufl.bounce    'python3 -c "import flufl.bounce; flufl.bounce.scan_message"'   # test_bounce_corpus.py: an independent reader of the DSNs we compose
# The console's browser tests (test_console.py): Playwright driving Debian's chromium (never
# `playwright install`: nothing is downloaded at run time), and a Japanese font for the screenshots.
need apt chromium        'command -v chromium'
need apt fonts-ipafont-gothic 'fc-list :lang=ja | grep -q .'
need pip playwright      'python3 -c "import playwright.sync_api"'
# The PostgreSQL log store (test_logstore_pg.py): Debian's server, started by the tests with
# initdb/postgres from /usr/lib/postgresql/<version>/bin as the `postgres` user (it refuses root).
need apt postgresql      'for d in /usr/lib/postgresql/*/bin; do "$d/initdb" --version && "$d/postgres" --version && "$d/psql" --version && exit 0; done; exit 1'
need apt util-linux      'runuser --help'
# hikyaku_testsupport (the harness of Tests/integration, load-tests/ and cluster/), installed
# editable from this clone: it must import from here, not from another clone (run from /,
# where the current directory cannot stand in for the install).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
need pip "--editable=$repo" "cd / && python3 -c 'import hikyaku_testsupport as t, os, sys; sys.exit(os.path.dirname(os.path.realpath(t.__file__)) != sys.argv[1])' $(printf %q "$repo/hikyaku_testsupport")"
# `make bench` compares with Postfix and drives both relays with its smtp-source into its
# smtp-sink; make test runs those profiles at a tiny size (test_loadtest_smtp_source.py).
# Checked by their usage message (no arguments: usage, exit 1).
need apt postfix         'test -x /usr/sbin/postfix && command -v postconf && { /usr/sbin/smtp-source 2>&1 | grep -q "usage: .*smtp-source .*-m msgs"; } && { /usr/sbin/smtp-sink 2>&1 | grep -q "usage: .*smtp-sink .*backlog"; }'

if ! command -v swift >/dev/null; then
  echo "error: Swift 6 toolchain not found on PATH (install it from https://swift.org/install/linux/)" >&2
  exit 1
fi
# make fuzz / make test: libFuzzer ships with the Swift toolchain, not with Debian.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
if ! compgen -G "$toolchain/lib/swift/clang/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null \
   && ! compgen -G "$toolchain/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null; then
  echo "error: the Swift toolchain at $toolchain has no libFuzzer runtime (libclang_rt.fuzzer); install the swift.org toolchain" >&2
  exit 1
fi

if [ ${#need_apt[@]} -eq 0 ] && [ ${#need_pip[@]} -eq 0 ]; then
  exit 0
fi

pip_install() {
  python3 -m pip install --quiet "$@" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$@"
}

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing prerequisites. Run:" >&2
  [ ${#need_apt[@]} -gt 0 ] && echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need_apt[*]}" >&2
  [ ${#need_pip[@]} -gt 0 ] && echo "  python3 -m pip install ${need_pip[*]}" >&2
  exit 1
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Postfix only as a program the load tests start themselves, never as this machine's MTA.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "installing Python packages: ${need_pip[*]}"
  pip_install "${need_pip[@]}"
fi

# Every check again: an install that did not give what the tests use is an error here,
# not a puzzling test failure later.
failed=0
for entry in "${checks[@]}"; do
  package=${entry%%$'\t'*}
  check=${entry#*$'\t'}
  if ! bash -c "$check" >/dev/null 2>&1; then
    echo "error: $package is still not usable after installing (check: $check)" >&2
    failed=1
  fi
done
exit $failed
