"""Host memory of 100 queued runs (issue 6: "Queued runs must not each hold a ~25 MB Python
process ... Goal: 100 queued runs cost <= 150 MB of host RSS in total").

    .venv/bin/python benchmarks/queue_bench.py [--runs N] [--backend docker|process] [--keep]

    AMLOCAL_BASE_IMAGE   the base image (default amlocal-base:bookworm); nothing is pulled

A compute target with max_nodes=1; one long run holds its node; N more runs (default 100) are
submitted from this process, one after the other, and left waiting. Once every one of them is
Queued and no supervisor of a queued run is left, the RSS (and PSS) of every amlocal process of
the workspace is summed: the supervisors and the dispatcher, found by their command line
(``python -m amlocal._local.supervisor <workspace>/runs/<run id>``, ``python -m
amlocal._local.dispatcher <workspace>``). The holding run's supervisor is counted too, so the
figure is what the workspace costs with one run on its node and N waiting. The containers'
own processes (the engine's shims, the job) and this submitting process are not amlocal's
queue: they are reported apart. Everything is then canceled (queued runs first, so none takes
the node) and must end Canceled.

The backend is ``docker`` by default: it is amlocal's default backend, and the one whose queued
supervisors issue 6 measured (730 MB for 29, i.e. ~25 MB each: the figure quoted as the peer,
scaled to N). The queue and its processes are the same for ``process`` (both are LocalBackends),
which ``--backend process`` measures.

Prints a markdown table; writes results/queue.md and results/queue.json. Exits 0 when every
figure was measured (whether or not it met its goal), 1 when one could not be.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from amlocal._local.dispatch import MAX_PREPARING
from amlocal._local.dispatcher import POLL_SECONDS
from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace

from common import (DEFAULT_BASE_IMAGE, BenchError, ProcessFinder, Row, Sampler, busy_note, compute_target, cpu_seconds,
                    error_row, load_average, log, machine, machine_lines, median, memory_kb, millis, rows_json,
                    seconds, targets_table, use_temporary_home, wait_for, write_project, write_results)

WORKSPACE_NAME = "queue-bench"
EXPERIMENT = "queue"
TARGET = "single-node"
GOAL_MB = 150
#: issue 6, measured before the reshaping: 29 queued runs' supervisors held 730 MB of RSS
PEER_MB, PEER_RUNS = 730, 29
HOLD = "import time\nprint('holding the node', flush=True)\ntime.sleep(3600)\n"
QUEUED_JOB = "print('a queued run that ran', flush=True)\n"


class MemorySampler(Sampler):
    """Samples the workspace's amlocal processes every 100 ms: the peak of their summed RSS."""

    def __init__(self, finder):
        super().__init__()
        self.finder = finder
        self.peak_kb, self.peak_processes = 0, 0

    def sample(self):
        processes = self.finder.scan()
        total = sum(memory_kb(pid)["rss"] for pid in processes)
        if total > self.peak_kb:
            self.peak_kb, self.peak_processes = total, len(processes)


def statuses_of(ws, run_ids):
    """{run id: status} from run history alone (a reader of the database starts nothing)."""
    wanted = set(run_ids)
    return {r["run_id"]: r["status"] for r in ws.run_history.list_runs() if r["run_id"] in wanted}


def snapshot_memory(finder, holder_id, samples=10):
    """The workspace's amlocal processes, sampled ``samples`` times 100 ms apart; the sample
    with the largest summed RSS, split by role."""
    best = None
    for _ in range(samples):
        processes = finder.scan()
        parts = {"holding run's supervisor": [0, 0, 0], "dispatcher": [0, 0, 0], "queued runs' supervisors": [0, 0, 0]}
        for pid, (role, run_id) in processes.items():
            memory = memory_kb(pid)
            key = "dispatcher" if role == "dispatcher" else (
                "holding run's supervisor" if run_id == holder_id else "queued runs' supervisors")
            parts[key][0] += 1
            parts[key][1] += memory["rss"]
            parts[key][2] += memory["pss"]
        total_rss = sum(p[1] for p in parts.values())
        if best is None or total_rss > best["rss_kb"]:
            best = {"rss_kb": total_rss, "pss_kb": sum(p[2] for p in parts.values()),
                    "processes": sum(p[0] for p in parts.values()),
                    "parts": {k: {"processes": p[0], "rss_kb": p[1], "pss_kb": p[2]} for k, p in parts.items()}}
        time.sleep(0.1)
    return best


