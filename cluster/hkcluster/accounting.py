"""Loss accounting and limit checks for a cluster run, from the simulator's records (read with
hikyaku_testsupport.records.SimRecords) and the generator's, with the load-test runner's
analysis (hikyaku_testsupport/analysis.py) plus what a cluster adds: which worker host
delivered what, messages delivered although their client never saw a 250, and the site-wide
limit counted over every egress IP of every host."""

from __future__ import annotations

from hikyaku_testsupport.analysis import analyze, max_in_window

from . import topology
from .topology import LIMIT_WINDOW_SECONDS, PER_IP_BOUND, SITE_BOUND, SITE_RATE_PER_SECOND, Topology


class _ScenarioView:
    """What analysis.analyze needs of a scenario."""

    def __init__(self, messages: int):
        self.load = {"messages": messages}

    @staticmethod
    def sim_rate_limits() -> dict:
        limits = {}
        for site in topology.sites():
            rule = site.get("behaviours", {}).get("per_ip_rate")
            if rule:
                limits[site["name"]] = {"count": rule["count"], "period_seconds": rule["period_seconds"]}
        return limits


def host_of_ip(workers: int) -> dict[str, str]:
    return {address: host.name for host in Topology(workers=workers).by_role("worker") for address in host.addresses}


def account(raw: dict, messages: int, workers: int) -> dict:
    """analysis.analyze, then the cluster's own figures and checks."""
    result = analyze(raw, _ScenarioView(messages))
    records = raw["generator"]["records"]
    code_of = {r["seq"]: r.get("code") for r in records}
    codes: dict[str, int] = {}
    for r in records:
        codes[str(r.get("code"))] = codes.get(str(r.get("code")), 0) + 1
    arrivals = raw["sim"]["arrivals"]
    delivered_without_250: dict[str, int] = {}
    for seq, *_ in arrivals:
        if seq is not None and seq in code_of and code_of[seq] != 250:
            key = str(code_of[seq])
            delivered_without_250[key] = delivered_without_250.get(key, 0) + 1
    never_submitted = sum(1 for seq, *_ in arrivals if seq is not None and seq not in code_of)

    hosts = host_of_ip(workers)
    by_host: dict[str, int] = {}
    by_host_site: dict[str, dict[str, int]] = {}
    for _seq, _t, site, ip, _rcpt in arrivals:
        host = hosts.get(ip, ip)
        by_host[host] = by_host.get(host, 0) + 1
        by_host_site.setdefault(host, {})[site] = by_host_site.setdefault(host, {}).get(site, 0) + 1

    limits = site_limits(arrivals)
    times_by_site: dict[str, list[int]] = {}
    for _seq, t, site, _ip, _rcpt in arrivals:
        times_by_site.setdefault(site, []).append(t)
    site_rates = {site: round((len(ts) - 1) / ((max(ts) - min(ts)) / 1e6), 1) if len(ts) > 1 and max(ts) > min(ts)
                  else None for site, ts in sorted(times_by_site.items())}
    result["cluster"] = {
        "submission_codes": dict(sorted(codes.items())),
        "delivered_without_250": delivered_without_250,
        "delivered_without_250_total": sum(delivered_without_250.values()),
        "arrivals_not_submitted": never_submitted,
        "probe_arrivals": len(raw["sim"].get("probe_arrivals", [])),
        "arrivals_by_worker_host": dict(sorted(by_host.items())),
        "arrivals_by_worker_host_and_site": {k: dict(sorted(v.items())) for k, v in sorted(by_host_site.items())},
        "limits": limits,
        "site_rates": site_rates,
        "site_rates_definition": "per site: (arrivals - 1) / (last arrival - first arrival)",
    }
    return result


