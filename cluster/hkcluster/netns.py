"""The network: one namespace per host, a veth from each into the bridge, addresses; links
cut and restored for fault tests; and taking it all down again. Everything through `ip`."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from .topology import BRIDGE, BRIDGE_ADDRESS, NETMASK, NETNS_PREFIX, PREFIX, Host


class NetworkError(Exception):
    pass


def ip(*args: str, check: bool = True, namespace: str | None = None) -> subprocess.CompletedProcess:
    argv = ["ip"] + (["-n", namespace] if namespace else []) + [str(a) for a in args]
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NetworkError(f"{' '.join(argv)}: {(result.stderr or result.stdout).strip()}")
    return result


def namespaces() -> list[str]:
    """Our namespaces that exist now (names starting with hk-)."""
    out = ip("netns", "list", check=False).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.startswith(NETNS_PREFIX))


def bridge_exists() -> bool:
    return ip("link", "show", BRIDGE, check=False).returncode == 0


def preflight():
    """Refuses to start over a half-built cluster or on a machine that cannot do it."""
    if os.geteuid() != 0:
        raise NetworkError("the cluster needs root (network namespaces, veth links, a bridge)")
    if namespaces() or bridge_exists():
        raise NetworkError(f"a cluster is already up (namespaces {', '.join(namespaces()) or '-'}, "
                           f"bridge {BRIDGE if bridge_exists() else '-'}); run `hikyaku-cluster down` first")
    routes = ip("route", "show", f"{PREFIX}.0/{NETMASK}", check=False).stdout.strip()
    if routes:
        raise NetworkError(f"{PREFIX}.0/{NETMASK} is already routed on this machine ({routes}); "
                           "the cluster needs that network for itself")


def create(hosts: list[Host]):
    """The bridge (with this machine's address on it), and per host: a namespace, a veth
    pair (bridge side `hkv-<name>`, host side `eth0`), its addresses, lo and eth0 up."""
    ip("link", "add", BRIDGE, "type", "bridge")
    # No STP and no forwarding delay: a port that comes back up forwards at once.
    ip("link", "set", BRIDGE, "type", "bridge", "stp_state", "0", "forward_delay", "0")
    ip("addr", "add", f"{BRIDGE_ADDRESS}/{NETMASK}", "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")
    for host in hosts:
        ip("netns", "add", host.name)
        ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.name)
        ip("link", "set", host.veth, "master", BRIDGE)
        ip("link", "set", host.veth, "up")
        for address in host.addresses:
            ip("addr", "add", f"{address}/{NETMASK}", "dev", "eth0", namespace=host.name)
        ip("link", "set", "lo", "up", namespace=host.name)
        ip("link", "set", "eth0", "up", namespace=host.name)


def set_link(host: Host, up: bool):
    """The host's cable: its bridge port up or down. Down, the host keeps its addresses and
    its processes keep running, but nothing it sends arrives anywhere (nor it anything)."""
    ip("link", "set", host.veth, "up" if up else "down")


def link_state(host: Host) -> str:
    out = ip("-brief", "link", "show", host.veth, check=False).stdout.split()
    return out[1] if len(out) > 1 else "absent"


def pids_in(namespace: str) -> list[int]:
    out = ip("netns", "pids", namespace, check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def destroy(grace_seconds: float = 5.0) -> list[str]:
    """Stops whatever still runs in our namespaces (SIGTERM, then SIGKILL), deletes the
    namespaces (their veths go with them) and the bridge. Returns what it did."""
    done = []
    spaces = namespaces()
    stragglers = {ns: pids_in(ns) for ns in spaces}
    for ns, pids in stragglers.items():
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
                done.append(f"SIGTERM to pid {pid} in {ns}")
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_seconds
    while any(pids_in(ns) for ns in spaces) and time.monotonic() < deadline:
        time.sleep(0.1)
    for ns in spaces:
        for pid in pids_in(ns):
            try:
                os.kill(pid, signal.SIGKILL)
                done.append(f"SIGKILL to pid {pid} in {ns}")
            except ProcessLookupError:
                pass
    for ns in spaces:
        for _ in range(50):
            if not pids_in(ns):
                break
            time.sleep(0.1)
        ip("netns", "del", ns, check=False)
        done.append(f"deleted namespace {ns}")
    if bridge_exists():
        ip("link", "del", BRIDGE, check=False)
        done.append(f"deleted bridge {BRIDGE}")
    # A veth whose namespace vanished takes its peer with it; any left over (an interrupted
    # `up`) is removed by name.
    for line in ip("-brief", "link", "show", check=False).stdout.splitlines():
        name = line.split()[0].split("@")[0] if line.split() else ""
        if name.startswith("hkv-"):
            ip("link", "del", name, check=False)
            done.append(f"deleted link {name}")
    return done


def exec_argv(namespace: str, argv: list) -> list[str]:
    """The command line that runs `argv` on a host (ip netns exec replaces itself with the
    program, so the pid we get is the program's)."""
    return ["ip", "netns", "exec", namespace] + [str(a) for a in argv]
