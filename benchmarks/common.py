"""What the benchmark scripts share: small statistics, the machine they ran on, the bare
``docker run`` peer with the container posture amlocal gives a job, the iris project, the
processes of a workspace, container events, and writing results.

The peer's posture is read from the same rules the docker backend applies
(``amlocal_docker.docker_backend.job_user``, ``amlocal._local.resources``), so a change there
changes both sides of a comparison.
"""

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS_DIR = HERE / "results"
TRAIN_SCRIPT = REPO / "train_iris.py"
IRIS_DATA = REPO / "examples" / "iris" / "data" / "iris"
DEFAULT_BASE_IMAGE = "amlocal-base:bookworm"
BENCH_BASE_REPOSITORY = "amlocal-bench/base"
#: the label of a bare container (its value names the sample)
BARE_LABEL = "amlocal.bench.bare"
#: the VM size of the benchmarks' compute targets (its CPU and memory limits apply to both sides)
VM_SIZE = "STANDARD_D2_V2"
SUPERVISOR_MODULE = "amlocal._local.supervisor"
DISPATCHER_MODULE = "amlocal._local.dispatcher"


class BenchError(Exception):
    """A measurement could not be made (a run failed, a docker command failed...)."""


@dataclass
class Row:
    target: str
    amlocal: str
    peer: str
    ratio: str
    goal: str
    passed: bool = None  # None: not measured
    data: dict = field(default_factory=dict)
    graded: bool = True  # False: reported without a goal

    @property
    def verdict(self):
        if not self.graded and self.passed is not None:
            return "(reported)"
        return {True: "pass", False: "FAIL", None: "ERROR"}[self.passed]


def error_row(target, err):
    return Row(target, f"ERROR: {str(err).splitlines()[0][:120] if str(err) else type(err).__name__}", "-", "-", "-",
               None, {"error": str(err)})


# -- small helpers ------------------------------------------------------------------------------

