"""amlocal performance targets, each measured side by side with a bare or peer figure in the same run.

    .venv/bin/python benchmarks/run_benchmarks.py [--repeat N] [--quick] [--keep]

    AMLOCAL_BASE_IMAGE   the base image (default amlocal-base:bookworm); nothing is pulled

Targets (goal in brackets):

1. warm iris flow, in process: exp.submit + run.wait_for_completion + run.register_model, vs a
   bare ``docker run --rm`` of the same script in the same environment (the base image with the
   environment's directory mounted read-only, as amlocal runs it), with the container
   posture amlocal gives a job (``common.BarePeer``: non-root user, no capabilities,
   no-new-privileges, pids, memory and CPU limits, stderr joined to stdout)    [ratio <= 1.2]
2. Preparing on an environment-cache hit: from Preparing (statusTimeline) to the creation of the
   job's container (docker events); with a free node Preparing lasts until Running, recorded
   once the engine has created and started the container, as the bare run's engine does too
                                                                                  [<= 0.1 s]
3. cold Preparing vs a plain ``docker build --no-cache`` of the same packages:
   (a) environment absent, wheel cache and bytecode store warm [ratio <= 0.35]; (b) all cold (reported);
   Preparing measured as in target 2; benchmarks/cold_build.py measures the same build alone,
   with and without uv, and the process backend
4. register a model [<= 5 ms], Model.list of 1,000 versions [<= 10 ms], ``amlocal model list``
   as a new process [<= 0.3 s]; MLflow's figures are quoted from docker-floors.md, not re-measured
5. 10 runs on a max_nodes=4 target vs ten bare ``docker run``s, 4 at a time       [ratio <= 1.15]
6. peak RSS of the process following a run with show_output=True                  [< 100 MB]

Run history goes to a temporary AMLOCAL_HOME (deleted at the end unless --keep); the environment
cache stays the user's (AMLOCAL_CACHE, or ~/.amlocal/cache), except for target 3(b), which uses
an empty one. Environments are built from ``amlocal-bench/base:<name>``, a copy of the base image
that differs only by a label: same filesystem, another image id, hence its own environment key,
which target 3 can remove without touching environments other work relies on.

Statuses follow Azure ML's documented order (NotStarted, Starting, Preparing, Queued, Running,
Finalizing), and so does the breakdown of a warm run's time.

Prints the machine and a markdown table; writes results/latest.json and results/latest.md.
Exits 0 when every target was measured (whether or not it met its goal), 1 when one could not be.
"""

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from amlocal.core import Experiment, Model, Workspace
from amlocal.local import LocalBackend, download_wheels, pip_settings, remote_index_settings
from amlocal.specs import EnvironmentSpec
from amlocal.train.sklearn import SKLearn

from common import (BARE_LABEL, DEFAULT_BASE_IMAGE, IRIS_DATA, REPO, TRAIN_SCRIPT, BarePeer, BenchError, CpuSampler,
                    DockerEvents, ProcessFinder, Row, busy_note, check_completed, compute_target, cpu_seconds,
                    error_row, load_average, log, machine, machine_lines, markdown_table, median, millis,
                    paired_ratio, ratio_text, rows_json, rss_kb, seconds, settle, sh, summary, targets_table, timed,
                    timeline, use_temporary_home, write_project, write_results)

PLAIN_BUILD_TAG = "amlocal-bench/plain-build:latest"
WORKSPACE_NAME = "bench-workspace"
EXPERIMENT = "sklearn-iris"
CLUSTER = "cpu-cluster"
MODEL_VERSIONS = 1000
CONCURRENT_RUNS, CONCURRENCY = 10, 4
MLFLOW_REGISTER_MS, MLFLOW_LIST_MS = 15, 28  # docker-floors.md, measured there, quoted here
SCRIPT_ARGS = ["--kernel", "linear", "--penalty", "1.0"]


