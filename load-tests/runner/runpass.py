"""One pass of a scenario through one system (Hikyaku, a variant of it, or Postfix):
simulator up, system up, generator started, progress followed, faults injected, everyone
stopped, raw results collected."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

from hikyaku_testsupport.console import Console
from hikyaku_testsupport.ports import free_port, port_accepts
from hikyaku_testsupport.processes import ManagedProcess
from hikyaku_testsupport.procfs import machine_cpu_seconds
from hikyaku_testsupport.records import GeneratorOutput, SimRecords, read_generator_records
from hikyaku_testsupport.waiting import WaitTimeout, wait_for

POLL_SECONDS = 0.5


class FaultPlan:
    """The scenario's faults, fired at their times (seconds after the generator starts)."""

    def __init__(self, faults: list[dict], targets: dict, console: Console):
        self.pending = sorted(({**f, "state": "waiting"} for f in faults), key=lambda f: f["at_seconds"])
        self.targets = targets
        self.console = console
        self.log: list[dict] = []

    def next_due(self, elapsed: float) -> float:
        """Seconds until the next fault action (infinity when none is left)."""
        due = [f["at_seconds"] for f in self.pending if f["state"] == "waiting"]
        due += [f["at_seconds"] + f["restart_after_seconds"] for f in self.pending if f["state"] == "fired"]
        return min(due) - elapsed if due else float("inf")

    def tick(self, elapsed: float):
        for fault in self.pending:
            if fault["state"] == "waiting" and elapsed >= fault["at_seconds"]:
                child = self.targets.get(fault["kill"])
                entry = {"target": fault["kill"], "signal": fault["signal"], "at_seconds": round(elapsed, 2)}
                if child is None:
                    entry["error"] = f"no process named {fault['kill']} (known: {', '.join(sorted(self.targets))})"
                    fault["state"] = "done"
                elif not child.alive():
                    entry["error"] = f"{child.name} was not running"
                    fault["state"] = "done"
                else:
                    entry["pid"] = child.pid
                    child.fault_pending = True
                    child.send_signal(getattr(signal, "SIG" + fault["signal"]))
                    fault["state"] = "fired" if fault["restart_after_seconds"] is not None else "done"
                    fault["child"] = child
                    fault["entry"] = entry
                    if fault["restart_after_seconds"] is None and fault["signal"] in ("CONT",):
                        child.fault_pending = False
                self.console.say(f"fault: {fault['signal']} to {fault['kill']} at {elapsed:.1f}s"
                                 + (f" — {entry['error']}" if "error" in entry else f" (pid {entry.get('pid')})"))
                self.log.append(entry)
            elif fault["state"] == "fired" and elapsed >= fault["at_seconds"] + fault["restart_after_seconds"]:
                child, entry = fault["child"], fault["entry"]
                if fault["signal"] == "STOP":
                    child.send_signal(signal.SIGCONT)
                    entry["continued_at_seconds"] = round(elapsed, 2)
                    self.console.say(f"fault: CONT to {fault['kill']} at {elapsed:.1f}s")
                else:
                    if child.wait(30) is None:
                        child.send_signal(signal.SIGKILL)
                        child.wait()
                    entry["exit_code"] = child.exit_code
                    child.start()
                    entry["restarted_at_seconds"] = round(elapsed, 2)
                    entry["new_pid"] = child.pid
                    self.console.say(f"fault: restarted {fault['kill']} at {elapsed:.1f}s (pid {child.pid})")
                child.fault_pending = False
                fault["state"] = "done"