def log(message):
    print(message, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


def seconds(value):
    return f"{value:.2f} s"


def millis(value):
    return f"{value * 1000:.1f} ms"


def ratio_text(value, goal=None):
    """Two decimals; three when two would look like the goal itself (1.153 against 1.15)."""
    text = f"{value:.2f}"
    return f"{value:.3f}" if goal is not None and text == f"{goal:.2f}" else text


def paired_ratio(ours, theirs):
    """The median of ours[i] / theirs[i]: each pair was measured back to back, so a pair shares
    whatever else the machine was doing; robust to load that comes and goes."""
    return median([a / b for a, b in zip(ours, theirs)])


def summary(values):
    """Median, min, max and the samples, for the JSON results."""
    if not values:
        return {"median": None, "min": None, "max": None, "samples": []}
    return {"median": median(values), "min": min(values), "max": max(values), "samples": values}


def sh(command, check=True, **kwargs):
    """Run a command; BenchError with its output when it fails."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if check and result.returncode != 0:
        raise BenchError(f"`{' '.join(map(str, command))}` exited {result.returncode}:\n{result.stdout[-3000:]}")
    return result.stdout.strip()


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def wait_for(condition, timeout, what, interval=0.05):
    """Poll ``condition()`` until it returns something truthy (returned); BenchError after
    ``timeout`` seconds, naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


def timeline(details):
    """{status: epoch of its first occurrence} from get_details()["statusTimeline"]."""
    found = {}
    for status, when in details["statusTimeline"]:
        found.setdefault(status, when)
    return found


def check_completed(run, details):
    """BenchError naming the run, its status, error and log tail unless it Completed."""
    if details["status"] == "Completed":
        return
    error = details.get("error") or {}
    raise BenchError(f"run {run.id} ended {details['status']}: {error.get('message')}\n"
                     f"--- log tail ---\n{error.get('log_tail') or '(none)'}")


# -- processes ----------------------------------------------------------------------------------

def rss_kb(pid="self"):
    return memory_kb(pid)["rss"]


def memory_kb(pid):
    """{"rss", "pss"} of a process in kB (0 once it is gone). PSS shares each page among the
    processes that map it, so a sum of PSS counts a shared library once."""
    found = {"rss": 0, "pss": 0}
    for name, prefix, key in ((f"/proc/{pid}/status", "VmRSS:", "rss"), (f"/proc/{pid}/smaps_rollup", "Pss:", "pss")):
        try:
            with open(name) as lines:
                for line in lines:
                    if line.startswith(prefix):
                        found[key] = int(line.split()[1])
                        break
        except OSError:
            pass
    return found


def cpu_seconds(pid):
    """User + system CPU time used so far by process ``pid`` (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode(errors="replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


def amlocal_role(command, root):
    """("supervisor", run id) or ("dispatcher", None) when ``command`` is one of the processes
    amlocal starts for the workspace at ``root``; None otherwise. They run
    ``python -m amlocal._local.supervisor <root>/runs/<run id> ...`` and
    ``python -m amlocal._local.dispatcher <root>``."""
    root = str(root).rstrip("/")
    for index, part in enumerate(command[:-1]):
        if part != "-m":
            continue
        module, argument = command[index + 1], command[index + 2] if index + 2 < len(command) else ""
        if module == SUPERVISOR_MODULE and argument.startswith(root + "/runs/"):
            return "supervisor", argument[len(root + "/runs/"):].split("/")[0]
        if module == DISPATCHER_MODULE and argument.rstrip("/") == root:
            return "dispatcher", None
    return None


class ProcessFinder:
    """The amlocal processes (supervisors, dispatcher) of one workspace, found by their command
    line. Remembers what each pid was, so a scan reads only new pids' command lines; a process
    younger than ``SETTLED_SECONDS`` is read again at each scan, since between fork and exec it
    still shows its parent's command line (a supervisor's, for the dispatcher it starts)."""

    SETTLED_SECONDS = 2.0

    def __init__(self, root):
        self.root = Path(root).resolve()
        self._known = {}

    def scan(self):
        """{pid: (role, run id)} of the workspace's processes alive now."""
        pids = {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
        for pid in list(self._known):
            if pid not in pids:
                del self._known[pid]
        found = {}
        for pid in pids:
            if pid in self._known:
                found[pid] = self._known[pid]
                continue
            found[pid] = amlocal_role(command_line(pid), self.root)
            if _age(pid) > self.SETTLED_SECONDS:
                self._known[pid] = found[pid]
        return {pid: role for pid, role in found.items() if role is not None and _alive(pid)}


def _age(pid):
    """Seconds since process ``pid`` started (0 when unknown)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            started = int(stat.read().rpartition(")")[2].split()[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0]) - started
    except (OSError, IndexError, ValueError):
        return 0.0


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class Sampler:
    """A background thread calling ``sample()`` every ``interval`` seconds while the ``with``
    block runs."""

    interval = 0.1

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        raise NotImplementedError

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class CpuSampler(Sampler):
    """CPU seconds used by a workspace's amlocal processes: new ones found every 100 ms, their
    CPU time read every 20 ms until each exits (so at least what they used: the last 20 ms of
    a process may be missed)."""

    interval = 0.02

    def __init__(self, root):
        super().__init__()
        self.finder = ProcessFinder(root)
        self.used = {}
        self._tick = 0

    @property
    def pids(self):
        return list(self.used)

    def total(self):
        return sum(self.used.values())

    def sample(self):
        if self._tick % 5 == 0:
            for pid in self.finder.scan():
                self.used.setdefault(pid, 0.0)
        for pid in self.pids:
            self.used[pid] = max(self.used[pid], cpu_seconds(pid))
        self._tick += 1


def settle(pids, timeout=30):
    """Wait for these processes to end, then let ``subprocess`` reap those that were this
    process's children, so their CPU time is not counted in a later RUSAGE_CHILDREN."""
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    subprocess.run(["true"])  # creating a Popen reaps the finished ones


# -- the machine ---------------------------------------------------------------------------------

def machine():
    def cpu_model():
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        return platform.processor() or "unknown"

    with open("/proc/meminfo") as info:
        mem_kb = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    commit = sh(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], check=False)
    # results written by an earlier benchmark are not a change to what is measured
    dirty = sh(["git", "-C", str(REPO), "status", "--porcelain", "--", ".", ":!benchmarks/results"], check=False)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory": f"{mem_kb / (1 << 20):.1f} GiB",
        "cpu": cpu_model(),
        "docker": sh(["docker", "version", "--format", "{{.Server.Version}}"], check=False),
        "docker_info": sh(["docker", "info", "--format",
                           "{{.Driver}}, cgroup v{{.CgroupVersion}}, {{.NCPU}} CPUs"], check=False),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "user": f"uid {os.getuid()}" + (" (root: jobs run as 65534:65534)" if os.getuid() == 0 else ""),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": load_average(),
        "amlocal_commit": commit + (" (with local changes)" if dirty else ""),
    }


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def busy_note(info):
    """A note when other work was running at the start, or None."""
    if os.getloadavg()[0] <= info["nproc"] / 2:
        return None
    return (f"Other work was running (load average {info['load_average']} on {info['nproc']} CPUs at start): figures "
            "are noisier than on an idle machine; each ratio compares sides measured alternately in the same minutes.")