def children_cpu_seconds():
    """CPU time of this process's finished (waited-for) children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the benchmark ------------------------------------------------------------------------------

class Bench:
    """A temporary workspace with the iris project, and the runs both sides of a target need."""

    def __init__(self, args):
        self.args = args
        self.repeat = args.repeat or (3 if args.quick else 7)
        self.builds = 1 if args.quick else 3    # target 3: cold builds of each kind
        self.batches = 1 if args.quick else 5   # target 5: batches of ten runs
        self.base_image = os.environ.get("AMLOCAL_BASE_IMAGE") or DEFAULT_BASE_IMAGE
        self.root = Path(tempfile.mkdtemp(prefix="amlocal-bench-"))
        self.project = self.root / "project"
        self.scratch = self.root / "scratch"
        self.notes = []
        self.image = None  # the image the iris environment's containers start from
        self.environment_key = None  # the iris environment's key (its mounted directory's name)

    # -- setup ------------------------------------------------------------------------------
    def setup(self):
        use_temporary_home(self.root, self.base_image)
        write_project(self.project, WORKSPACE_NAME)
        self.scratch.mkdir()
        os.chdir(self.project)
        self.ws, self.exp, self.estimator = open_project(upload=True)
        log(f"workspace in {self.root}; base image {self.base_image} as {os.environ['AMLOCAL_BASE_IMAGE']}")

    def warm_up(self):
        """One amlocal run (builds the environment if needed) and one bare run."""
        log("warm-up: one amlocal run (builds the environment on first use) and one bare run")
        sample = self.amlocal_run(register=False)
        from amlocal_docker.engine import connect_api
        from amlocal_docker.image import EnvironmentImage  # cache hit: returns the tag at once

        self.environment = EnvironmentSpec.from_dict(self.ws.run_history.get_run(sample["run_id"])["environment"])
        prepared = EnvironmentImage(self.environment, connect_api()).prepare(io.StringIO())
        self.image, self.environment_key = prepared["image"], prepared["key"]
        self.bare = BarePeer(prepared, self.scratch)
        self.bare_run()
        self.notes.append(f"The bare peer is `{self.bare.describe()} -v WORKDIR:/wd -w /wd -v DATA:/data:ro IMAGE "
                          "/bin/sh -c 'exec \"$@\" 2>&1' sh PYTHON train_iris.py ...`: the posture amlocal's docker "
                          "backend gives a job on a STANDARD_D2_V2 node.")
        log(f"environment {self.environment_key} on image {self.image}")

    # -- one run each side ---------------------------------------------------------------------
    def amlocal_run(self, register=True):
        """submit -> wait_for_completion -> register_model, timed; with the run's statusTimeline."""
        started, wall_started = time.perf_counter(), time.time()
        run = self.exp.submit(self.estimator)
        submitted, wall_submitted = time.perf_counter(), time.time()
        details = run.wait_for_completion(raise_on_error=False)
        waited, wall_waited = time.perf_counter(), time.time()
        check_completed(run, details)
        if register:
            run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
        done = time.perf_counter()
        return {"run_id": run.id, "total": done - started, "submit": submitted - started,
                "wait": waited - submitted, "register": done - waited, "wall_started": wall_started,
                "wall_submitted": wall_submitted, "wall_waited": wall_waited, "timeline": timeline(details)}

    def bare_run(self, label=None):
        """``docker run --rm`` of train_iris.py in the environment image, with a job's posture."""
        return self.bare.run(label or "warm-up", [TRAIN_SCRIPT], "train_iris.py",
                             [*SCRIPT_ARGS, "--data-folder", "/data"], data=IRIS_DATA, expect="outputs/model.joblib")

    # -- targets -----------------------------------------------------------------------------
    def target_warm_flow(self):
        """Targets 1 and 2: N warm runs, interleaved with N bare runs."""
        ours, bare = [], []
        with DockerEvents() as events:
            for index in range(self.repeat):
                label = f"t1-{index}-{uuid.uuid4().hex[:6]}"
                bare.append(self.bare_run(label) | {"label": label})
                ours.append(self.amlocal_run())
                log(f"  run {index + 1}/{self.repeat}: amlocal {seconds(ours[-1]['total'])}, "
                    f"bare {seconds(bare[-1]['total'])}")
        for sample in ours:
            sample["container"] = events.times("amlocal.run_id", sample["run_id"])
        for sample in bare:
            sample["container"] = events.times(BARE_LABEL, sample["label"])
        self.warm_samples, self.bare_samples = ours, bare

        amlocal_s, bare_s = median([s["total"] for s in ours]), median([s["total"] for s in bare])
        ratio = paired_ratio([s["total"] for s in ours], [s["total"] for s in bare])
        flow = Row("1. warm submit -> Completed -> registered (median of %d)" % self.repeat, seconds(amlocal_s),
                   f"{seconds(bare_s)} (bare docker run)", ratio_text(ratio, 1.2), "<= 1.2", ratio <= 1.2,
                   {"amlocal_s": summary([s["total"] for s in ours]), "bare_s": summary([s["total"] for s in bare]),
                    "ratio": ratio, "ratio_of_medians": amlocal_s / bare_s})
        # With a free node Preparing lasts until Running, which is recorded once the container has
        # started: the engine's create and start are the bare run's costs too, so Preparing's own
        # work is measured up to the creation of the job's container.
        preparing = [s["container"]["create"] - s["timeline"]["Preparing"] for s in ours
                     if "create" in s["container"] and "Preparing" in s["timeline"]]
        if not preparing:
            raise BenchError("no container create event was seen for the target-1 runs (docker events)")
        prep = Row("2. Preparing on a cache hit, up to the job's container created (median; max %s)"
                   % millis(max(preparing)), millis(median(preparing)), "-", "-", "<= 0.1 s",
                   median(preparing) <= 0.1, {"preparing_s": summary(preparing)})
        return [flow, prep]

    def target_cold_preparing(self):
        """Target 3: cold Preparing, (a) wheels warm and (b) all cold, vs docker build --no-cache."""
        pip_packages = list(self.environment.pip_packages)
        context = self.plain_build_context(pip_packages)
        download_s = self.prime_wheel_cache(pip_packages)
        plain, warm_wheels, cold = [], [], []
        with DockerEvents() as events:
            for index in range(self.builds):
                plain.append(self.plain_build(context))
                warm_wheels.append(self.cold_preparing())
                with self.fresh_cache():
                    cold.append(self.cold_preparing())
                log(f"  round {index + 1}/{self.builds}: docker build {seconds(plain[-1])}; amlocal runs "
                    f"{warm_wheels[-1]['run_id']} (a), {cold[-1]['run_id']} (b)")
        key = self.environment_key
        for sample in warm_wheels + cold:
            created = events.times("amlocal.run_id", sample["run_id"]).get("create")
            if created is None:
                raise BenchError(f"no container create event was seen for run {sample['run_id']} (docker events)")
            sample["end"], sample["preparing"] = created, created - sample["start"]
            sample["phases"] = build_phases(sample, events.times("amlocal.build", key, sample["start"], sample["end"]))
        self.build_breakdown = {"(a) wheel cache + bytecode store warm": warm_wheels, "(b) all cold": cold}
        self.notes.append(f"Target 3: `pip download` of {' '.join(pip_packages)} into a wheel cache that already "
                          f"holds them takes {seconds(download_s)} on the host (it still asks the index).")
        a_s, b_s = [s["preparing"] for s in warm_wheels], [s["preparing"] for s in cold]
        a_ratio, b_ratio = paired_ratio(a_s, plain), paired_ratio(b_s, plain)
        peer = f"{seconds(median(plain))} (docker build --no-cache)"
        return [
            Row(f"3a. cold Preparing, wheel cache + bytecode store warm (median of {self.builds})", seconds(median(a_s)), peer,
                ratio_text(a_ratio, 0.35), "<= 0.35", a_ratio <= 0.35,
                {"amlocal_s": summary(a_s), "docker_build_s": summary(plain), "ratio": a_ratio,
                 "runs": warm_wheels}),
            Row(f"3b. cold Preparing, wheel cache cold too (median of {self.builds})", seconds(median(b_s)), peer,
                ratio_text(b_ratio), "-", True,
                {"amlocal_s": summary(b_s), "docker_build_s": summary(plain), "ratio": b_ratio, "runs": cold},
                graded=False),
        ]

    def plain_build_context(self, pip_packages):
        settings = pip_settings()
        cert = settings.get("cert") or "/etc/ssl/certs/ca-certificates.crt"
        context = self.root / "plain-build"
        context.mkdir()
        shutil.copy(cert, context / "ca.crt")
        remote = remote_index_settings(settings)
        index = "".join(f"{name}={json.dumps(value)} " for name, value in (
            ("PIP_INDEX_URL", remote["index_url"]), ("PIP_EXTRA_INDEX_URL", " ".join(remote["extra_index_urls"])),
            ("PIP_TRUSTED_HOST", " ".join(remote["trusted_hosts"]))) if value)
        (context / "Dockerfile").write_text(
            f"FROM {os.environ['AMLOCAL_BASE_IMAGE']}\n"
            "COPY ca.crt /tmp/ca.crt\n"
            f"RUN python3 -m venv /opt/venv && PIP_CERT=/tmp/ca.crt {index}/opt/venv/bin/pip install "
            f"{' '.join(pip_packages)}\n")
        return context

    def plain_build(self, context):
        elapsed, _ = timed(sh, ["docker", "build", "--no-cache", "-q", "-t", PLAIN_BUILD_TAG, str(context)],
                           env={**os.environ, "DOCKER_BUILDKIT": "0"})
        sh(["docker", "rmi", PLAIN_BUILD_TAG])
        return elapsed

    def prime_wheel_cache(self, pip_packages):
        """Make sure the shared wheel cache holds the wheels (3a measures a warm one)."""
        python = sh(["docker", "run", "--rm", os.environ["AMLOCAL_BASE_IMAGE"], "python3", "-c",
                     "import sys; print('%d.%d' % sys.version_info[:2])"])
        buffer = io.StringIO()
        download_wheels(pip_packages, None, python, buffer)  # fills the cache
        elapsed, (_, ok) = timed(download_wheels, pip_packages, None, python, buffer)  # a warm one
        if not ok:
            raise BenchError(f"pip download into the wheel cache failed:\n{buffer.getvalue()[-3000:]}")
        return elapsed

    @contextlib.contextmanager
    def fresh_cache(self):
        previous = os.environ.get("AMLOCAL_CACHE")
        os.environ["AMLOCAL_CACHE"] = tempfile.mkdtemp(dir=self.root, prefix="cold-cache-")
        try:
            yield
        finally:
            shutil.rmtree(os.environ["AMLOCAL_CACHE"], ignore_errors=True)
            os.environ["AMLOCAL_CACHE"] = previous

    def cold_preparing(self):
        """Remove the environment, run the flow once. Its Preparing ends when the job's
        container is created (``target_cold_preparing`` reads that from docker events)."""
        self.remove_environment()
        sample = self.amlocal_run(register=False)
        return {"run_id": sample["run_id"], "start": sample["timeline"]["Preparing"]}

    def remove_environment(self):
        from amlocal_docker.image import remove_environment

        remove_environment(self.environment_key)  # a running container keeps its mount; the next run builds

    def target_registry(self):
        """Target 4: register, list 1,000 versions, `amlocal model list` as a new process."""
        model_file = self.root / "model.pkl"
        model_file.write_bytes(os.urandom(4096))
        registering = []
        with contextlib.redirect_stdout(io.StringIO()):  # Model.register prints a line per call
            for _ in range(MODEL_VERSIONS):
                elapsed, _ = timed(Model.register, self.ws, str(model_file), "bench-model")
                registering.append(elapsed)
        listing = []
        for _ in range(30):
            elapsed, models = timed(Model.list, self.ws, name="bench-model")
            if len(models) != MODEL_VERSIONS:
                raise BenchError(f"Model.list gave {len(models)} versions, not {MODEL_VERSIONS}")
            listing.append(elapsed)
        command, how = self.model_list_command()
        cli = [timed(sh, command, cwd=self.project)[0] for _ in range(self.repeat + 3)]
        startup = [timed(sh, [sys.executable, "-c", "pass"])[0] for _ in range(5)]
        self.notes.append(f"`{how}` lists every model ({MODEL_VERSIONS} + the iris versions); a bare "
                          f"`python -c pass` takes {millis(median(startup))} here.")
        reg, lst, cli_s = median(registering), median(listing), median(cli)
        quoted = "(MLflow, quoted from docker-floors.md, not re-measured)"
        return [
            Row(f"4. register a model (median of {MODEL_VERSIONS}; p90 "
                f"{millis(statistics.quantiles(registering, n=10)[-1])})", millis(reg),
                f"{MLFLOW_REGISTER_MS} ms {quoted}", f"{reg * 1000 / MLFLOW_REGISTER_MS:.2f}", "<= 5 ms",
                reg <= 0.005, {"register_s": summary(registering)}),
            Row(f"4. Model.list of {MODEL_VERSIONS} versions (median of {len(listing)})", millis(lst),
                f"{MLFLOW_LIST_MS} ms {quoted}", f"{lst * 1000 / MLFLOW_LIST_MS:.2f}", "<= 10 ms", lst <= 0.010,
                {"list_s": summary(listing)}),
            Row(f"4. `{how}` as a new process (median of {len(cli)})", millis(cli_s), "-", "-", "<= 0.3 s",
                cli_s <= 0.3, {"cli_s": summary(cli), "command": command,
                               "python_startup_s": summary(startup)}),
        ]

    def model_list_command(self):
        cli = Path(sys.executable).parent / "amlocal"
        if cli.exists() and subprocess.run([str(cli), "model", "list"], cwd=self.project, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL).returncode == 0:
            return [str(cli), "model", "list"], "amlocal model list"
        self.notes.append("The `amlocal model list` CLI is missing or failed here: target 4 timed "
                          "`python -c \"...Model.list(Workspace.from_config())\"` instead.")
        code = "from amlocal.core import Workspace, Model; Model.list(Workspace.from_config())"
        return [sys.executable, "-c", code], "python -c Model.list (CLI fallback)"

    def target_concurrent(self):
        """Target 5: ten runs on max_nodes=4 (submit all, then wait all) vs ten bare runs, 4 at a time."""
        ours, bare, queued, jobs, bare_jobs, cpu, handover = [], [], [], [], [], [], []
        for index in range(self.batches):
            with DockerEvents() as events:
                children_cpu = children_cpu_seconds()
                elapsed, labels = timed(self.bare_batch, index)
                bare.append(elapsed)
                cli_cpu = children_cpu_seconds() - children_cpu
                own_cpu = time.process_time()
                with CpuSampler(self.ws.stores.layout.root) as supervisors:
                    elapsed, timelines = timed(self.amlocal_batch)
                    own_cpu = time.process_time() - own_cpu
                    settle(supervisors.pids)  # after the timing: they remove their containers
                ours.append(elapsed)
                cpu.append({"docker CLIs (bare)": cli_cpu, "supervisors and dispatcher": supervisors.total(),
                            "submitting process": own_cpu})
            for run_id, when in timelines.items():
                # Queued only when no node was free after Preparing; it then waits until Running
                queued.append(when["Running"] - when["Queued"] if "Queued" in when else 0.0)
                container = events.times("amlocal.run_id", run_id)
                if "start" in container and "die" in container:
                    jobs.append(container["die"] - container["start"])
                if "Queued" in when and "create" in container:
                    # the node it got was freed by the last run that ended before its container came
                    freed = [t["Completed"] for t in timelines.values()
                             if t.get("Completed", float("inf")) <= container["create"]]
                    if freed:
                        handover.append(container["create"] - max(freed))
            for label in labels:
                container = events.times(BARE_LABEL, label)
                if "start" in container and "die" in container:
                    bare_jobs.append(container["die"] - container["start"])
            log(f"  batch {index + 1}/{self.batches}: amlocal {seconds(ours[-1])}, bare {seconds(bare[-1])}")
        self.notes.append(
            f"Target 5: one job's container runs {seconds(median(jobs))} from start to exit under amlocal and "
            f"{seconds(median(bare_jobs))} bare (medians, 10 jobs at 4 at a time on {len(os.sched_getaffinity(0))} "
            f"CPUs); {sum(1 for q in queued if q > 0)} of {len(queued)} amlocal runs waited Queued for a node, "
            f"{seconds(median(queued))} median over all runs (max {seconds(max(queued))}), from Queued to Running; "
            f"from a node freed (the last Completed before) to a queued run's container created: "
            f"{millis(median(handover))} median, {millis(max(handover, default=float('nan')))} max "
            "(the supervisor whose run freed the node goes on with the oldest queued run: Starting and Preparing again, a cache hit). "
            "Host CPU per batch of ten (median): amlocal supervisors and dispatcher "
            f"{seconds(median([c['supervisors and dispatcher'] for c in cpu]))} (at least: sampled every "
            f"20 ms), the submitting and waiting process {seconds(median([c['submitting process'] for c in cpu]))}; "
            f"bare: the docker CLIs {seconds(median([c['docker CLIs (bare)'] for c in cpu]))}.")
        amlocal_s, bare_s, ratio = median(ours), median(bare), paired_ratio(ours, bare)
        return [Row(f"5. {CONCURRENT_RUNS} runs, max_nodes={CONCURRENCY} (median of {self.batches})",
                    seconds(amlocal_s), f"{seconds(bare_s)} ({CONCURRENT_RUNS} bare docker runs, {CONCURRENCY} at a "
                    "time)", ratio_text(ratio, 1.15), "<= 1.15", ratio <= 1.15,
                    {"amlocal_s": summary(ours), "bare_s": summary(bare), "ratio": ratio,
                     "ratio_of_medians": amlocal_s / bare_s,
                     "container_job_s": {"amlocal": summary(jobs), "bare": summary(bare_jobs)},
                     "queued_s": summary(queued), "node_handover_s": summary(handover), "host_cpu_s": cpu})]

    def amlocal_batch(self):
        """Submit ten, then wait for each; {run id: its timeline}."""
        runs = [self.exp.submit(self.estimator) for _ in range(CONCURRENT_RUNS)]
        timelines = {}
        for run in runs:
            details = run.wait_for_completion(raise_on_error=False)
            check_completed(run, details)
            timelines[run.id] = timeline(details)
        return timelines

    def bare_batch(self, batch):
        labels = [f"t5-{batch}-{i}-{uuid.uuid4().hex[:6]}" for i in range(CONCURRENT_RUNS)]
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(self.bare_run, labels))
        return labels

    def target_rss(self):
        """Target 6: a new process submits the run and follows it (show_output to /dev/null)."""
        output = sh([sys.executable, str(Path(__file__).resolve()), "--follow-child"], cwd=self.project)
        result = json.loads(output.splitlines()[-1])
        if result.get("error"):
            raise BenchError(result["error"])
        peak_mb = result["peak_kb"] / 1024
        mb = {key: result[key] / 1024 for key in ("start_kb", "ready_kb", "submitted_kb", "supervisor_peak_kb")}
        self.notes.append(
            f"Target 6: the following process holds {mb['start_kb']:.1f} MB with amlocal.core imported, "
            f"{mb['ready_kb']:.1f} MB with the workspace open and {mb['submitted_kb']:.1f} MB after its first "
            f"exp.submit, which took {millis(result['first_submit_s'])} (it pings the engine). The run's "
            f"supervisor process peaked at {mb['supervisor_peak_kb']:.1f} MB RSS and used at least "
            f"{millis(result['supervisor_cpu_s'])} of CPU (not part of the goal).")
        return [Row("6. RSS of the process following a run (max, sampled every 20 ms)", f"{peak_mb:.1f} MB", "-",
                    "-", "< 100 MB", peak_mb < 100, result)]

    # -- where the warm run's time goes ---------------------------------------------------------
    def breakdown(self):
        """Median time per phase of the target-1 runs, from statusTimeline and docker events."""
        def phase(samples, start, end):
            values = [end(s) - start(s) for s in samples if _has(s, start) and _has(s, end)]
            return median(values) if values else None

        status = lambda name: lambda s: s["timeline"][name]  # noqa: E731
        event = lambda name: lambda s: s["container"][name]  # noqa: E731
        ours = self.warm_samples
        rows = [
            ("submit() returns (ping engine, history row, snapshot, spawn supervisor)",
             phase(ours, lambda s: s["wall_started"], lambda s: s["wall_submitted"])),
            ("submit() returned -> Starting (supervisor: interpreter, imports, workspace, engine client)",
             phase(ours, lambda s: s["wall_submitted"], status("Starting"))),
            ("Starting -> Preparing", phase(ours, status("Starting"), status("Preparing"))),
            ("Preparing -> container created (environment cache hit, node claimed, work dir, create)",
             phase(ours, status("Preparing"), event("create"))),
            ("Queued -> Running (waiting for a node; '-': no run had to)", phase(ours, status("Queued"),
                                                                                status("Running"))),
            ("container created -> started", phase(ours, event("create"), event("start"))),
            ("container started -> Running recorded", phase(ours, event("start"), status("Running"))),
            ("Running -> container died (the job)", phase(ours, status("Running"), event("die"))),
            ("container start -> die (whole job in the container)", phase(ours, event("start"), event("die"))),
            ("container died -> Finalizing (exit noticed, log pump joined)",
             phase(ours, event("die"), status("Finalizing"))),
            ("Finalizing -> Completed (outputs into history)", phase(ours, status("Finalizing"), status("Completed"))),
            ("Completed -> wait_for_completion returns (polling)",
             phase(ours, status("Completed"), lambda s: s["wall_waited"])),
            ("register_model", median([s["register"] for s in ours])),
            ("total", median([s["total"] for s in ours])),
        ]
        bare = self.bare_samples
        bare_rows = [
            ("docker CLI -> container created", phase(bare, lambda s: s["wall_started"], event("create"))),
            ("container created -> started", phase(bare, event("create"), event("start"))),
            ("container start -> die (whole job in the container)", phase(bare, event("start"), event("die"))),
            ("container died -> removed", phase(bare, event("die"), event("destroy"))),
            ("removed -> docker CLI exits", phase(bare, event("destroy"), lambda s: s["wall_ended"])),
            ("total", median([s["total"] for s in bare])),
        ]
        return {"amlocal": rows, "bare": bare_rows,
                "constants": {"wait_for_completion poll interval": LocalBackend.poll_interval,
                              "supervisor follow interval": 0.1}}

    def import_costs(self):
        """What starting a supervisor costs before it does anything (new processes, median of 5)."""
        def cost(code):
            return median([timed(sh, [sys.executable, "-c", code])[0] for _ in range(5)])

        base = cost("pass")
        return {"python -c pass": base,
                "+ import amlocal._local.supervisor": cost("import amlocal._local.supervisor") - base,
                "+ import the docker backend": cost("import amlocal._local.supervisor, amlocal_docker.docker_backend")
                - base}

    def cleanup(self):
        os.chdir(REPO)
        if self.args.keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def _has(sample, getter):
    try:
        getter(sample)
        return True
    except KeyError:
        return False


