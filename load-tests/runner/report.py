"""report.json, summary.txt and the side-by-side comparison."""

from __future__ import annotations



def _fmt(value, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value:,}{unit}"


def run_summary(result: dict, scenario) -> str:
    if "error" in result:
        return f"== {result['label']}: FAILED ==\n{result['error']}\n"
    t = result["throughput"]
    lat = result["latency_ms"]
    loss = result["loss"]
    sim = result["simulator"]
    load = scenario.load
    rate = f"{load['rate']:g}/s" if load["rate"] else "flat out"
    lines = [
        f"== {result['label']} — {scenario.name}: {load['messages']:,} × {load['size']} B, "
        f"{load['connections']} connections, {rate} ==",
        f"accepted    {result['accepted']:,}/{result['messages']:,}   {_fmt(t['accepted_per_second'])}/s overall "
        f"(peak {t['peak_accepted_per_second']:,}/s) in {t['submit_seconds']:.2f} s",
        f"delivered   {t['delivered']:,}   {_fmt(t['delivered_per_second'])}/s end to end "
        f"(peak {t['peak_delivered_per_second']:,}/s), last arrival {t['end_to_end_seconds']:.2f} s after the first submission",
    ]
    if lat.get("count"):
        lines.append(f"latency     p50 {_fmt(lat['p50'])} ms   p90 {_fmt(lat['p90'])} ms   p99 {_fmt(lat['p99'])} ms   "
                     f"max {_fmt(lat['max'])} ms   (exact over all {lat['count']:,} delivered, enqueue→delivery)")
    else:
        lines.append("latency     — (nothing delivered)")
    verdict = "every accepted message accounted for" if loss["all_accounted"] else f"{loss['missing']} MISSING"
    reason = str(result["end"].get("reason", ""))
    if not loss["all_accounted"] and (reason.startswith("interrupted") or reason.startswith("timeout")):
        verdict = f"{loss['missing']} not accounted for when the run ended early ({reason}); not a loss verdict"
    elif loss["missing_of_which_deferred_at_end"]:
        verdict += f" ({loss['missing_of_which_deferred_at_end']} of them still being retried)"
    lines.append(f"loss        delivered once {loss['delivered_once']:,}, duplicates {loss['duplicates']:,} "
                 f"({loss['duplicate_copies']:,} extra copies), bounced {loss['bounced']:,}"
                 f"{' ' + str(loss['final_failures_by_kind']) if loss['final_failures_by_kind'] else ''}, "
                 f"missing {loss['missing']:,}, unexpected arrivals {loss['unexpected_arrivals']:,} → {verdict}")
    if loss["missing"]:
        lines.append(f"            missing seqs (first {len(loss['missing_seqs_sample'])}): {loss['missing_seqs_sample']}")
    refused = ", ".join(f"{k} {v:,}" for k, v in sim["refused_by_reason"].items()) or "none"
    lines.append(f"simulator   {sim['arrivals']:,} arrivals; refused recipients: {refused}; "
                 f"limit violations (rate_limit + blocked): {sim['limit_violations']:,}")
    for site, check in sim["per_ip_rate_check"].items():
        lines.append(f"            {site}: limit {check['limit_per_ip']} per IP, most from one IP in any window "
                     f"{check['most_arrivals_from_one_ip_in_any_window']} ({check['egress_ips_seen']} IPs seen)")
    view = result.get("system_view", {})
    if view.get("events"):
        lines.append("relay       events: " + ", ".join(f"{k} {v:,}" for k, v in view["events"].items()))
    for reply, count in list(view.get("deferral_and_bounce_replies", {}).items())[:5]:
        lines.append(f"            {count:,} × {reply}")
    if view.get("maillog_status"):
        lines.append("postfix     maillog: " + ", ".join(f"status={k} {v:,}" for k, v in view["maillog_status"].items()))
    res = result["resources"]
    parts = []
    for name, usage in res["by_process"].items():
        if "cpu_seconds" in usage:
            text = f"{name} {usage['cpu_seconds']:.1f} s / {usage.get('peak_rss_mib', 0):.0f} MiB"
            if usage.get("starts", 1) > 1:
                text += f" (started {usage['starts']}×)"
            if "peak_total_rss_mib" in usage:
                text += (f" (largest process; {usage['peak_total_rss_mib']:.0f} MiB summed over its live processes "
                         f"at the peak, shared pages counted per process; {usage['processes_seen']} processes in all)")
            parts.append(text)
    lines.append("CPU / RSS   " + "; ".join(parts))
    lines.append(f"            system under test: {res['system_under_test_cpu_seconds']:.1f} CPU-s"
                 + (f", {res['system_under_test_cpu_ms_per_message']:.2f} CPU-ms per delivered message"
                    if res["system_under_test_cpu_ms_per_message"] else ""))
    m = result.get("machine_during_run")
    if m:
        lines.append(f"machine     during the run: {m['busy_cpu_seconds']:.0f} of {m['cpu_capacity_seconds']:.0f} CPU-s busy, "
                     f"{m['our_processes_cpu_seconds']:.0f} by this pass's processes, ~{m['others_cpu_seconds_approx']:.0f} by "
                     f"others; load average {m['load_average_at_start'][0]} at start, {m['load_average_at_end'][0]} at end")
    for fault in result.get("faults", []):
        text = f"fault       {fault['signal']} to {fault['target']} at {fault['at_seconds']} s"
        if "restarted_at_seconds" in fault:
            text += f", restarted at {fault['restarted_at_seconds']} s"
        if "error" in fault:
            text += f" — {fault['error']}"
        lines.append(text)
    end = result["end"]
    lines.append(f"end         {end.get('reason')} ({end.get('elapsed_seconds', '?')} s after the generator started)")
    return "\n".join(lines) + "\n"


