"""Sendmail 8.17 from Debian's sendmail-bin/-cf, unpacked with dpkg -x (make-corpus.sh) because it
conflicts with the postfix package; a daemon on 127.0.60.5:25 with `-C` and a .cf built with m4
from sendmail-cf's macros. Its files live in a directory under /run, not /tmp: sendmail refuses
maps and queues whose path crosses a world-writable directory (/tmp, /var/tmp)."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from cases import CASES
from peers import CAPTURE_IP, REMOTE_IP, SENDER_DOMAIN, submit

LISTEN = '127.0.60.5'
PKGS = os.environ.get('BOUNCE_CORPUS_PKGS', '/var/tmp/hikyaku-bounce-corpus-pkgs')
ROOT = os.path.join(PKGS, 'root')
SENDMAIL = os.path.join(ROOT, 'usr/libexec/sendmail/sendmail')
MAKEMAP = os.path.join(ROOT, 'usr/libexec/sendmail/makemap')
CF_DIR = os.path.join(ROOT, 'usr/share/sendmail/cf')

# OSTYPE(linux), not Debian's OSTYPE(debian): that one points at /etc/mail and /var/lib/sendmail.
# Queue return / warning times are given per phase on the command line (-O).
MC = """\
divert(-1)
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mta-sendmail.test')dnl
define(`QUEUE_DIR', `{w}/queue')dnl
define(`STATUS_FILE', `{w}/sendmail.st')dnl
define(`confPID_FILE', `{w}/sendmail.pid')dnl
define(`ALIAS_FILE', `')dnl
define(`confHOSTS_FILE', `{w}/hosts')dnl
define(`confSERVICE_SWITCH_FILE', `{w}/service.switch')dnl
define(`confDEAD_LETTER_DROP', `{w}/dead.letter')dnl
define(`confEBINDIR', `{w}')dnl
define(`confDEF_USER_ID', `mail:mail')dnl
define(`confTO_CONNECT', `5s')dnl
define(`confMIN_QUEUE_AGE', `0')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
DAEMON_OPTIONS(`Port=25, Addr={listen}, Name=MTA')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`nocanonify')dnl
FEATURE(`promiscuous_relay')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`mailertable', `hash {w}/mailertable')dnl
MAILER(`smtp')dnl
"""

PHASES = (
    # Timeout.queuereturn=0: a message still queued after its first attempt is returned at once.
    ('fail', [c for c in CASES if c != 'delay-warning'],
     ['-O', 'Timeout.queuereturn=0s', '-O', 'Timeout.queuewarn=1h']),
    ('warn', ['delay-warning'],
     ['-O', 'Timeout.queuereturn=1d', '-O', 'Timeout.queuewarn=1s']),
)

_VERSION = '?'


def version():
    return _VERSION


def _env():
    env = dict(os.environ)
    env['LD_LIBRARY_PATH'] = os.path.join(ROOT, 'usr/lib/x86_64-linux-gnu')  # libwrap0
    return env


def configure(w):
    os.makedirs(os.path.join(w, 'queue'), mode=0o700)
    mc = os.path.join(w, 'sendmail.mc')
    with open(mc, 'w') as fp:
        fp.write(MC.format(w=w, listen=LISTEN))
    cf = os.path.join(w, 'sendmail.cf')
    with open(cf, 'w') as fp:
        subprocess.run([os.path.join(ROOT, 'usr/bin/m4'), f'-D_CF_DIR_={CF_DIR}/',
                        os.path.join(CF_DIR, 'm4/cf.m4'), mc], stdout=fp, check=True,
                       stderr=subprocess.DEVNULL)  # stderr: promiscuous_relay's open-relay warning
    # Private name service: its own name from a hosts file of ours, then DNS (for the
    # unknown-domain case); the test domains are routed by the mailertable, not resolved.
    # Sendmail qualifies the host name before it reads the .cf (through /etc/hosts and the
    # default switch) and sleeps 60 s when it finds no dotted name: /etc/hosts is replaced,
    # only in the daemon's mount namespace, by a copy naming the host mta-sendmail.test.
    me = f'127.0.0.1 mta-sendmail.test {os.uname().nodename}\n'
    with open(os.path.join(w, 'hosts'), 'w') as fp:
        fp.write('127.0.0.1 localhost\n' + me)
    with open('/etc/hosts') as src, open(os.path.join(w, 'etc-hosts'), 'w') as fp:
        fp.write(me + src.read())
    os.chmod(os.path.join(w, 'etc-hosts'), 0o644)
    with open(os.path.join(w, 'service.switch'), 'w') as fp:
        fp.write('hosts files dns\naliases files\n')
    table = f'{SENDER_DOMAIN} esmtp:[{CAPTURE_IP}]\nremote.test esmtp:[{REMOTE_IP}]\n'
    subprocess.run([MAKEMAP, '-C', cf, 'hash', os.path.join(w, 'mailertable')],
                   input=table, text=True, check=True, env=_env())
    # A copy without the setgid bit (mail): the loader ignores LD_LIBRARY_PATH for setgid programs.
    binary = os.path.join(w, 'sendmail')
    shutil.copy(SENDMAIL, binary)
    os.chmod(binary, 0o755)
    return binary, cf


def _version(binary, cf):
    out = subprocess.run([binary, '-C', cf, '-d0.1', '-bt'], input='', capture_output=True,
                         text=True, env=_env()).stdout
    m = re.search(r'^Version (\S+)', out, re.M)
    return m.group(1) if m else '?'


def run(peers, work, log):  # work (under /tmp) is unused: see the module docstring
    global _VERSION
    w = tempfile.mkdtemp(prefix='hikyaku-bounce-corpus-sendmail-', dir='/run')
    os.chmod(w, 0o755)
    results = {}
    try:
        binary, cf = configure(w)
        _VERSION = _version(binary, cf)
        for phase, cases, options in PHASES:
            # -bD: daemon in the foreground; -q1s: run the queue every second. Own session, so
            # the queue runners it forks are stopped with it.
            inner = f'mount --bind {w}/etc-hosts /etc/hosts && exec "$@"'
            daemon = subprocess.Popen(
                ['unshare', '-m', '--propagation', 'private', 'sh', '-c', inner, 'sh',
                 binary, '-C', cf, '-bD', '-q1s'] + options, env=_env(), start_new_session=True)
            try:
                for _ in range(50):
                    try:
                        for case in cases:
                            submit(LISTEN, 25, case, CASES[case]['send'])
                        break
                    except OSError:
                        time.sleep(0.2)
                got = peers.wait_for(cases, timeout=60)
                for case in cases:
                    if case in got:
                        results[case] = got[case][0]
                    else:
                        log(f'sendmail: no bounce for {case} ({phase})')
            finally:
                _stop(daemon, binary)
            shutil.rmtree(os.path.join(w, 'queue'))
            os.makedirs(os.path.join(w, 'queue'), mode=0o700)
    finally:
        shutil.rmtree(w, ignore_errors=True)
    return results


def _ours(binary):
    """Pids running our copy of the binary (its path is unique to this run)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            if os.readlink(f'/proc/{pid}/exe') == binary:
                pids.append(int(pid))
        except OSError:
            pass
    return pids


def _stop(daemon, binary):
    """SIGTERM the daemon's session, then SIGKILL any process of it, or any queue runner that
    left it, still running our binary; wait until they are gone."""
    try:
        os.killpg(daemon.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.time() + 10
    while time.time() < deadline:
        left = _ours(binary)
        if not left and daemon.poll() is not None:
            return
        for pid in left + ([daemon.pid] if daemon.poll() is None else []):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        daemon.poll()
        time.sleep(0.2)
    raise RuntimeError(f'sendmail processes still running: {_ours(binary)}')
