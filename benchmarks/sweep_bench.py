"""HyperDrive sweeps on the docker backend (issue 8's benchmarks 1 and 2).

    .venv/bin/python benchmarks/sweep_bench.py [--repeat N] [--quick] [--only a|b] [--keep]

    AMLOCAL_BASE_IMAGE   the base image (default amlocal-base:bookworm); nothing is pulled

(a) A 12-child sweep (train_iris.py, GridParameterSampling over 4 kernels x 3 penalties, the
    SKLearn estimator's environment image, max_concurrent_runs=4) on a max_nodes=4 target,
    from ``experiment.submit(hd)`` until ``wait_for_completion()`` returns, against twelve bare
    ``docker run``s of the same script with the same twelve argument sets in the same image,
    4 at a time, with the posture amlocal gives a job (``common.BarePeer``). The sides
    alternate; the ratio is the median of per-pair ratios.                    [ratio <= 1.15]
(b) Early termination: a BanditPolicy (slack_factor 0.1, evaluation_interval 1,
    delay_evaluation 5) over four children of a script that logs one Accuracy per second for
    20 s (qualities 0.9 and 0.86, within the slack; 0.5 and 0.2, clearly worse). Each clearly
    worse child must be canceled within evaluation_interval + 2 s (one report per second) of
    the metric that condemns it.                                              [max <= 3 s]
    The condemning metric is found by replaying every child's Accuracy reports in the order
    they were logged (``LocalRunHistory.metric_rows`` keeps the time each was logged in the
    job) through the policy's own rule (``amlocal.train.hyperdrive.policy.evaluate``): the
    first report after which the child stands condemned. The delay runs from its logged time
    to the child's Canceled in its status timeline (the CancelRequested before it, when the
    sweep asked, is reported too). The max over every worse child of every repeat is graded.

Run history goes to a temporary AMLOCAL_HOME (deleted at the end unless --keep); the
environment cache stays the user's. Prints a markdown table; writes results/sweep.md and
results/sweep.json. Exits 0 when every target was measured (whether or not it met its goal),
1 when one could not be.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.specs import EnvironmentSpec
from amlocal.train.hyperdrive import (BanditPolicy, GridParameterSampling, HyperDriveConfig, PrimaryMetricGoal,
                                      choice)
from amlocal.train.hyperdrive.policy import evaluate
from amlocal.train.sklearn import SKLearn

from common import (BARE_LABEL, DEFAULT_BASE_IMAGE, IRIS_DATA, TRAIN_SCRIPT, BarePeer, BenchError, DockerEvents, Row,
                    busy_note, compute_target, error_row, load_average, log, machine, machine_lines, markdown_table,
                    median, millis, paired_ratio, ratio_text, rows_json, seconds, summary, targets_table, timeline,
                    use_temporary_home, write_project, write_results)

WORKSPACE_NAME = "sweep-bench"
CLUSTER = "sweep-cluster"
NODES = CONCURRENT = 4
KERNELS = ("linear", "rbf", "poly", "sigmoid")
PENALTIES = (0.5, 1, 1.5)
METRIC = "Accuracy"
SWEEP_GOAL = 1.15
TERMINAL = ("Completed", "Failed", "Canceled")

# (b)
METRIC_SCRIPT = """\
import argparse
import time

from azureml.core.run import Run

parser = argparse.ArgumentParser()
parser.add_argument("--quality", type=float, required=True)
args = parser.parse_args()
run = Run.get_context()
for second in range(20):
    run.log("Accuracy", args.quality)
    time.sleep(1)