class Pass:
    def __init__(self, label: str, scenario, bins: dict, out: Path, console: Console, make_system,
                 with_faults: bool = True, run_name: str = "run", http_batch: int | None = None):
        self.label = label
        self.scenario = scenario
        self.bins = bins
        self.out = Path(out)
        self.console = console
        self.make_system = make_system
        self.with_faults = with_faults
        self.run_name = run_name
        # None: SMTP; 0: the HTTP API, one message per request; N: N per batch request.
        self.http_batch = http_batch
        self.finals: dict[str, str] = {}
        self.deferred: set[str] = set()

    def run(self) -> dict:
        out = self.out
        out.mkdir(parents=True, exist_ok=True)
        scenario = self.scenario
        started_wall = time.time()
        sim_port = free_port(tuple(scenario.site_addresses()))
        sim_scenario_path = out / "sim-scenario.json"
        sim_scenario_path.write_text(json.dumps(scenario.simulator_scenario(sim_port), indent=2) + "\n")
        sim_record = out / "sim-records.jsonl"
        sim = ManagedProcess("hikyaku-sim", [self.bins["hikyaku-sim"], "serve", "--scenario", sim_scenario_path,
                                    "--record", sim_record, "--stats-interval", "10"],
                    out / "hikyaku-sim.log", role="simulator")
        system = None
        generator = None
        raw: dict = {"label": self.label, "started_at": started_wall}
        try:
            sim.start()
            for address in sorted(set(scenario.site_addresses())):
                wait_for(lambda a=address: port_accepts(sim_port, a), timeout=30, interval=0.1,
                         what=f"hikyaku-sim on {address}:{sim_port}", alive=sim.alive)
            system = self.make_system(sim_port, sim_scenario_path)
            host, port = system.start()
            self.console.say(f"[{self.label}] simulator on port {sim_port}, "
                             f"{system.label} accepting on {host}:{port}; logs in {out}")

            load = scenario.load
            gen_record = out / "generator-records.jsonl"
            if self.http_batch is None:
                target = ["--server", f"{host}:{port}"]
            else:
                target = ["--http", system.api_url, "--api-key", system.api_key, "--batch", self.http_batch]
            # stdbuf: line-buffered stdout, so the progress lines reach the file as printed.
            generator = ManagedProcess("hikyaku-load", [
                *(["stdbuf", "-oL"] if shutil.which("stdbuf") else []), self.bins["hikyaku-load"],
                *target, "--connections", load["connections"], "--messages", load["messages"], "--size", load["size"], "--rate", load["rate"],
                "--per-connection", load["per_connection"], "--mix", scenario.mix_argument(),
                "--users", load["users"], "--from", load["from"], "--run", self.run_name,
                "--record", gen_record, "--progress",
            ], out / "hikyaku-load.log", stdout_path=out / "hikyaku-load.out", role="generator")
            raw["end"] = self._follow(system, sim, generator, gen_record, sim_record)
        except (RuntimeError, WaitTimeout) as error:
            # A process that would not start: say why, with the end of its log.
            dead = [c for c in [sim, *(system.children if system else [])] if c.current and not c.alive()]
            details = "".join(f"\n--- last lines of {c.log_path}:\n{c.tail(12)}" for c in dead)
            raise RuntimeError(f"{error}{details}") from None
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: stop everything, still report what was seen so far.
            self.console.say(f"[{self.label}] interrupted; stopping every process")
            raw["end"] = {"reason": "interrupted (Ctrl-C or SIGTERM)"}
            raw["interrupted"] = True
        finally:
            raw.update(self._teardown(system, sim, generator))
        return raw

    # ------------------------------------------------------------------ following the run

    def _follow(self, system, sim: ManagedProcess, generator: ManagedProcess, gen_record: Path, sim_record: Path) -> dict:
        scenario = self.scenario
        sim_records = SimRecords(sim_record)
        gen_out = GeneratorOutput(self.out / "hikyaku-load.out")
        faults = FaultPlan(scenario.faults if self.with_faults else [], system.fault_targets(), self.console)
        self.faults = faults
        self.sim_records = sim_records
        self.gen_out = gen_out
        finals: dict[str, str] = {}
        self.finals = finals
        arrived: dict[int, int] = {}
        processed = 0
        outstanding: set[int] | None = None
        qid_to_seq: dict[str, int] = {}
        accounted_since: float | None = None
        last_delivered, last_time = 0, time.monotonic()
        rate_now = 0.0
        pending = None
        line = f"[{self.label}] starting"

        generator.start()
        t0 = time.monotonic()
        self.machine_start = (machine_cpu_seconds(), os.getloadavg(), t0)
        self.generator_started_wall = time.time()
        end: dict = {}
        while True:
            # Wake up at the next fault's time if that comes before the next poll.
            time.sleep(max(0.01, min(POLL_SECONDS, faults.next_due(time.monotonic() - t0))))
            now = time.monotonic()
            elapsed = now - t0
            faults.tick(elapsed)
            for child in [generator, sim]:
                child.sample()
            system.sample()
            gen_out.update()
            sim_records.update()
            for queue_id, kind in system.poll_finals():
                if kind == "deferred":
                    self.deferred.add(queue_id)
                    continue
                finals[queue_id] = kind
                if outstanding is not None and queue_id in qid_to_seq:
                    outstanding.discard(qid_to_seq[queue_id])
            for seq, *_ in sim_records.arrivals[processed:]:
                if seq is not None:
                    arrived[seq] = arrived.get(seq, 0) + 1
                    if outstanding is not None:
                        outstanding.discard(seq)
            processed = len(sim_records.arrivals)
            pending = system.pending()

            generator_done = not generator.alive()
            if generator_done and outstanding is None:
                gen_out.update()
                records = read_generator_records(gen_record)
                accepted = [r for r in records if r.get("code") == 250]
                qid_to_seq = {r["queue_id"]: r["seq"] for r in accepted if r.get("queue_id")}
                failed = {qid_to_seq[q] for q in finals if q in qid_to_seq}
                outstanding = {r["seq"] for r in accepted} - set(arrived) - failed
                self.console.say(f"[{self.label}] generator finished after {elapsed:.1f}s: "
                                 f"{len(accepted)} of {scenario.load['messages']} accepted; "
                                 f"waiting for {len(outstanding)} to be accounted for")
                if not accepted:
                    end = {"reason": "the generator got no message accepted"}
                    break

            delivered = len(sim_records.arrivals)
            if now - last_time >= 1.0:
                rate_now = (delivered - last_delivered) / (now - last_time)
                last_delivered, last_time = delivered, now
            accepted_now = gen_out.accepted
            line = (f"[{self.label}] {elapsed:6.1f}s  accepted {accepted_now}/{scenario.load['messages']}  "
                    f"delivered {delivered}  rate {rate_now:7.1f}/s  queue {pending if pending is not None else '?'}")
            if outstanding is not None:
                line += f"  outstanding {len(outstanding)}"
            self.console.progress(line)

            if outstanding is not None and not outstanding:
                if pending == 0:
                    end = {"reason": "every accepted message accounted for; queue empty"}
                    break
                accounted_since = accounted_since or now
                if now - accounted_since >= scenario.settle_seconds:
                    end = {"reason": f"every accepted message accounted for; queue still reports {pending} "
                                     f"after {scenario.settle_seconds:.0f}s"}
                    break
            dead = system.essential_alive()
            if dead is None and not sim.alive():
                dead = sim.name
            if dead:
                end = {"reason": f"{dead} exited unexpectedly (see its log)"}
                self.console.say(f"[{self.label}] {dead} exited unexpectedly")
                break
            if elapsed >= scenario.timeout_seconds:
                end = {"reason": f"timeout after {scenario.timeout_seconds:.0f}s"}
                break
        self.console.progress(line, force=True)
        self.console.say(f"[{self.label}] done: {end['reason']}")
        end["elapsed_seconds"] = round(time.monotonic() - t0, 2)
        self.machine_end = (machine_cpu_seconds(), os.getloadavg(), time.monotonic())
        end["queue_at_end"] = pending
        end["outstanding_at_end"] = len(outstanding) if outstanding is not None else None
        self.finals = finals
        return end

    # ------------------------------------------------------------------ stopping

    def _teardown(self, system, sim: ManagedProcess, generator: ManagedProcess | None) -> dict:
        result: dict = {}
        problems = []

        def step(what, function, *args):
            # Every step runs even if an earlier one failed, so nothing is left running.
            try:
                return function(*args)
            except Exception as error:  # noqa: BLE001
                problems.append(f"{what}: {type(error).__name__}: {error}")
                return None

        if generator is not None and generator.current is not None:
            generator.sample()
            step("stopping the generator", generator.stop, 10)
        if system is not None:
            step("sampling", system.sample)
            step(f"stopping {system.label}", system.stop_relay)
            for queue_id, kind in step("reading the last events", system.poll_finals) or []:
                if kind == "deferred":
                    self.deferred.add(queue_id)
                else:
                    self.finals[queue_id] = kind
        sim.sample()
        step("stopping the simulator", sim.stop, 30)
        if system is not None:
            step("stopping the rest", system.stop_rest)
        result["teardown_problems"] = problems
        if hasattr(self, "sim_records"):
            self.sim_records.update()
            self.gen_out.update()
        result["faults"] = self.faults.log if hasattr(self, "faults") else []
        result["finals"] = self.finals
        result["deferred"] = self.deferred
        result["sim"] = {
            "arrivals": self.sim_records.arrivals if hasattr(self, "sim_records") else [],
            "refusals": self.sim_records.refusals if hasattr(self, "sim_records") else [],
            "bad_lines": self.sim_records.bad_lines if hasattr(self, "sim_records") else 0,
        }
        result["generator"] = {
            "records": read_generator_records(self.out / "generator-records.jsonl"),
            "summary": self.gen_out.summary if hasattr(self, "gen_out") else None,
            "argv": generator.argv if generator else None,
            "exit_code": generator.exit_code if generator and generator.current else None,
            "started_wall": getattr(self, "generator_started_wall", None),
        }
        processes = {}
        if system is not None:
            processes.update(system.usage())
        processes[sim.name] = sim.usage()
        if generator is not None and generator.current is not None:
            processes[generator.name] = generator.usage()
        result["processes"] = processes
        if hasattr(self, "machine_start") and hasattr(self, "machine_end"):
            (busy0, _), load0, t0 = self.machine_start
            (busy1, _), load1, t1 = self.machine_end
            ours = sum(p.get("cpu_seconds", 0) for p in processes.values())
            result["machine_during_run"] = {
                "wall_seconds": round(t1 - t0, 2),
                "cpu_capacity_seconds": round((t1 - t0) * (os.cpu_count() or 1), 1),
                "busy_cpu_seconds": round(busy1 - busy0, 1),
                "our_processes_cpu_seconds": round(ours, 1),
                "others_cpu_seconds_approx": round(max(0.0, busy1 - busy0 - ours), 1),
                "load_average_at_start": [round(x, 2) for x in load0],
                "load_average_at_end": [round(x, 2) for x in load1],
                "note": ("busy CPU of the whole machine (/proc/stat) from the generator's start to the end of the "
                         "wait; 'others' = busy minus this pass's processes (other users, the runner, the kernel)"),
            }
        result["system"] = {"name": system.name if system else None,
                            "label": system.label if system else None,
                            "describe": _safe(system.describe) if system else {},
                            "extra": _safe(system.extra) if system else {}}
        return result


def _safe(function) -> dict:
    """A description that may be incomplete when the system failed to start."""
    try:
        return function()
    except Exception as error:  # noqa: BLE001
        return {"error": f"{type(error).__name__}: {error}"}
