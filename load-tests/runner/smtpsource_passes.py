"""The smtp-source profiles, relay by relay, and their table (runner/smtpsource.py measures
one run). For each relay: start it with its own smtp-sink, a warm-up of `warmup` messages
one connection per message (not counted), then `runs` timed runs of each profile, every
one from an empty queue; the figure per profile is the median of the runs."""

from __future__ import annotations

import statistics
from pathlib import Path

from hikyaku_testsupport import machine

from . import smtpsource
from .smtpsource import PROFILES, DirectToSink, HikyakuUnderTest, PostfixUnderTest, Sink

# "sink": no relay, smtp-source straight into smtp-sink (shows the client and sink are not the limit)
RELAYS = ("sink", "hikyaku", "postfix")


def run_relay(key: str, bins: dict, scenario, out: Path, messages: int, runs: int, warmup: int, say,
              split_roles: bool = False) -> dict:
    directory = out / key
    directory.mkdir(parents=True, exist_ok=True)
    sink = Sink(directory).start()
    if key == "hikyaku":
        system = HikyakuUnderTest(bins["hikyaku"], scenario, directory, sink.port, split_roles=split_roles)
    elif key == "postfix":
        system = PostfixUnderTest(scenario, directory, sink.port)
    else:
        system = DirectToSink(sink.port)
    result: dict = {"label": system.label, "profiles": {}}
    timeout = max(300.0, messages / 50)
    log = directory / "smtp-source.log"
    try:
        port = system.start()
        usage = system.usage()
        result["system"] = system.describe()
        if warmup and key != "sink":
            say(f"[{system.label}] warm-up: {warmup:,} messages, one connection per message")
            smtpsource.timed_run(system, port, sink, usage, warmup, [], log, timeout)
        for profile, (label, flags) in PROFILES.items():
            entries = []
            for number in range(1, runs + 1):
                load = machine.load_average()
                one = smtpsource.timed_run(system, port, sink, usage, messages, flags, log, timeout)
                one["load_average_before"] = load
                entries.append(one)
                say(f"[{system.label}] {label}, run {number}/{runs}: {one['messages_per_second']:,.0f} msg/s "
                    f"({messages:,} in {one['seconds']:.1f} s; smtp-source done after {one['smtp_source_seconds']:.1f} s)"
                    + "".join(f"; {name} {one[name]['cpu_ms_per_message']:.3f} ms CPU, "
                                f"{one[name]['context_switches_per_message']:.1f} cs per message" for name in usage))
            result["profiles"][profile] = summarize(entries, list(usage))
    except Exception as error:  # noqa: BLE001 -- reported; the other relay still runs
        result["error"] = f"{type(error).__name__}: {error}"
        say(f"[{system.label}] failed: {result['error']}")
    finally:
        system.stop()
        sink.stop()
    return result


def summarize(entries: list[dict], processes: list[str]) -> dict:
    """Each figure is its own median over the runs."""
    def median(path):
        values = entries
        for key in path:
            values = [v[key] for v in values]
        return round(statistics.median(values), 3)
    return {
        "messages_per_second": median(["messages_per_second"]),
        "accepted_per_second": median(["accepted_per_second"]),
        "per_run": [e["messages_per_second"] for e in entries],
        **{name: {"cpu_ms_per_message": median([name, "cpu_ms_per_message"]),
                  "context_switches_per_message": median([name, "context_switches_per_message"])} for name in processes},
        "runs": entries,
    }


def run_all(bins: dict, scenario, out: Path, relays: list[str], messages: int, runs: int, warmup: int, say,
            split_roles: bool = False) -> dict:
    started = machine.now_text()
    load = machine.load_average()
    results = {key: run_relay(key, bins, scenario, out, messages, runs, warmup, say, split_roles) for key in relays}
    return {"started_at": started, "load_average_before": load, "load_average_after": machine.load_average(),
            "client": f"smtp-source -s {smtpsource.SESSIONS} -l {smtpsource.SIZE} -m {messages} [-d]",
            "receiver": "smtp-sink -c (one per relay, 127.0.1.1)", "messages_per_run": messages,
            "runs_per_profile": runs, "warmup_messages": warmup, "relays": results, "split_roles": split_roles,
            "table": table_rows(results)}


def table_rows(results: dict) -> list[dict]:
    rows = []
    for profile, (label, _) in PROFILES.items():
        row: dict = {"profile": profile, "label": label}
        for key, result in results.items():
            figures = result.get("profiles", {}).get(profile)
            if figures:
                row[key] = {k: v for k, v in figures.items() if k != "runs"}
        if "hikyaku" in row and "postfix" in row:
            row["ratio"] = round(row["hikyaku"]["messages_per_second"] / row["postfix"]["messages_per_second"], 2)
        rows.append(row)
    return rows


def table_text(summary: dict) -> str:
    def rate(fig):
        if not fig:
            return "—"
        return f"{fig['messages_per_second']:,.0f} ({' / '.join(f'{r:,.0f}' for r in fig['per_run'])})"

    def cpu(fig, names):
        return " / ".join(f"{fig[n]['cpu_ms_per_message']:.3f}" for n in names) if fig else "—"

    def ctx(fig):
        return f"{fig['relay']['context_switches_per_message']:.1f}" if fig else "—"

    head = ["profile", "Hikyaku msg/s (runs)", "Postfix msg/s (runs)", "ratio", "Hikyaku CPU ms/msg (relay / redis)",
            "Postfix CPU ms/msg", "ctx switches/msg Hikyaku relay", "Postfix"]
    lines = [head]
    for row in summary["table"]:
        h, p = row.get("hikyaku"), row.get("postfix")
        lines.append([row["label"], rate(h), rate(p), f"{row['ratio']:.2f}×" if "ratio" in row else "—",
                      cpu(h, ["relay", "redis"]), cpu(p, ["relay"]), ctx(h), ctx(p)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
    notes = "".join(f"{r['label']} failed: {r['error']}\n" for r in summary["relays"].values() if "error" in r)
    if summary.get("split_roles"):
        for row in summary["table"]:
            h = row.get("hikyaku")
            if h:
                notes += (f"Hikyaku relay CPU ms per message by role, {row['label']}: "
                          + ", ".join(f"{role} {h[role]['cpu_ms_per_message']:.3f} ({h[role]['context_switches_per_message']:.1f} cs)"
                                      for role in HikyakuUnderTest.SPLIT_ROLES if role in h) + "\n")
    ceiling = [row for row in summary["table"] if row.get("sink")]
    if ceiling:
        notes += ("ceiling of the client and sink (smtp-source straight into smtp-sink, no relay): "
                   + ", ".join(f"{row['label']} {rate(row['sink'])}" for row in ceiling) + " msg/s\n")
    return (f"== smtp-source → relay → smtp-sink ({summary['client']}; median of {summary['runs_per_profile']} runs, "
            f"msg/s = messages ÷ time until smtp-sink had them all) ==\n{text}\n{notes}"
            "(Postfix: master and every child; its switches are polled every 0.25 s and slightly undercounted)\n")
