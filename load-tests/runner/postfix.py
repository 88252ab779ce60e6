"""The peer: Debian's Postfix, run from a temporary `-c` configuration directory as a
relay to the same simulator, on the same machine.

Postfix's cleanup daemon fsyncs the queue file before smtpd answers `250`, which is the
same durability as Redis with `appendfsync always`. Every destination is routed by
`transport_maps` to its simulated site (`smtp:[address]:port`, no DNS), `relayhost`
points at the first site, and bounces to the load generator's sender are discarded.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hikyaku_testsupport.ports import free_port, port_accepts
from hikyaku_testsupport.waiting import WaitTimeout, wait_for

from .proctree import ProcessTree

POSTFIX = "/usr/sbin/postfix"
LOG_LINE = re.compile(r"postfix/[\w/-]+\[\d+\]: ([0-9A-Za-z]+): to=<[^>]*>.*? status=(\w+)")

# The services of Debian's master.cf that a relay needs, all with chroot = n.
MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def available() -> str | None:
    """None when Postfix can be used, else what is missing."""
    if not os.access(POSTFIX, os.X_OK) or not shutil.which("postconf"):
        return "Postfix is not installed (apt-get install postfix)"
    if os.geteuid() != 0:
        return "running Postfix from a private configuration directory needs root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "the postfix user does not exist (install the Debian postfix package)"
    if not shutil.which("script"):
        return "`script` (util-linux) is missing"
    return None


def postfix_version() -> str:
    out = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True)
    return out.stdout.strip()


class PostfixSystem:
    name = "postfix"
    label = "Postfix"

    def __init__(self, scenario, out: Path, sim_port: int, main_cf_overrides: dict | None = None):
        self.scenario = scenario
        self.out = out
        self.sim_port = sim_port
        self.overrides = main_cf_overrides or {}
        self.children = []
        self.tree: ProcessTree | None = None
        self.master_pid: int | None = None
        self.log_offset = 0
        self.log_partial = b""
        self.status_counts: dict[str, int] = {}
        self.tmp: Path | None = None
        self.settings: dict = {}
        self.port = None

    def _run_postfix(self, action: str) -> str:
        """`postfix -c DIR action` under `script -qc`, so its errors (written to the
        terminal) are captured; they are appended to postfix.log."""
        command = f"{POSTFIX} -c {self.conf} {action}"
        result = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True,
                                timeout=120)
        text = (result.stdout + result.stderr).replace("\r", "")
        with open(self.out / "postfix.log", "a") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} {command} (exit {result.returncode})\n{text}")
        if result.returncode != 0:
            raise RuntimeError(f"`{command}` failed (exit {result.returncode}): {text.strip()[-2000:]}")
        return text

    def start(self) -> tuple[str, int]:
        self.out.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="hikyaku-postfix-"))
        os.chmod(self.tmp, 0o755)
        self.conf, self.queue, self.data = self.tmp / "conf", self.tmp / "queue", self.tmp / "data"
        for d in (self.conf, self.queue, self.data):
            d.mkdir()
        owner = pwd.getpwnam("postfix")
        os.chown(self.data, owner.pw_uid, owner.pw_gid)
        self.maillog = self.data / "maillog"
        self.port = free_port()

        domain_addresses = self.scenario.domain_addresses()
        first = self.scenario.simulator["sites"][0]["addresses"][0]
        transport = [f"{domain} smtp:[{addresses[0]}]:{self.sim_port}" for domain, addresses in domain_addresses.items()]
        transport += ["hikyaku-load.test discard:", "postfix-peer.loadtest discard:", "loadtest discard:"]
        (self.conf / "transport").write_text("\n".join(transport) + "\n")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "command_directory": "/usr/sbin",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "postfix-peer.loadtest",
            "mydomain": "loadtest",
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "relayhost": f"[{first}]:{self.sim_port}",
            "transport_maps": f"texthash:{self.conf / 'transport'}",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": f"/var, /dev/stdout, {self.tmp}",
            "smtputf8_enable": "no",
            "biff": "no",
            "message_size_limit": "52428800",
        }
        settings.update({k: str(v) for k, v in self.overrides.items()})
        self.settings = settings
        (self.conf / "main.cf").write_text(
            "# Written by the Hikyaku load-test runner: Postfix as a relay to the simulator.\n"
            + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        (self.conf / "master.cf").write_text(
            "# Written by the Hikyaku load-test runner (chroot = n everywhere).\n"
            f"127.0.0.1:{self.port} inet n - n - - smtpd\n" + MASTER_SERVICES)
        for name in ("main.cf", "master.cf", "transport"):
            shutil.copy(self.conf / name, self.out / name)

        self._run_postfix("check")
        self._run_postfix("start")
        pid_file = self.queue / "pid" / "master.pid"
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=20, interval=0.1, what="Postfix master.pid")
        self.master_pid = int(pid_file.read_text().strip())
        self.tree = ProcessTree(self.master_pid)
        wait_for(lambda: port_accepts(self.port), timeout=30, interval=0.1, what="Postfix's smtpd listener")
        return ("127.0.0.1", self.port)

    def fault_targets(self) -> dict:
        return {}

    def essential_alive(self) -> str | None:
        if self.master_pid and not Path(f"/proc/{self.master_pid}").exists():
            return "postfix master"
        return None

    def sample(self):
        if self.tree:
            self.tree.sample()

    def pending(self) -> int | None:
        """Messages in Postfix's queues (files under incoming, active, deferred, hold, maildrop)."""
        if self.tmp is None:
            return None
        count = 0
        for name in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _root, _dirs, files in os.walk(self.queue / name):
                count += len(files)
        return count

    def poll_finals(self) -> list[tuple[str, str]]:
        finals = []
        if self.tmp is None:
            return finals
        try:
            with open(self.maillog, "rb") as f:
                f.seek(self.log_offset)
                data = f.read()
        except OSError:
            return finals
        self.log_offset += len(data)
        data = self.log_partial + data
        lines = data.split(b"\n")
        self.log_partial = lines.pop()
        for raw in lines:
            match = LOG_LINE.search(raw.decode("utf-8", "replace"))
            if not match:
                continue
            queue_id, status = match.groups()
            self.status_counts[status] = self.status_counts.get(status, 0) + 1
            if status in ("bounced", "expired", "deferred"):
                finals.append((queue_id, status))
        return finals

    def stop_relay(self):
        if self.master_pid is None:
            return
        self.sample()
        try:
            self._run_postfix("stop")
        except Exception as error:  # noqa: BLE001
            with open(self.out / "postfix.log", "a") as log:
                log.write(f"stop failed: {error}\n")
        try:
            wait_for(lambda: not Path(f"/proc/{self.master_pid}").exists(), timeout=30, interval=0.1, what="Postfix to stop")
        except WaitTimeout:
            subprocess.run([POSTFIX, "-c", str(self.conf), "abort"], capture_output=True)

    def stop_rest(self):
        if self.tmp is None:
            return
        self.poll_finals()
        try:
            shutil.copy(self.maillog, self.out / "maillog")
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def usage(self) -> dict:
        return {"postfix (master and children)": self.tree.usage() if self.tree else {}}

    def describe(self) -> dict:
        return {
            "durability": "Postfix: cleanup fsyncs the queue file before smtpd answers 250",
            "version": postfix_version(),
            "smtpd_port": self.port,
            "main_cf": self.settings,
            "files": [str(self.out / n) for n in ("main.cf", "master.cf", "transport", "maillog")],
        }

    def extra(self) -> dict:
        return {"maillog_status": dict(sorted(self.status_counts.items()))}
