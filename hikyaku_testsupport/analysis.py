"""From raw records to figures: throughput over time, latency percentiles, loss
accounting, limit violations, CPU and memory.

Latency is enqueue-to-delivery: the simulator's arrival time `t` (when it wrote its `250`)
minus the generator's `accepted_us` (when it read the relay's `250`), matched by the
`X-Loadtest-Seq` header (`seq`). Percentiles are exact: the nearest-rank value over the
sorted list of every delivered message's latency (no histogram, no sampling).
"""

from __future__ import annotations

import math

LATENCY_METHOD = ("exact: nearest-rank percentiles over the sorted list of every delivered message's latency "
                  "(first arrival at the simulator minus the generator's 250 time)")
FINAL_FAILURE_KINDS = ("bounced", "expired", "suppressed", "purged")


def percentile(sorted_values: list, fraction: float):
    """Nearest rank: the smallest value with at least `fraction` of all values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(values_ms: list[float]) -> dict:
    values = sorted(values_ms)
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "min": round(values[0], 1),
        "p50": round(percentile(values, 0.50), 1),
        "p90": round(percentile(values, 0.90), 1),
        "p99": round(percentile(values, 0.99), 1),
        "max": round(values[-1], 1),
        "mean": round(sum(values) / len(values), 1),
    }


def per_second(times_us: list[int], t0_us: int, seconds: int) -> list[int]:
    buckets = [0] * max(seconds, 1)
    for t in times_us:
        index = int((t - t0_us) // 1_000_000)
        if 0 <= index < len(buckets):
            buckets[index] += 1
        elif index >= len(buckets):
            buckets[-1] += 1
    return buckets


def max_in_window(times_us: list[int], window_us: int) -> int:
    """The most events in any half-open window of `window_us` (two pointers)."""
    times = sorted(times_us)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window_us:
            start += 1
        best = max(best, end - start + 1)
    return best


def analyze(raw: dict, scenario) -> dict:
    records = raw["generator"]["records"]
    accepted = [r for r in records if r.get("code") == 250]
    refused_at_submission: dict[str, int] = {}
    for r in records:
        if r.get("code") != 250:
            # An item a batch request refused on its own has its API error code.
            reason = str(r.get("error") or r.get("code"))
            refused_at_submission[reason] = refused_at_submission.get(reason, 0) + 1
    summary = raw["generator"].get("summary") or {}

    arrivals = raw["sim"]["arrivals"]
    by_seq: dict[int, list[int]] = {}
    unexpected = 0
    accepted_seqs = {r["seq"] for r in accepted}
    for seq, t, _site, _ip, _rcpt in arrivals:
        if seq is None or seq not in accepted_seqs:
            unexpected += 1
            continue
        by_seq.setdefault(seq, []).append(t)

    finals = raw.get("finals", {})
    deferred = raw.get("deferred", set())
    delivered_once = duplicated = duplicate_copies = 0
    failed: dict[str, int] = {}
    missing: list[int] = []
    delivered_and_failed = 0
    latencies_ms: list[float] = []
    first_arrivals: list[int] = []
    for r in accepted:
        times = by_seq.get(r["seq"])
        final = finals.get(r.get("queue_id"))
        if times:
            if len(times) == 1:
                delivered_once += 1
            else:
                duplicated += 1
                duplicate_copies += len(times) - 1
            if final in FINAL_FAILURE_KINDS:
                delivered_and_failed += 1
            first = min(times)
            first_arrivals.append(first)
            latencies_ms.append((first - r["accepted_us"]) / 1000.0)
        elif final in FINAL_FAILURE_KINDS:
            failed[final] = failed.get(final, 0) + 1
        else:
            missing.append(r["seq"])
    missing_set = set(missing)
    still_deferred = sum(1 for r in accepted if r["seq"] in missing_set and r.get("queue_id") in deferred)
    bounced = sum(failed.values())
    loss = {
        "accepted": len(accepted),
        "delivered_once": delivered_once,
        "duplicates": duplicated,
        "duplicate_copies": duplicate_copies,
        "bounced": bounced,
        "final_failures_by_kind": failed,
        "missing": len(missing),
        "missing_of_which_deferred_at_end": still_deferred,
        "missing_seqs_sample": sorted(missing)[:50],
        "accounted": delivered_once + duplicated + bounced,
        "all_accounted": not missing,
        "unexpected_arrivals": unexpected,
        "delivered_and_also_bounced": delivered_and_failed,
    }

    # Throughput, overall and per second from the first submission.
    submitted = [r["submitted_us"] for r in records if r.get("submitted_us")]
    t0 = min(submitted) if submitted else int((raw["generator"].get("started_wall") or 0) * 1e6)
    accepted_times = [r["accepted_us"] for r in accepted]
    last_accept = max(accepted_times) if accepted_times else t0
    last_arrival = max(first_arrivals) if first_arrivals else t0
    seconds = int(math.ceil((max(last_accept, last_arrival) - t0) / 1e6)) if accepted else 0
    accepted_series = per_second(accepted_times, t0, seconds)
    delivered_series = per_second(first_arrivals, t0, seconds)
    submit_seconds = (last_accept - t0) / 1e6
    end_to_end_seconds = (last_arrival - t0) / 1e6
    throughput = {
        "accepted_per_second": round(len(accepted) / submit_seconds, 1) if submit_seconds > 0 else None,
        "delivered_per_second": round(len(first_arrivals) / end_to_end_seconds, 1) if end_to_end_seconds > 0 else None,
        "delivered": len(first_arrivals),
        "submit_seconds": round(submit_seconds, 3),
        "end_to_end_seconds": round(end_to_end_seconds, 3),
        "peak_accepted_per_second": max(accepted_series, default=0),
        "peak_delivered_per_second": max(delivered_series, default=0),
        "definition": ("accepted/s = accepted messages / (last 250 to the generator - first submission); "
                       "delivered/s (end to end) = messages delivered / (last first-arrival at the simulator "
                       "- first submission); peaks are the busiest whole second"),
    }

    # What the simulator saw.
    refusals = raw["sim"]["refusals"]
    refused_by_reason: dict[str, int] = {}
    refused_by_site: dict[str, dict[str, int]] = {}
    violations_by_ip: dict[str, int] = {}
    for record in refusals:
        reason = record.get("reason", "?")
        refused_by_reason[reason] = refused_by_reason.get(reason, 0) + 1
        site = refused_by_site.setdefault(record.get("site", "?"), {})
        site[reason] = site.get(reason, 0) + 1
        if reason in ("rate_limit", "blocked"):
            key = f"{record.get('site')} {record.get('ip')}"
            violations_by_ip[key] = violations_by_ip.get(key, 0) + 1
    arrivals_by_site: dict[str, int] = {}
    times_by_site_ip: dict[tuple[str, str], list[int]] = {}
    for _seq, t, site, ip, _rcpt in arrivals:
        arrivals_by_site[site] = arrivals_by_site.get(site, 0) + 1
        times_by_site_ip.setdefault((site, ip), []).append(t)
    rate_check = {}
    for site, rule in scenario.sim_rate_limits().items():
        window = int(rule["period_seconds"] * 1_000_000)
        worst, worst_ip = 0, None
        for (s, ip), times in times_by_site_ip.items():
            if s == site:
                n = max_in_window(times, window)
                if n > worst:
                    worst, worst_ip = n, ip
        rate_check[site] = {"limit_per_ip": f"{rule['count']}/{rule['period_seconds']:g}s",
                            "most_arrivals_from_one_ip_in_any_window": worst, "ip": worst_ip,
                            "egress_ips_seen": sum(1 for (s, _ip) in times_by_site_ip if s == site)}
    limit_violations = sum(refused_by_reason.get(r, 0) for r in ("rate_limit", "blocked"))
    simulator = {
        "arrivals": len(arrivals),
        "arrivals_by_site": dict(sorted(arrivals_by_site.items())),
        "refused_recipients": len(refusals),
        "refused_by_reason": dict(sorted(refused_by_reason.items())),
        "refused_by_site": {k: dict(sorted(v.items())) for k, v in sorted(refused_by_site.items())},
        "limit_violations": limit_violations,
        "limit_violations_by_site_ip": dict(sorted(violations_by_ip.items(), key=lambda kv: -kv[1])[:30]),
        "per_ip_rate_check": rate_check,
        "unparsable_lines": raw["sim"].get("bad_lines", 0),
    }

    processes = raw.get("processes", {})
    sut_cpu = sum(p.get("cpu_seconds", 0) for name, p in processes.items()
                  if name not in ("hikyaku-sim", "hikyaku-load", "dnsmasq"))
    delivered = len(first_arrivals)
    resources = {
        "by_process": processes,
        "system_under_test_cpu_seconds": round(sut_cpu, 2),
        "system_under_test_cpu_ms_per_message": round(sut_cpu * 1000 / delivered, 3) if delivered else None,
        "note": ("system under test = the relay processes and redis-server (Hikyaku) or every Postfix "
                 "process; dnsmasq, the simulator and the generator are excluded"),
    }

    return {
        "system": raw["system"]["name"],
        "label": raw["label"],
        "messages": scenario.load["messages"],
        "accepted": len(accepted),
        "generator": {"summary": summary, "refused_at_submission": refused_at_submission,
                      "argv": raw["generator"].get("argv"), "exit_code": raw["generator"].get("exit_code")},
        "throughput": throughput,
        "series": {"t0_us": t0, "seconds": seconds, "accepted_per_second": accepted_series,
                   "delivered_per_second": delivered_series},
        "latency_ms": latency_summary(latencies_ms),
        "latency_method": LATENCY_METHOD,
        "loss": loss,
        "simulator": simulator,
        "resources": resources,
        "machine_during_run": raw.get("machine_during_run"),
        "faults": raw.get("faults", []),
        "teardown_problems": raw.get("teardown_problems", []),
        "end": raw.get("end", {}),
        "system_details": raw["system"].get("describe", {}),
        "system_view": raw["system"].get("extra", {}),
    }