def build_phases(sample, container):
    """Where a cold Preparing goes, from the build container's events."""
    def between(start, end):
        return end - start if start is not None and end is not None else None

    start, end = sample["start"], sample["end"]
    return {
        "host: pip download, base image probe": between(start, container.get("create")),
        "build container create -> start": between(container.get("create"), container.get("start")),
        "in container: venv, install, bytecode": between(container.get("start"), container.get("die")),
        "build ended -> job container created": between(container.get("die"), end),
    }


def open_project(upload=False):
    """The iris flow of examples/iris/train_and_register.py, from the current directory."""
    ws = Workspace.from_config()
    ds = ws.get_default_datastore()
    if upload:
        ds.upload(src_dir=str(IRIS_DATA), target_path="iris", overwrite=True, show_progress=False)
    target = compute_target(ws, CLUSTER, CONCURRENCY)
    params = {"--kernel": "linear", "--penalty": 1.0, "--data-folder": ds.path("iris").as_mount()}
    estimator = SKLearn(source_directory="src", script_params=params, compute_target=target,
                        entry_script="train_iris.py", pip_packages=["joblib"])
    return ws, Experiment(workspace=ws, name=EXPERIMENT), estimator


def follow_child():
    """Target 6, in its own process: submit, follow with show_output, report peak RSS (JSON)."""
    start_kb = rss_kb()
    ws, exp, estimator = open_project()
    ready_kb = rss_kb()
    peaks = {"self": ready_kb, "supervisor": 0, "supervisor_cpu": {}}
    supervisor = {}
    finder = ProcessFinder(ws.stores.layout.root)
    stop = threading.Event()

    def sample():
        tick = 0
        while not stop.is_set():
            peaks["self"] = max(peaks["self"], rss_kb())
            if supervisor.get("run_id") and tick % 5 == 0:  # the run's supervisors (a new one after Queued)
                supervisor["pids"] = [pid for pid, (role, run_id) in finder.scan().items()
                                      if role == "supervisor" and run_id == supervisor["run_id"]]
            for pid in supervisor.get("pids", ()):
                peaks["supervisor"] = max(peaks["supervisor"], rss_kb(pid))
                peaks["supervisor_cpu"][pid] = max(peaks["supervisor_cpu"].get(pid, 0.0), cpu_seconds(pid))
            tick += 1
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = {"start_kb": start_kb, "ready_kb": ready_kb}
    try:
        result["first_submit_s"], run = timed(exp.submit, estimator)
        result["submitted_kb"] = rss_kb()
        supervisor["run_id"] = run.id
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            details = run.wait_for_completion(show_output=True, raise_on_error=False)
        check_completed(run, details)
        result["run_id"] = run.id
    except Exception as err:
        result["error"] = f"{type(err).__name__}: {err}"
    finally:
        stop.set()
        sampler.join()
    result.update(peak_kb=peaks["self"], supervisor_peak_kb=peaks["supervisor"],
                  supervisor_cpu_s=sum(peaks["supervisor_cpu"].values()))
    print(json.dumps(result))