def comparison(primary: dict, peer: dict) -> dict:
    def ratio(a, b):
        return round(a / b, 2) if a is not None and b else None

    rows = {}
    for key, path, better in (
        ("accepted_per_second", ("throughput", "accepted_per_second"), "higher"),
        ("delivered_per_second_end_to_end", ("throughput", "delivered_per_second"), "higher"),
        ("peak_delivered_per_second", ("throughput", "peak_delivered_per_second"), "higher"),
        ("latency_p50_ms", ("latency_ms", "p50"), "lower"),
        ("latency_p90_ms", ("latency_ms", "p90"), "lower"),
        ("latency_p99_ms", ("latency_ms", "p99"), "lower"),
        ("latency_max_ms", ("latency_ms", "max"), "lower"),
        ("cpu_seconds_system_under_test", ("resources", "system_under_test_cpu_seconds"), "lower"),
        ("cpu_ms_per_message", ("resources", "system_under_test_cpu_ms_per_message"), "lower"),
    ):
        a, b = primary.get(path[0], {}).get(path[1]), peer.get(path[0], {}).get(path[1])
        rows[key] = {"hikyaku": a, "postfix": b, "hikyaku_over_postfix": ratio(a, b), "better": better}
    rows["missing"] = {"hikyaku": primary["loss"]["missing"], "postfix": peer["loss"]["missing"]}
    rows["duplicates"] = {"hikyaku": primary["loss"]["duplicates"], "postfix": peer["loss"]["duplicates"]}
    return rows


def comparison_text(rows: dict) -> str:
    labels = {
        "accepted_per_second": "accepted/s",
        "delivered_per_second_end_to_end": "delivered/s end to end",
        "peak_delivered_per_second": "peak delivered/s (1 s)",
        "latency_p50_ms": "latency p50 ms",
        "latency_p90_ms": "latency p90 ms",
        "latency_p99_ms": "latency p99 ms",
        "latency_max_ms": "latency max ms",
        "cpu_seconds_system_under_test": "CPU-s (relay side)",
        "cpu_ms_per_message": "CPU-ms per message",
        "missing": "missing",
        "duplicates": "duplicates",
    }
    out = [f"{'':26}{'Hikyaku':>12}{'Postfix':>12}{'Hikyaku/Postfix':>18}"]
    for key, label in labels.items():
        row = rows[key]
        r = row.get("hikyaku_over_postfix")
        note = f"{r:.2f}×" if r is not None else ""
        if note and row.get("better") == "lower":
            note += " (lower is better)"
        out.append(f"{label:26}{_fmt(row['hikyaku']):>12}{_fmt(row['postfix']):>12}   {note}")
    return "\n".join(out) + "\n"


