#!/bin/sh
# Regenerate Tests/bounce-corpus/generated/ (make bounce-corpus). Root on Debian 12.
# Postfix is installed from Debian if missing; Exim and Sendmail conflict with it, so their
# packages are only downloaded (apt-get download) and unpacked into a private directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "make bounce-corpus must run as root" >&2; exit 1; }

missing=""
[ -x /usr/sbin/postfix ] || missing="$missing postfix"
python3 -c 'import aiosmtpd' 2>/dev/null || missing="$missing python3-aiosmtpd"
if [ -n "$missing" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

# Unpacked Exim/Sendmail (m4 for sendmail-cf, libidn12 for Exim, libwrap0 for Sendmail) live here
# between runs.
export BOUNCE_CORPUS_PKGS="${BOUNCE_CORPUS_PKGS:-/var/tmp/hikyaku-bounce-corpus-pkgs}"
mkdir -p "$BOUNCE_CORPUS_PKGS/debs" "$BOUNCE_CORPUS_PKGS/root"
chmod 755 "$BOUNCE_CORPUS_PKGS" "$BOUNCE_CORPUS_PKGS/root"
(
    cd "$BOUNCE_CORPUS_PKGS/debs"
    for p in exim4-daemon-light exim4-base exim4-config libidn12 sendmail-bin sendmail-base sendmail-cf m4 libwrap0; do
        ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
    done
    for d in *.deb; do dpkg -x "$d" "$BOUNCE_CORPUS_PKGS/root"; done
)

python3 "$here/generate.py" "$@"