# -- reporting ----------------------------------------------------------------------------------

def report(info, rows, breakdown, build_breakdown, imports, notes, args, repeat):
    mode = "quick" if args.quick else "full"
    parts = [
        "# amlocal benchmarks",
        "",
        *machine_lines(info),
        f"- {mode} mode, repeat {repeat}",
        "",
        targets_table(rows),
        "",
        "Figures are medians. The ratios of targets 1, 3 and 5 are medians of per-pair ratios (each amlocal "
        "measurement over the bare/peer one made just before it), so they can differ from the quotient of the "
        "two medians; target 4's ratios are over MLflow's quoted figures.",
    ]
    if breakdown:
        fmt = lambda v: "-" if v is None else millis(v)  # noqa: E731
        parts += ["", "## Where a warm run's time goes (target 1, medians)", "",
                  markdown_table(("amlocal phase", "time"), [(name, fmt(v)) for name, v in breakdown["amlocal"]]),
                  "", markdown_table(("bare docker run phase", "time"),
                                     [(name, fmt(v)) for name, v in breakdown["bare"]]),
                  "", "Polling: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in breakdown["constants"].items())
                  + ". The control log (60_control_log.txt) stamps whole seconds, so phases come from "
                    "statusTimeline and `docker events`."]
    if build_breakdown:
        names = list(next(iter(build_breakdown.values()))[0]["phases"])
        columns = list(build_breakdown)
        table = []
        for name in names:
            cells = []
            for column in columns:
                values = [s["phases"][name] for s in build_breakdown[column] if s["phases"][name] is not None]
                cells.append(seconds(median(values)) if values else "-")
            table.append((name, *cells))
        table.append(("Preparing -> job container created",
                      *(seconds(median([s["preparing"] for s in build_breakdown[c]])) for c in columns)))
        parts += ["", "## Where a cold Preparing goes (target 3, medians)", "",
                  markdown_table(("phase", *columns), table)]
    if imports:
        parts += ["", "Supervisor start-up costs (new processes, median of 5): " +
                  ", ".join(f"{k} {millis(v)}" for k, v in imports.items()) + "."]
    if notes:
        parts += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, help="runs per side for target 1 (default 7, 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a fast check")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    parser.add_argument("--only", metavar="N,N", help="run only these targets (1 runs targets 1 and 2), e.g. 1,5")
    parser.add_argument("--follow-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.follow_child:
        return follow_child()

    bench = Bench(args)
    info = machine()
    if busy_note(info):
        bench.notes.append(busy_note(info))
    rows, breakdown, imports = [], None, None
    targets = [  # target 3 last: it removes and rebuilds the environment
        ("targets 1-2: warm flow", bench.target_warm_flow, ["1. warm flow", "2. Preparing on a cache hit"]),
        ("target 4: model registry", bench.target_registry, ["4. model registry"]),
        ("target 5: concurrent runs", bench.target_concurrent, ["5. concurrent runs"]),
        ("target 6: RSS while following", bench.target_rss, ["6. RSS while following"]),
        ("target 3: cold Preparing", bench.target_cold_preparing, ["3. cold Preparing"]),
    ]
    if args.only:
        wanted = {part.strip() for part in args.only.split(",")}
        targets = [target for target in targets if target[0].split()[1].split("-")[0].rstrip(":") in wanted]
    try:
        bench.setup()
        bench.warm_up()
        for title, function, names in targets:
            log(title)
            try:
                rows += function()
            except Exception as err:
                log(f"{title}: ERROR: {err}")
                if not isinstance(err, BenchError):
                    traceback.print_exc()
                rows += [error_row(name, err) for name in names]
        if getattr(bench, "warm_samples", None):
            breakdown = bench.breakdown()
        imports = bench.import_costs()
    except Exception as err:
        log(f"ERROR: {err}")
        if not isinstance(err, BenchError):
            traceback.print_exc()
        rows.append(error_row("setup", err))
    finally:
        bench.cleanup()

    rows.sort(key=lambda row: row.target[:1])  # stable: 3a before 3b
    build_breakdown = getattr(bench, "build_breakdown", None)
    info["load_average_at_end"] = load_average()
    text = report(info, rows, breakdown, build_breakdown, imports, bench.notes, args, bench.repeat)
    print(text)
    write_results("latest", text, {
        "machine": info, "mode": "quick" if args.quick else "full", "repeat": bench.repeat,
        "base_image": bench.base_image, "environment_image": bench.image, "targets": rows_json(rows),
        "breakdown": breakdown, "build_breakdown": build_breakdown, "supervisor_import_costs": imports,
        "notes": bench.notes,
    })
    return 1 if any(row.passed is None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