def evaluate_checks(expect: dict, primary: dict, others: dict[str, dict]) -> list[dict]:
    checks = []
    if "error" in primary:
        return [{"check": "run completed", "ok": False, "detail": primary["error"]}]
    loss, sim = primary["loss"], primary["simulator"]
    checks.append({"check": "every accepted message accounted for (missing == 0)",
                   "ok": loss["missing"] <= expect.get("missing", 0), "detail": f"missing {loss['missing']}"})
    if "duplicates_max" in expect:
        checks.append({"check": f"duplicates <= {expect['duplicates_max']}",
                       "ok": loss["duplicates"] <= expect["duplicates_max"], "detail": f"duplicates {loss['duplicates']}"})
    if "bounced_max" in expect:
        checks.append({"check": f"bounced <= {expect['bounced_max']}",
                       "ok": loss["bounced"] <= expect["bounced_max"], "detail": f"bounced {loss['bounced']}"})
    if "limit_violations_max" in expect:
        checks.append({"check": f"limit violations seen by the simulator <= {expect['limit_violations_max']}",
                       "ok": sim["limit_violations"] <= expect["limit_violations_max"],
                       "detail": f"limit violations {sim['limit_violations']}"})
    if "fewer_limit_refusals_than" in expect:
        other = others.get(expect["fewer_limit_refusals_than"])
        if other is None or "error" in other:
            checks.append({"check": f"fewer limit refusals than '{expect['fewer_limit_refusals_than']}'",
                           "ok": False, "detail": "that pass did not run (or failed)"})
        else:
            mine, theirs = sim["limit_violations"], other["simulator"]["limit_violations"]
            checks.append({"check": f"fewer limit refusals than '{expect['fewer_limit_refusals_than']}'",
                           "ok": mine < theirs, "detail": f"{mine} vs {theirs}"})
    return checks


def api_checks(result: dict) -> list[dict]:
    """An HTTP API pass: it ran, and every message the API accepted is accounted for."""
    label = result.get("label", "HTTP API")
    if "error" in result:
        return [{"check": f"{label} completed", "ok": False, "detail": result["error"]}]
    loss = result["loss"]
    return [{"check": f"{label}: messages accepted", "ok": result["accepted"] > 0,
             "detail": f"accepted {result['accepted']} of {result['messages']}"},
            {"check": f"{label}: every accepted message accounted for (missing == 0)", "ok": loss["missing"] == 0,
             "detail": f"missing {loss['missing']}"}]


def api_comparison(passes: dict[str, dict], batch_sizes: dict[str, int]) -> dict:
    """Per pass (SMTP and the API modes): submissions/s and recipients/s as the generator
    saw them (its summary: accepted ÷ its whole run), delivered/s end to end, and the
    latency of a submission (SMTP transaction or HTTP request) and of enqueue → delivery."""
    rows = {}
    for label, result in passes.items():
        if "error" in result:
            rows[label] = {"error": result["error"]}
            continue
        summary = result.get("generator", {}).get("summary") or {}
        submission = summary.get("submission_latency_ms") or {}
        rows[label] = {
            "messages_per_submission": batch_sizes.get(label) or 1,
            "accepted": result["accepted"],
            "submissions_per_second": summary.get("requests_per_second"),
            "recipients_per_second": summary.get("accepted_per_second"),
            "accepted_per_second": result["throughput"]["accepted_per_second"],
            "delivered_per_second_end_to_end": result["throughput"]["delivered_per_second"],
            "submission_latency_p50_ms": submission.get("p50"),
            "submission_latency_p99_ms": submission.get("p99"),
            "latency_p50_ms": result["latency_ms"].get("p50"),
            "latency_p99_ms": result["latency_ms"].get("p99"),
            "missing": result["loss"]["missing"],
        }
    return rows


def api_comparison_text(rows: dict) -> str:
    labels = {
        "messages_per_submission": "messages per submission",
        "submissions_per_second": "submissions/s",
        "recipients_per_second": "recipients/s (accepted)",
        "delivered_per_second_end_to_end": "delivered/s end to end",
        "submission_latency_p50_ms": "submission p50 ms",
        "submission_latency_p99_ms": "submission p99 ms",
        "latency_p50_ms": "enqueue→delivery p50 ms",
        "latency_p99_ms": "enqueue→delivery p99 ms",
        "missing": "missing",
    }
    names = list(rows)
    short = {name: ("API batch" if "batch" in name else "API single" if "API" in name else name) for name in names}
    out = [f"{'':26}" + "".join(f"{short[n]:>14}" for n in names)]
    for key, label in labels.items():
        out.append(f"{label:26}" + "".join(f"{_fmt(rows[n].get(key)) if 'error' not in rows[n] else 'failed':>14}"
                                             for n in names))
    return "\n".join(out) + "\n"