def machine_lines(info):
    return [
        f"- machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} memory, kernel {info['kernel']}; "
        f"{info['user']}",
        f"- Docker {info['docker']} ({info['docker_info']}); Python {info['python']}",
        f"- date {info['date']}; load average at start {info['load_average']}, at end "
        f"{info.get('load_average_at_end', '-')}",
        f"- amlocal {info['amlocal_commit']}",
    ]


# -- reporting ----------------------------------------------------------------------------------

def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def targets_table(rows):
    return markdown_table(("target", "amlocal figure", "bare/peer figure", "ratio", "goal", "pass/FAIL"),
                          [(r.target, r.amlocal, r.peer, r.ratio, r.goal, r.verdict) for r in rows])


def write_results(name, text, payload):
    """results/<name>.md and results/<name>.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.md").write_text(text)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")


def rows_json(rows):
    from dataclasses import asdict

    return [asdict(row) | {"verdict": row.verdict} for row in rows]


# -- images, the iris project, the bare peer ----------------------------------------------------

def bench_base_image(base_image):
    """A copy of ``base_image`` that differs only by a label: the same filesystem, another image
    id, hence its own ``amlocal/env`` tags, which a benchmark may remove without touching images
    other work relies on. Cached by Docker."""
    if subprocess.run(["docker", "image", "inspect", base_image], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        raise BenchError(f"Base image {base_image} is not on this machine (nothing can be pulled): "
                         "`make base-image` builds one, or set AMLOCAL_BASE_IMAGE.")
    tag = f"{BENCH_BASE_REPOSITORY}:{re.sub(r'[^A-Za-z0-9_.-]', '-', base_image)[:120]}"
    dockerfile = f"FROM {base_image}\nLABEL amlocal.benchmark.copy-of={json.dumps(base_image)}\n"
    sh(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return tag


def use_temporary_home(root, base_image):
    """Point amlocal at a workspace home under ``root`` and the label copy of ``base_image``;
    the environment cache stays the user's (AMLOCAL_CACHE, or ~/.amlocal/cache)."""
    from amlocal import _config

    os.environ.setdefault("AMLOCAL_CACHE", str(_config.cache_dir()))
    os.environ["AMLOCAL_HOME"] = str(Path(root) / "home")
    os.environ["AMLOCAL_BASE_IMAGE"] = bench_base_image(base_image)
    os.environ.pop("AMLOCAL_BACKEND", None)


def write_project(directory, workspace_name, backend="docker", scripts=(TRAIN_SCRIPT,)):
    """A user's project: config.json and ./src with the given scripts."""
    directory = Path(directory)
    (directory / "src").mkdir(parents=True, exist_ok=True)
    for script in scripts:
        shutil.copy(script, directory / "src")
    (directory / "config.json").write_text(json.dumps({
        "subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "amlocal-bench",
        "workspace_name": workspace_name, "backend": backend}))
    return directory


def compute_target(ws, name, max_nodes):
    from amlocal.core.compute import AmlCompute, ComputeTarget
    from amlocal.core.compute_target import ComputeTargetException

    try:
        return ComputeTarget(workspace=ws, name=name)
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size=VM_SIZE, max_nodes=max_nodes)
        return ComputeTarget.create(ws, name, config)


