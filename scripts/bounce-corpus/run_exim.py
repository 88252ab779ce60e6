"""Exim 4 from Debian's exim4-daemon-light, unpacked with dpkg -x (make-corpus.sh) because it
conflicts with the postfix package; run as a daemon on 127.0.60.4:25 with `-C` and a minimal
configuration of our own, spool and logs under a temporary directory."""

import glob
import os
import shutil
import subprocess
import time

from cases import CASES
from peers import CAPTURE_IP, REMOTE_IP, SENDER_DOMAIN, submit

LISTEN = '127.0.60.4'
PKGS = os.environ.get('BOUNCE_CORPUS_PKGS', '/var/tmp/hikyaku-bounce-corpus-pkgs')
ROOT = os.path.join(PKGS, 'root')
EXIM = os.path.join(ROOT, 'usr/sbin/exim4')

CONFIG = """\
exim_path = {exim}
keep_environment = LD_LIBRARY_PATH
primary_hostname = mta-exim.test
qualify_domain = mta-exim.test
spool_directory = {work}/spool
log_file_path = {work}/log/%slog
pid_file_path = {work}/exim.pid
local_interfaces = {listen}
daemon_smtp_ports = 25
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_check_rcpt
# Warn about messages still queued after 2 seconds (the delay-warning case).
delay_warning = 2s:1d
ignore_bounce_errors_after = 0s
timeout_frozen_after = 1m
smtp_accept_queue_per_connection = 0

begin acl
acl_check_rcpt:
  accept hosts = <; 127.0.0.0/8
  deny   message = relay not permitted

begin routers
capture:
  driver = manualroute
  domains = {sender_domain}
  route_list = * {capture_ip}
  transport = remote_smtp
remote:
  driver = manualroute
  domains = remote.test
  route_list = * {remote_ip}
  transport = remote_smtp
internet:
  driver = dnslookup
  transport = remote_smtp
  no_more

begin transports
remote_smtp:
  driver = smtp
  port = 25
  hosts_try_chunking =
  hosts_try_prdr =

begin retry
slow-user@remote.test  *  F,1d,2s
*                      *  F,3s,1s
"""


EXIM_UID = 64990  # the compiled-in exim user "Debian-exim", present only in a private mount namespace


def _ns_files(work):
    """passwd/group copies with Debian-exim added, bind-mounted over /etc in a private mount
    namespace (unshare -m) so the system's files are never changed."""
    for name, line in (('passwd', f'Debian-exim:x:{EXIM_UID}:{EXIM_UID}::/nonexistent:/usr/sbin/nologin\n'),
                       ('group', f'Debian-exim:x:{EXIM_UID}:\n')):
        with open(f'/etc/{name}') as src, open(os.path.join(work, name), 'w') as dst:
            dst.write(src.read() + line)
        os.chmod(os.path.join(work, name), 0o644)


def _cmd(work, args):
    inner = (f'mount --bind {work}/passwd /etc/passwd && mount --bind {work}/group /etc/group && '
             f'exec "$@"')
    return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', inner, 'sh', EXIM] + args


_VERSION = '?'


def version():
    return _VERSION


def _version(work):
    out = subprocess.run(_cmd(work, ['-bV', '-C', '/dev/null']), capture_output=True, text=True,
                         env=_env()).stdout
    for line in out.splitlines():
        if line.startswith('Exim version'):
            return line.split()[2]
    return '?'


def _env():
    env = dict(os.environ)
    env['LD_LIBRARY_PATH'] = os.path.join(ROOT, 'usr/lib/x86_64-linux-gnu')
    return env


def run(peers, work, log):
    conf = os.path.join(work, 'exim.conf')
    with open(conf, 'w') as fp:
        fp.write(CONFIG.format(exim=os.path.join(work, 'exim4'), work=work, listen=LISTEN, sender_domain=SENDER_DOMAIN,
                               capture_ip=CAPTURE_IP, remote_ip=REMOTE_IP))
    os.chmod(conf, 0o644)
    _ns_files(work)
    # Exim re-executes exim_path and purges the environment; this wrapper brings back the
    # library path of the unpacked packages (libidn12).
    # The packaged binary is setuid root: the loader ignores LD_LIBRARY_PATH when a delivery
    # process (Debian-exim) runs it, so a copy without the setuid bit is used.
    shutil.copy(EXIM, os.path.join(work, 'exim4.bin'))
    os.chmod(os.path.join(work, 'exim4.bin'), 0o755)
    with open(os.path.join(work, 'exim4'), 'w') as fp:
        fp.write(f'#!/bin/sh\nLD_LIBRARY_PATH={_env()["LD_LIBRARY_PATH"]} exec {work}/exim4.bin "$@"\n')
    os.chmod(os.path.join(work, 'exim4'), 0o755)
    for d in ('spool', 'log'):
        os.makedirs(os.path.join(work, d), exist_ok=True)
        os.chown(os.path.join(work, d), EXIM_UID, EXIM_UID)
    global _VERSION
    _VERSION = _version(work)
    daemon = subprocess.Popen(_cmd(work, ['-C', conf, '-bdf', '-q1s']), env=_env())
    results = {}
    try:
        for _ in range(50):
            try:
                for case in CASES:
                    submit(LISTEN, 25, case, CASES[case]['send'])
                break
            except OSError:
                time.sleep(0.2)
        got = peers.wait_for(list(CASES), timeout=90)
        for case in CASES:
            if case in got:
                results[case] = got[case][0]
            else:
                log(f'exim: no bounce for {case}')
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
        for path in glob.glob(os.path.join(work, 'log', '*')):
            log(f'--- {path}\n' + open(path, errors='replace').read()[-3000:]) if not results else None
    return results
