"""Postfix: a private instance (own config_directory and queue_directory under a temporary
directory, `postfix -c DIR start`), SMTP on 127.0.60.3:25; the system's Postfix is not used."""

import os
import shutil
import re
import subprocess
import time

from cases import CASES
from peers import CAPTURE_IP, REMOTE_IP, SENDER_DOMAIN, submit

LISTEN = '127.0.60.3'


def _master_cf(path):
    out = []
    for line in open('/etc/postfix/master.cf'):
        fields = line.split()
        if line[:1] not in ('#', ' ', '\t', '\n') and len(fields) >= 8:
            if fields[0] == 'smtp' and fields[1] == 'inet':
                fields[0] = f'{LISTEN}:25'
            fields[4] = 'n'  # no chroot: the queue directory is not prepared for one
            line = ' '.join(fields[:8]) + (' ' + ' '.join(fields[8:]) if fields[8:] else '') + '\n'
        out.append(line)
    with open(path, 'w') as fp:
        fp.writelines(out)


def configure(work, phase):
    conf = os.path.join(work, 'etc')
    os.makedirs(conf, exist_ok=True)
    os.makedirs(os.path.join(work, 'queue'), exist_ok=True)
    os.makedirs(os.path.join(work, 'data'), exist_ok=True)
    shutil.chown(os.path.join(work, 'data'), 'postfix', 'postfix')
    lifetime = '0' if phase == 'fail' else '1d'
    main = f"""\
compatibility_level = 3.6
queue_directory = {work}/queue
data_directory = {work}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mta-postfix.test
mydomain = test
myorigin = $myhostname
inet_interfaces = all
inet_protocols = ipv4
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
transport_maps = texthash:{conf}/transport
maillog_file = {work}/maillog
maillog_file_prefixes = {work}
smtputf8_enable = no
smtp_tls_security_level = none
smtp_connect_timeout = 5s
maximal_queue_lifetime = {lifetime}
bounce_queue_lifetime = {lifetime}
delay_warning_time = 1s
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 3s
"""
    with open(os.path.join(conf, 'main.cf'), 'w') as fp:
        fp.write(main)
    with open(os.path.join(conf, 'transport'), 'w') as fp:
        fp.write(f'{SENDER_DOMAIN} smtp:[{CAPTURE_IP}]:25\nremote.test smtp:[{REMOTE_IP}]:25\n')
    _master_cf(os.path.join(conf, 'master.cf'))
    return conf


def version():
    out = subprocess.run(['postconf', '-d', 'mail_version'], capture_output=True, text=True).stdout
    return out.split('=')[1].strip()


def run(peers, work, log):
    """Yields (case, raw bounce) pairs."""
    results = {}
    fail_cases = [c for c in CASES if c != 'delay-warning']
    for phase, cases in (('fail', fail_cases), ('warn', ['delay-warning'])):
        conf = configure(work, phase)
        subprocess.run(['postfix', '-c', conf, 'check'], check=False)
        subprocess.run(['postfix', '-c', conf, 'start'], check=True)
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
                    log(f'postfix: no bounce for {case}')
        finally:
            subprocess.run(['postsuper', '-c', conf, '-d', 'ALL'], check=False,
                           capture_output=True)
            subprocess.run(['postfix', '-c', conf, 'stop'], check=False)
            time.sleep(1)
    return results