class BarePeer:
    """``docker run --rm`` of a script in an image, with the posture amlocal's docker backend
    gives a job on a ``VM_SIZE`` node (``docker_backend.launch``): the job's user (65534:65534
    when amlocal runs as root), every capability dropped, no-new-privileges, its pids limit, the
    VM size's memory (no swap) and CPU limits with the matching thread caps, HOME=/tmp,
    unbuffered output, the in-job ``azureml`` runtime on PYTHONPATH, stderr joined to stdout
    inside the container; the environment as amlocal prepared it (``prepared``: its image, and
    for a mounted environment its read-only mount and variables). The script's output is
    discarded (amlocal writes it to a log file)."""

    def __init__(self, prepared, scratch):
        from amlocal._local.resources import DEFAULT_PIDS_LIMIT, limits_for
        from amlocal.local import job_shim_dir
        from amlocal_docker.docker_backend import job_user

        self.image, self.python, self.scratch = prepared["image"], prepared["python"], Path(scratch)
        self.user = job_user()
        cpus, memory = limits_for(VM_SIZE)
        self.flags = ["--user", f"{self.user[0]}:{self.user[1]}", "--cap-drop", "ALL",
                      "--security-opt", "no-new-privileges:true", "--pids-limit", str(DEFAULT_PIDS_LIMIT),
                      "--memory", str(memory), "--memory-swap", str(memory),
                      "-v", f"{job_shim_dir()}:/shim:ro", "-e", "PYTHONPATH=/shim", "-e", "PYTHONUNBUFFERED=1",
                      "-e", "HOME=/tmp"]
        for mount in prepared.get("mounts") or []:
            self.flags += ["-v", f"{mount['Source']}:{mount['Target']}" + (":ro" if mount["ReadOnly"] else "")]
        for name, value in (prepared.get("env") or {}).items():
            self.flags += ["-e", f"{name}={value}"]
        if cpus:
            self.flags += ["--cpus", f"{cpus:g}"]
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                self.flags += ["-e", f"{name}={max(1, int(cpus))}"]

    def workdir(self, scripts):
        """A fresh working directory holding ``scripts``, the job user's (as amlocal's is)."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        import tempfile

        directory = Path(tempfile.mkdtemp(dir=self.scratch))
        for script in scripts:
            shutil.copy(script, directory)
        if os.getuid() == 0:
            for path in [directory, *directory.rglob("*")]:
                os.chown(path, *self.user)
        return directory

    def command(self, label, workdir, script, arguments, data=None):
        mounts = ["-v", f"{workdir}:/wd", "-w", "/wd"] + (["-v", f"{data}:/data:ro"] if data else [])
        return ["docker", "run", "--rm", "--label", f"{BARE_LABEL}={label}", *self.flags, *mounts, self.image,
                "/bin/sh", "-c", 'exec "$@" 2>&1', "sh", self.python, script, *arguments]

    def run(self, label, scripts, script, arguments, data=None, expect=None):
        """Run once; {"total", "wall_started", "wall_ended"}. BenchError when it fails or
        ``expect`` (a path relative to the work dir) is missing afterwards."""
        workdir = self.workdir(scripts)
        command = self.command(label, workdir, script, arguments, data)
        started, wall_started = time.perf_counter(), time.time()
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0 or (expect and not (workdir / expect).is_file()):
            raise BenchError(f"bare docker run failed (exit {result.returncode}):\n{result.stdout[-3000:]}")
        shutil.rmtree(workdir, ignore_errors=True)
        return {"total": elapsed, "wall_started": wall_started, "wall_ended": wall_started + elapsed}

    def describe(self):
        return "docker run --rm " + " ".join(self.flags)


class DockerEvents:
    """Container events (create, start, die, destroy...) with nanosecond times, recorded while
    a target runs, to split a run's time between amlocal and the container."""

    def __init__(self):
        self.events = []
        self._process = None
        self._reader = None

    def __enter__(self):
        self._process = subprocess.Popen(["docker", "events", "--format", "{{json .}}", "--filter", "type=container"],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        time.sleep(0.2)  # let the stream attach before the first container
        return self

    def _read(self):
        for line in self._process.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                pass

    def __exit__(self, *exc):
        time.sleep(0.3)  # late destroy events
        self._process.terminate()
        self._process.wait()
        self._reader.join(2)

    def times(self, label, value, after=0.0, before=float("inf")):
        """{action: epoch} of the container carrying label=value (first occurrence of each),
        among the events between ``after`` and ``before``."""
        found = {}
        for event in self.events:
            when = event["timeNano"] / 1e9
            if after <= when <= before and event.get("Actor", {}).get("Attributes", {}).get(label) == value:
                found.setdefault(event.get("Action") or event.get("status"), when)
        return found