def site_limits(arrivals: list) -> dict:
    """The two limited sites as the simulator saw them: the most arrivals in any 10 s
    window (all IPs together for "limited", per IP for "perip") against what the relay's
    GCRA lets through in a window (count + burst - 1), and the mean rate while the site had
    a backlog. Arrival times lag claim times by a variable delivery time, so up to one
    second's worth of the rate is allowed above the bound before it counts as exceeded."""
    window = LIMIT_WINDOW_SECONDS * 1_000_000
    limited = sorted(t for _seq, t, site, _ip, _r in arrivals if site == "limited")
    by_ip: dict[str, list[int]] = {}
    for _seq, t, site, ip, _r in arrivals:
        if site == "perip":
            by_ip.setdefault(ip, []).append(t)
    worst_ip, worst = None, 0
    for ip, times in by_ip.items():
        n = max_in_window(times, window)
        if n > worst:
            worst_ip, worst = ip, n
    site_max = max_in_window(limited, window) if limited else 0
    mean = None
    if len(limited) > 1:
        mean = round((len(limited) - 1) / ((limited[-1] - limited[0]) / 1e6), 2)
    return {
        "limited": {"rule": f"{topology.SITE_RATE} for the whole site", "arrivals": len(limited),
                    "max_in_any_10s": site_max, "bound_per_10s": SITE_BOUND,
                    "allowed_at_arrival": SITE_BOUND + SITE_RATE_PER_SECOND,
                    "mean_rate_per_second": mean, "ok": site_max <= SITE_BOUND + SITE_RATE_PER_SECOND},
        "perip": {"rule": f"{topology.PER_IP_RATE} per egress IP", "arrivals": sum(len(v) for v in by_ip.values()),
                  "egress_ips": len(by_ip), "max_in_any_10s_from_one_ip": worst, "ip": worst_ip,
                  "bound_per_10s": PER_IP_BOUND, "allowed_at_arrival": PER_IP_BOUND + topology.PER_IP_RATE_PER_SECOND,
                  "ok": worst <= PER_IP_BOUND + topology.PER_IP_RATE_PER_SECOND},
    }


def standard_checks(result: dict) -> list[dict]:
    loss, cluster, sim = result["loss"], result["cluster"], result["simulator"]
    limits = cluster["limits"]
    return [
        {"check": "every message that got 250 reached the simulator (missing == 0)", "ok": loss["missing"] == 0,
         "detail": f"accepted {loss['accepted']}, delivered {loss['delivered_once'] + loss['duplicates']}, "
                   f"bounced {loss['bounced']}, missing {loss['missing']}"},
        {"check": "no limit violation refused by the simulator (per-IP rate)", "ok": sim["limit_violations"] == 0,
         "detail": f"{sim['limit_violations']} refusals for rate_limit/blocked"},
        {"check": "site-wide limit held across hosts (limited.sim)", "ok": limits["limited"]["ok"],
         "detail": f"max {limits['limited']['max_in_any_10s']} in any 10 s (GCRA bound {SITE_BOUND}), "
                   f"mean {limits['limited']['mean_rate_per_second']}/s"},
        {"check": "per-IP limit held (perip.sim)", "ok": limits["perip"]["ok"],
         "detail": f"max {limits['perip']['max_in_any_10s_from_one_ip']} from one IP in any 10 s "
                   f"(GCRA bound {PER_IP_BOUND}), {limits['perip']['egress_ips']} IPs"},
    ]


def summary_lines(result: dict) -> list[str]:
    loss, cluster, t = result["loss"], result["cluster"], result["throughput"]
    limits = cluster["limits"]
    lines = [
        f"  submitted {sum(cluster['submission_codes'].values())}: replies {cluster['submission_codes']} "
        f"(0 = connection lost before the reply)",
        f"  accepted {loss['accepted']}: delivered once {loss['delivered_once']}, duplicates {loss['duplicates']} "
        f"({loss['duplicate_copies']} extra copies), bounced {loss['bounced']}, MISSING {loss['missing']}",
        f"  delivered although the client saw no 250: {cluster['delivered_without_250_total']} "
        f"{cluster['delivered_without_250'] or ''}; probe messages cut off in DATA that arrived: "
        f"{cluster['probe_arrivals']}",
        f"  throughput: {t['accepted_per_second']}/s accepted, {t['delivered_per_second']}/s delivered end to end; "
        f"latency p50 {result['latency_ms'].get('p50')} ms, p99 {result['latency_ms'].get('p99')} ms",
        f"  by worker host: {cluster['arrivals_by_worker_host']}",
        f"  limited.sim (site {limits['limited']['rule']}): max {limits['limited']['max_in_any_10s']} in any 10 s "
        f"(bound {limits['limited']['bound_per_10s']}), mean {limits['limited']['mean_rate_per_second']}/s; "
        f"perip.sim ({limits['perip']['rule']}): max {limits['perip']['max_in_any_10s_from_one_ip']} from one IP "
        f"(bound {limits['perip']['bound_per_10s']}), simulator refusals {result['simulator']['limit_violations']}",
    ]
    return lines