def cpu_while_waiting(finder, seconds_=5.0):
    """CPU seconds per second used by the workspace's amlocal processes while nothing changes."""
    before = {pid: cpu_seconds(pid) for pid in finder.scan()}
    started = time.monotonic()
    time.sleep(seconds_)
    elapsed = time.monotonic() - started
    after = {pid: cpu_seconds(pid) for pid in finder.scan()}
    used = sum(max(0.0, after[pid] - before.get(pid, 0.0)) for pid in after)
    return used / elapsed


def measure(args, root, notes):
    project = write_project(root / "project", WORKSPACE_NAME, backend=args.backend, scripts=())
    (project / "src" / "hold.py").write_text(HOLD)
    (project / "src" / "queued.py").write_text(QUEUED_JOB)
    os.chdir(project)
    ws = Workspace.from_config()
    if ws.backend.name != args.backend:
        raise BenchError(f"the workspace uses the {ws.backend.name} backend, not {args.backend}")
    target = compute_target(ws, TARGET, max_nodes=1)
    experiment = Experiment(ws, EXPERIMENT)
    environment = Environment("queue-bench")  # no packages: the base image (docker) or no venv to build

    def config(script):
        return ScriptRunConfig(source_directory="src", script=script, compute_target=target, environment=environment)

    finder = ProcessFinder(ws.stores.layout.root)
    holder = experiment.submit(config("hold.py"))
    wait_for(lambda: ws.run_history.get_run(holder.id)["status"] == "Running", 180,
             f"the holding run {holder.id} to be Running")
    log(f"run {holder.id} holds the node; submitting {args.runs} runs")

    runs, submit_s = [], []
    with MemorySampler(finder) as burst:
        started = time.perf_counter()
        for _ in range(args.runs):
            one = time.perf_counter()
            runs.append(experiment.submit(config("queued.py")))
            submit_s.append(time.perf_counter() - one)
        submitted_s = time.perf_counter() - started
        log(f"  {args.runs} submissions took {seconds(submitted_s)}; waiting for all to be Queued")
        ids = [run.id for run in runs]
        queued_started = time.perf_counter()

        def all_queued():
            found = statuses_of(ws, ids)
            if any(status not in ("NotStarted", "Starting", "Preparing", "Queued") for status in found.values()):
                raise BenchError(f"a queued run moved on while the node was held: {found}")
            return all(found.get(run_id) == "Queued" for run_id in ids)

        wait_for(all_queued, 60 + 3 * args.runs, f"all {args.runs} runs to be Queued")
        all_queued_s = time.perf_counter() - queued_started
        waiting = set(ids)
        wait_for(lambda: not any(role == "supervisor" and run_id in waiting for role, run_id in finder.scan().values()),
                 60, "the queued runs' supervisors to exit")
    holder_status = ws.run_history.get_run(holder.id)["status"]
    if holder_status != "Running":
        raise BenchError(f"the holding run {holder.id} is {holder_status}, not Running, while the others wait")
    steady = snapshot_memory(finder, holder.id)
    cpu_rate = cpu_while_waiting(finder)
    submitter_kb = memory_kb(os.getpid())["rss"]
    log(f"  all Queued {seconds(all_queued_s)} after the last submission; {steady['processes']} amlocal processes "
        f"hold {steady['rss_kb'] / 1024:.1f} MB RSS")

    log("  canceling the queued runs, then the holding run")
    cancel_started = time.perf_counter()
    for run in runs:
        run.cancel()
    holder.cancel()
    every = [holder.id, *ids]
    wait_for(lambda: all(s in ("Completed", "Failed", "Canceled") for s in statuses_of(ws, every).values()), 180,
             f"all {len(every)} runs to end after cancel")
    cancel_s = time.perf_counter() - cancel_started
    ended = statuses_of(ws, every)
    not_canceled = {run_id: status for run_id, status in ended.items() if status != "Canceled"}
    wait_for(lambda: not finder.scan(), 60, "the workspace's amlocal processes to exit after the cancel")

    mb = steady["rss_kb"] / 1024
    peer_mb = PEER_MB / PEER_RUNS * args.runs
    parts = "; ".join(f"{name}: {part['processes']} process{'es' if part['processes'] != 1 else ''}, "
                      f"{part['rss_kb'] / 1024:.1f} MB RSS / {part['pss_kb'] / 1024:.1f} MB PSS"
                      for name, part in steady["parts"].items())
    notes += [
        f"While the {args.runs} runs waited Queued: {parts}. This submitting process held "
        f"{submitter_kb / 1024:.1f} MB (not counted). The holding run's container processes are the engine's, not "
        "counted either.",
        f"While they waited, the workspace's amlocal processes used {cpu_rate * 100:.1f}% of one CPU "
        f"(CPU seconds per second over 5 s; the dispatcher polls every {POLL_SECONDS * 1000:.0f} ms).",
        f"The {args.runs} submissions took {seconds(submitted_s)} in all (median {millis(median(submit_s))}, max "
        f"{millis(max(submit_s))} each); the last run was Queued {seconds(all_queued_s)} after the last submission "
        f"(at most {MAX_PREPARING} runs prepare at once; the dispatcher starts the others). At the peak of that "
        f"burst the workspace's amlocal processes held {burst.peak_kb / 1024:.1f} MB RSS ({burst.peak_processes} "
        "processes; sampled every 100 ms).",
        f"Cancel: {len(every)} runs (the {args.runs} queued first, then the holding one) all ended in "
        f"{seconds(cancel_s)}: " + ("every one Canceled." if not not_canceled else f"NOT all Canceled: {not_canceled}"),
    ]
    data = {"steady": steady, "burst_peak_rss_kb": burst.peak_kb, "burst_peak_processes": burst.peak_processes,
            "submit_s": {"total": submitted_s, "each": submit_s}, "all_queued_after_s": all_queued_s,
            "cpu_per_second_while_waiting": cpu_rate, "submitter_rss_kb": submitter_kb, "cancel_s": cancel_s,
            "ended": ended, "backend": args.backend, "holder": holder.id}
    return [
        Row(f"{args.runs} queued runs ({args.backend} backend, max_nodes=1, one run on the node): RSS of the "
            f"workspace's amlocal processes ({steady['processes']})", f"{mb:.1f} MB",
            f"{peer_mb:,.0f} MB (before: {PEER_MB} MB for {PEER_RUNS} queued supervisors, issue 6; scaled to "
            f"{args.runs})", f"{mb / peer_mb:.3f}", f"<= {GOAL_MB} MB", mb <= GOAL_MB, data),
        Row("   the same as PSS (shared pages counted once)", f"{steady['pss_kb'] / 1024:.1f} MB", "-", "-", "-", True,
            graded=False),
        Row(f"   peak RSS while the {args.runs} were submitted and prepared", f"{burst.peak_kb / 1024:.1f} MB",
            "-", "-", "-", True, graded=False),
        Row(f"   {args.runs} submissions from one process", seconds(submitted_s),
            "-", "-", "-", True, graded=False),
        Row(f"cancel all {len(every)}: every run ends Canceled", f"{len(every) - len(not_canceled)} of {len(every)} "
            f"Canceled in {seconds(cancel_s)}", "-", "-", "all Canceled", not not_canceled),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="runs left waiting (default 100)")
    parser.add_argument("--backend", choices=("docker", "process"), default="docker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args(argv)

    info = machine()
    notes = [note for note in [busy_note(info)] if note]
    root = Path(tempfile.mkdtemp(prefix="amlocal-queue-bench-"))
    base_image = os.environ.get("AMLOCAL_BASE_IMAGE") or DEFAULT_BASE_IMAGE
    try:
        use_temporary_home(root, base_image)
        rows = measure(args, root, notes)
    except Exception as err:
        log(f"ERROR: {err}")
        if not isinstance(err, BenchError):
            traceback.print_exc()
        rows = [error_row(f"{args.runs} queued runs", err)]
    finally:
        os.chdir(Path(__file__).resolve().parent)
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    info["load_average_at_end"] = load_average()
    text = "\n".join([
        "# Queued runs: host memory (benchmarks/queue_bench.py)", "", *machine_lines(info),
        f"- base image {base_image} (as its label copy)", "", targets_table(rows), "",
        "## Notes", "", *[f"- {note}" for note in notes], ""])
    print(text)
    write_results("queue", text, {"machine": info, "runs": args.runs, "backend": args.backend,
                                  "targets": rows_json(rows), "notes": notes})
    return 1 if any(row.passed is None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