"""
QUALITIES = (0.9, 0.86, 0.5, 0.2)
SLACK_FACTOR, EVALUATION_INTERVAL, DELAY_EVALUATION = 0.1, 1, 5
REPORT_SECONDS = 1.0  # the script logs one report per second


class SweepBench:
    def __init__(self, args):
        self.args = args
        self.repeat = args.repeat or (1 if args.quick else 3)
        self.base_image = os.environ.get("AMLOCAL_BASE_IMAGE") or DEFAULT_BASE_IMAGE
        self.root = Path(tempfile.mkdtemp(prefix="amlocal-sweep-bench-"))
        self.project = self.root / "project"
        self.notes = []

    def setup(self):
        use_temporary_home(self.root, self.base_image)
        write_project(self.project, WORKSPACE_NAME)
        (self.project / "src" / "metrics.py").write_text(METRIC_SCRIPT)
        os.chdir(self.project)
        self.ws = Workspace.from_config()
        ds = self.ws.get_default_datastore()
        ds.upload(src_dir=str(IRIS_DATA), target_path="iris", overwrite=True, show_progress=False)
        self.target = compute_target(self.ws, CLUSTER, NODES)
        self.estimator = SKLearn(source_directory="src", script_params={"--data-folder": ds.path("iris").as_mount()},
                                 compute_target=self.target, entry_script="train_iris.py", pip_packages=["joblib"])
        log(f"workspace in {self.root}; base image {self.base_image} as {os.environ['AMLOCAL_BASE_IMAGE']}")

    # -- (a) a 12-child sweep vs twelve bare runs ----------------------------------------------
    def iris_sweep(self):
        sampling = GridParameterSampling({"--kernel": choice(*KERNELS), "--penalty": choice(*PENALTIES)})
        return HyperDriveConfig(estimator=self.estimator, hyperparameter_sampling=sampling, primary_metric_name=METRIC,
                                primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                max_total_runs=len(KERNELS) * len(PENALTIES), max_concurrent_runs=CONCURRENT)

    def warm_up(self):
        """One plain run of the estimator (builds its image on first use), then the bare peer."""
        log("warm-up: one run of the estimator (builds the environment image on first use) and one bare run")
        run = Experiment(self.ws, "warm-up").submit(self.estimator)
        details = run.wait_for_completion(raise_on_error=False)
        if details["status"] != "Completed":
            raise BenchError(f"the warm-up run {run.id} ended {details['status']}: {details.get('error')}")
        from amlocal_docker.engine import connect_api
        from amlocal_docker.image import EnvironmentImage  # a cache hit: the tag at once

        environment = EnvironmentSpec.from_dict(self.ws.run_history.get_run(run.id)["environment"])
        prepared = EnvironmentImage(environment, connect_api()).prepare(open(os.devnull, "w"))
        self.image = prepared["image"]
        self.bare = BarePeer(prepared, self.root / "scratch")
        self.bare_one(("linear", 1), "warm-up")
        log(f"environment {prepared.get('key')} on image {self.image}")

    def bare_one(self, parameters, label):
        kernel, penalty = parameters
        return self.bare.run(label, [TRAIN_SCRIPT], "train_iris.py",
                             ["--data-folder", "/data", "--kernel", kernel, "--penalty", str(penalty)], data=IRIS_DATA,
                             expect="outputs/model.joblib")

    def bare_batch(self, index):
        """The twelve parameter sets, 4 at a time; (wall seconds, labels)."""
        grid = [(kernel, penalty) for kernel in KERNELS for penalty in PENALTIES]
        labels = [f"sweep-{index}-{i}-{uuid.uuid4().hex[:6]}" for i in range(len(grid))]
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENT) as pool:
            list(pool.map(self.bare_one, grid, labels))
        return time.perf_counter() - started, labels

    def amlocal_sweep(self):
        """submit -> wait_for_completion; the parent run and its wall time."""
        experiment = Experiment(self.ws, "sweep")
        started, wall_started = time.perf_counter(), time.time()
        run = experiment.submit(self.iris_sweep())
        details = run.wait_for_completion(raise_on_error=False)
        elapsed = time.perf_counter() - started
        children = list(run.get_children())
        ended = {child.id: child.get_status() for child in children}
        if details["status"] != "Completed" or len(children) != 12 or set(ended.values()) != {"Completed"}:
            raise BenchError(f"the sweep {run.id} ended {details['status']} with children {ended}")
        return {"run_id": run.id, "total": elapsed, "wall_started": wall_started,
                "wall_ended": wall_started + elapsed, "timeline": timeline(details),
                "children": {child.id: timeline(child.get_details()) for child in children}}

    def target_sweep(self):
        ours, bare, bare_labels = [], [], []
        with DockerEvents() as events:
            for index in range(self.repeat):
                elapsed, labels = self.bare_batch(index)
                bare.append(elapsed)
                bare_labels.append(labels)
                ours.append(self.amlocal_sweep())
                log(f"  round {index + 1}/{self.repeat}: sweep {seconds(ours[-1]['total'])}, twelve bare runs "
                    f"{seconds(bare[-1])}")
        sweep_s = [s["total"] for s in ours]
        ratio = paired_ratio(sweep_s, bare)
        self.notes.append(self.sweep_note(ours, bare_labels, events))
        return [Row(f"(a) 12-child sweep, max_concurrent_runs={CONCURRENT}, max_nodes={NODES}: submit -> "
                    f"wait_for_completion (median of {self.repeat})", seconds(median(sweep_s)),
                    f"{seconds(median(bare))} (12 bare docker runs, {CONCURRENT} at a time)",
                    ratio_text(ratio, SWEEP_GOAL), f"<= {SWEEP_GOAL}", ratio <= SWEEP_GOAL,
                    {"sweep_s": summary(sweep_s), "bare_s": summary(bare), "ratio": ratio,
                     "ratio_of_medians": median(sweep_s) / median(bare), "sweeps": ours})]

    def sweep_note(self, ours, bare_labels, events):
        """Where a sweep's time goes, from the children's timelines and their containers."""
        jobs, bare_jobs, first, tail, most, handover = [], [], [], [], [], []
        for sweep in ours:
            containers = {child: events.times("amlocal.run_id", child) for child in sweep["children"]}
            jobs += [c["die"] - c["start"] for c in containers.values() if "start" in c and "die" in c]
            created = [c["create"] for c in containers.values() if "create" in c]
            died = [c["die"] for c in containers.values() if "die" in c]
            if created:
                first.append(min(created) - sweep["wall_started"])
            if died:
                tail.append(sweep["wall_ended"] - max(died))
            ended = [t["Completed"] for t in sweep["children"].values() if "Completed" in t]
            for c in containers.values():  # a later child started when an earlier one ended
                freed = [when for when in ended if "create" in c and when <= c["create"]]
                if freed:
                    handover.append(c["create"] - max(freed))
            spans = [(t["Running"], next(t[s] for s in ("Finalizing", *TERMINAL) if s in t))
                     for t in sweep["children"].values() if "Running" in t]
            most.append(max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans))
        for labels in bare_labels:
            for label in labels:
                c = events.times(BARE_LABEL, label)
                if "start" in c and "die" in c:
                    bare_jobs.append(c["die"] - c["start"])
        return (f"(a): one child's container runs {seconds(median(jobs))} from start to exit in the sweep and "
                f"{seconds(median(bare_jobs))} bare (medians); submit -> first child's container created "
                f"{seconds(median(first))}, last child's container exit -> wait_for_completion returns "
                f"{seconds(median(tail))} (medians); a child Completed -> the next child's container created "
                f"{millis(median(handover))} median, {millis(max(handover, default=float('nan')))} max (the controller "
                f"noticing the end, within 50 ms, then the child's supervisor); at most {max(most)} children Running at once.")

    # -- (b) early termination ---------------------------------------------------------------------
    def bandit_sweep(self):
        policy = BanditPolicy(evaluation_interval=EVALUATION_INTERVAL, slack_factor=SLACK_FACTOR,
                              delay_evaluation=DELAY_EVALUATION)
        src = ScriptRunConfig(source_directory="src", script="metrics.py", compute_target=self.target,
                              environment=Environment("bandit-bench"))  # no packages: the base image
        config = HyperDriveConfig(run_config=src, hyperparameter_sampling=GridParameterSampling(
            {"--quality": choice(*QUALITIES)}), policy=policy, primary_metric_name=METRIC,
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=len(QUALITIES),
            max_concurrent_runs=len(QUALITIES))
        return config, policy

    def target_termination(self):
        limit = EVALUATION_INTERVAL * REPORT_SECONDS + 2
        threshold = max(QUALITIES) / (1 + SLACK_FACTOR)
        samples, problems = [], []
        for index in range(self.repeat):
            config, policy = self.bandit_sweep()
            run = Experiment(self.ws, "bandit").submit(config)
            details = run.wait_for_completion(raise_on_error=False)
            if details["status"] != "Completed":
                raise BenchError(f"the Bandit sweep {run.id} ended {details['status']}: {details.get('error')}")
            quality = {child: json.loads(p)["--quality"] for child, p in run.get_hyperparameters().items()}
            found = self.cancel_delays(policy, quality)
            for child, q in quality.items():
                status = self.ws.run_history.get_run(child)["status"]
                expected = "Canceled" if q < threshold else "Completed"
                if status != expected:
                    problems.append(f"child {child} (quality {q}) ended {status}, not {expected}")
            samples += found
            log(f"  round {index + 1}/{self.repeat}: " + ", ".join(
                f"quality {s['quality']}: canceled {seconds(s['to_canceled'])} after the condemning report"
                for s in found))
        if problems:
            raise BenchError("the Bandit policy did not cancel what its rule says: " + "; ".join(problems))
        if not samples:
            raise BenchError("no child was canceled")
        worst = max(s["to_canceled"] for s in samples)
        requested = [s["to_cancel_requested"] for s in samples if s["to_cancel_requested"] is not None]
        self.notes.append(
            f"(b): {len(samples)} clearly worse children over {self.repeat} sweeps (Bandit slack_factor "
            f"{SLACK_FACTOR}, evaluation_interval {EVALUATION_INTERVAL}, delay_evaluation {DELAY_EVALUATION}; "
            f"children of quality {', '.join(map(str, QUALITIES))}, the better two Completed). From the condemning "
            f"report's logged time: to CancelRequested {seconds(median(requested))} median, "
            f"{seconds(max(requested, default=float('nan')))} max (the sweep's decision); to Canceled "
            f"{seconds(median([s['to_canceled'] for s in samples]))} median, {seconds(worst)} max (the container "
            "killed, outputs collected). Each condemning report is found by "
            "replaying the logged reports through the policy's rule; its interval matched the one in the child's "
            f"Canceled reason for {sum(1 for s in samples if s['interval_matches'])} of {len(samples)}.")
        self.termination_samples = samples
        return [Row(f"(b) Bandit: clearly worse child Canceled after the report that condemns it (max of "
                    f"{len(samples)})", seconds(worst), "-", "-", f"<= evaluation_interval + 2 s = {limit:g} s",
                    worst <= limit, {"samples": samples, "to_canceled_s": summary([s["to_canceled"] for s in samples]),
                                     "to_cancel_requested_s": summary(requested)})]

    def cancel_delays(self, policy, quality):
        """For each canceled child: the report that condemned it and how long the cancel took."""
        history = self.ws.run_history
        reports = sorted((row["time"], index, child, row["value"]) for child in quality
                         for index, row in enumerate(history.metric_rows(child, METRIC)))
        canceled = [child for child in quality if history.get_run(child)["status"] == "Canceled"]
        condemned, series = {}, {child: [] for child in quality}
        for when, _, child, value in reports:
            series[child].append(value)
            waiting = [c for c in canceled if c not in condemned]
            for decision in evaluate(policy, series, PrimaryMetricGoal.MAXIMIZE, running=waiting, metric_name=METRIC):
                condemned.setdefault(decision.run_id, (when, decision.interval))
        found = []
        for child in canceled:
            if child not in condemned:
                raise BenchError(f"child {child} was canceled, but no report condemns it when replayed through the "
                                 "policy")
            when, interval = condemned[child]
            marks = timeline({"statusTimeline": history.status_timeline(child)})
            requested = marks.get("CancelRequested")
            reason = (history.get_run(child)["error"] or {}).get("message", "")
            found.append({"child": child, "quality": quality[child], "condemned_at": when, "interval": interval,
                          "interval_matches": f"at interval {interval}:" in reason,
                          "reports_logged": len(series[child]),
                          "to_cancel_requested": None if requested is None else requested - when,
                          "to_canceled": marks["Canceled"] - when, "reason": reason})
        return found

    def cleanup(self):
        os.chdir(Path(__file__).resolve().parent)
        if self.args.keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, help="rounds of each target (default 3, 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="one round of each, for a fast check")
    parser.add_argument("--only", choices=("a", "b"), help="run only one of the targets")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args(argv)

    bench = SweepBench(args)
    info = machine()
    if busy_note(info):
        bench.notes.append(busy_note(info))
    rows = []
    targets = [("(a) sweep vs bare runs", "a", bench.target_sweep),
               ("(b) early termination", "b", bench.target_termination)]
    try:
        bench.setup()
        if args.only != "b":
            bench.warm_up()
        for title, key, function in targets:
            if args.only and args.only != key:
                continue
            log(title)
            try:
                rows += function()
            except Exception as err:
                log(f"{title}: ERROR: {err}")
                if not isinstance(err, BenchError):
                    traceback.print_exc()
                rows.append(error_row(title, err))
    except Exception as err:
        log(f"ERROR: {err}")
        if not isinstance(err, BenchError):
            traceback.print_exc()
        rows.append(error_row("setup", err))
    finally:
        bench.cleanup()

    info["load_average_at_end"] = load_average()
    parts = ["# HyperDrive sweeps (benchmarks/sweep_bench.py)", "", *machine_lines(info),
             f"- {'quick' if args.quick else 'full'} mode, repeat {bench.repeat}", "", targets_table(rows)]
    samples = getattr(bench, "termination_samples", None)
    if samples:
        parts += ["", "## (b) each canceled child", "", markdown_table(
            ("child", "quality", "condemned at interval", "reports logged", "-> CancelRequested", "-> Canceled"),
            [(s["child"], s["quality"], s["interval"], s["reports_logged"],
              "-" if s["to_cancel_requested"] is None else seconds(s["to_cancel_requested"]),
              seconds(s["to_canceled"])) for s in samples])]
    parts += ["", "## Notes", "", *[f"- {note}" for note in bench.notes], ""]
    text = "\n".join(parts)
    print(text)
    write_results("sweep", text, {"machine": info, "repeat": bench.repeat, "targets": rows_json(rows),
                                  "notes": bench.notes})
    return 1 if any(row.passed is None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
