"""Cold environment builds, against a plain build of the same packages, measured side by side.

    .venv/bin/python benchmarks/cold_build.py [--rounds N] [--quick] [--packages "scikit-learn joblib"]

    AMLOCAL_BASE_IMAGE   the base image (default amlocal-base:bookworm); nothing is pulled

Each round builds, one after the other (so that a round's sides share the machine's load):

- peer (docker): ``docker build --no-cache`` of ``FROM base; RUN python3 -m venv && pip install PACKAGES``
  (the index with the user's pip settings and CA bundle);
- docker, the goal: an amlocal environment absent, its wheels in the wheel cache and their
  bytecode in the bytecode store (what every build after the first of those packages meets):
  ``EnvironmentImage.prepare`` with uv, until the environment can be mounted  [ratio <= 0.35]
- docker, the same without uv (AMLOCAL_NO_UV=1: the image's pip)                  (reported)
- docker, everything cold: an empty wheel cache and bytecode store                 (reported)
- peer (process): ``python -m venv`` + ``pip install PACKAGES`` on the host (the index)
- process: the process backend's virtualenv, caches warm, with uv and without      (reported)

Environments are built from ``amlocal-bench/cold-build-base:<name>``, a label-only copy of the
base image (same filesystem, another id, hence its own environment keys); the benchmark removes
only the environments it built itself (by key), so nothing another user of the engine relies on.
Ratios are medians of per-round ratios. Prints a markdown table; writes
results/cold_build.json and results/cold_build.md.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from amlocal import _config
from amlocal.local import pip_settings, remote_index_settings
from amlocal.specs import EnvironmentSpec

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_BASE_IMAGE = "amlocal-base:bookworm"
BENCH_BASE_REPOSITORY = "amlocal-bench/cold-build-base"
PLAIN_TAG = "amlocal-bench/plain-build:cold-build"
GOAL = 0.35
#: build log lines that start each phase, in order
PHASES = (("host: plan (wheel cache, bytecode store, probe)", "Building environment"),
          ("build container start", "Starting the build container"),
          ("virtualenv + install", "Creating the virtual environment"),
          ("bytecode from the store, then publish", "Bytecode: from the bytecode store"))


def log(message):
    print(message, file=sys.stderr, flush=True)


def sh(command, **kwargs):
    ran = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if ran.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, command))}` exited {ran.returncode}:\n{ran.stdout[-3000:]}")
    return ran.stdout.strip()


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


class StampedLog(io.StringIO):
    """A build log that remembers when each line arrived."""

    def __init__(self):
        super().__init__()
        self.started = time.perf_counter()
        self.lines = []

    def write(self, text):
        self.lines.append((time.perf_counter() - self.started, text))
        return super().write(text)

    def phases(self, total):
        found = []
        for name, marker in PHASES:
            when = next((t for t, line in self.lines if line.startswith(marker)), None)
            if when is not None:
                found.append((name, when))
        return {name: (found[i + 1][1] if i + 1 < len(found) else total) - when for i, (name, when) in enumerate(found)}


class ColdBuilds:
    def __init__(self, args):
        self.packages = args.packages.split()
        self.rounds = 1 if args.quick else args.rounds
        self.base_image = os.environ.get("AMLOCAL_BASE_IMAGE") or DEFAULT_BASE_IMAGE
        self.root = Path(tempfile.mkdtemp(prefix="amlocal-cold-build-"))
        self.samples = {}
        self.built = set()  # keys of the environments this benchmark built

    def setup(self):
        os.environ.setdefault("AMLOCAL_CACHE", str(_config.cache_dir()))
        self.bench_base = self.copy_of_base()
        self.context = self.plain_context()
        from amlocal_docker.engine import connect_api

        self.api = connect_api(timeout=None)
        log(f"base image {self.base_image} as {self.bench_base}; packages {' '.join(self.packages)}")
        log("warm-up: a build of each kind fills the wheel cache, the bytecode store and uv's cache")
        self.docker_build()
        self.process_build()

    def copy_of_base(self):
        tag = f"{BENCH_BASE_REPOSITORY}:{re.sub(r'[^A-Za-z0-9_.-]', '-', self.base_image)[:120]}"
        dockerfile = f"FROM {self.base_image}\nLABEL amlocal.benchmark.cold-build-copy-of={json.dumps(self.base_image)}\n"
        sh(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, env={**os.environ, "DOCKER_BUILDKIT": "0"})
        return tag

    def plain_context(self):
        settings = pip_settings()
        context = self.root / "plain-build"
        context.mkdir()
        shutil.copy(settings.get("cert") or "/etc/ssl/certs/ca-certificates.crt", context / "ca.crt")
        remote = remote_index_settings(settings)
        index = "".join(f"{name}={json.dumps(value)} " for name, value in (
            ("PIP_INDEX_URL", remote["index_url"]), ("PIP_EXTRA_INDEX_URL", " ".join(remote["extra_index_urls"])),
            ("PIP_TRUSTED_HOST", " ".join(remote["trusted_hosts"]))) if value)
        (context / "Dockerfile").write_text(
            f"FROM {self.bench_base}\nCOPY ca.crt /tmp/ca.crt\n"
            f"RUN python3 -m venv /opt/venv && PIP_CERT=/tmp/ca.crt {index}/opt/venv/bin/pip install "
            f"{' '.join(self.packages)}\n")
        return context

    # -- the sides ---------------------------------------------------------------------------
    def plain_docker_build(self):
        elapsed, _ = timed(sh, ["docker", "build", "--no-cache", "-q", "-t", PLAIN_TAG, str(self.context)],
                           env={**os.environ, "DOCKER_BUILDKIT": "0"})
        sh(["docker", "rmi", PLAIN_TAG])
        return {"seconds": elapsed}

    def docker_build(self):
        from amlocal_docker.image import EnvironmentImage

        spec = EnvironmentSpec(name="cold-build", base_image=self.bench_base, pip_packages=tuple(self.packages))
        for _ in range(2):  # an image left by an earlier run of this benchmark is a cache hit: remove it
            self.remove_environments()
            build_log = StampedLog()
            image = EnvironmentImage(spec, self.api, labels={"amlocal.benchmark": "cold-build"})
            elapsed, prepared = timed(image.prepare, build_log)
            self.built.add(prepared["key"])  # on this benchmark's own base copy: its own
            text = build_log.getvalue()
            if "ready in" in text:
                return {"seconds": elapsed, "phases": build_log.phases(elapsed), "key": prepared["key"],
                        "installer": "uv" if "(uv venv)" in text else "pip"}
        raise RuntimeError(f"no build happened:\n{text[-2000:]}")

    def remove_environments(self):
        """Remove the environments this benchmark built, once their build containers are gone
        (a build removes its container after it returns)."""
        from amlocal_docker.image import remove_environment

        deadline = time.monotonic() + 60
        while self.api.list_containers(labels=["amlocal.benchmark=cold-build"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        for key in sorted(self.built):
            remove_environment(key)
        self.built.clear()

    def plain_venv(self):
        target = self.root / "plain-venv"
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        sh([sys.executable, "-m", "venv", str(target)])
        sh([str(target / "bin" / "pip"), "install", "--no-cache-dir", "--disable-pip-version-check", *self.packages])
        elapsed = time.perf_counter() - started
        shutil.rmtree(target, ignore_errors=True)
        return {"seconds": elapsed}

    def process_build(self):
        from amlocal_process.process_backend import LocalProcessBackend

        spec = EnvironmentSpec(name="cold-build", pip_packages=tuple(self.packages))
        backend = LocalProcessBackend.__new__(LocalProcessBackend)  # prepare_environment needs no workspace
        for _ in range(2):  # a venv left by earlier work is a cache hit: remove it, build again
            build_log = StampedLog()
            elapsed, prepared = timed(backend.prepare_environment, spec, build_log, lambda: False)
            shutil.rmtree(Path(prepared["python"]).parents[1])  # the next round builds it again
            if "Environment ready" in build_log.getvalue():
                break
        else:
            raise RuntimeError(f"no build happened:\n{build_log.getvalue()[-2000:]}")
        return {"seconds": elapsed, "installer": "uv" if "(uv venv)" in build_log.getvalue() else "pip"}

    @contextlib.contextmanager
    def variables(self, **values):
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update({k: v for k, v in values.items() if v is not None})
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    # -- rounds ------------------------------------------------------------------------------
    def run(self):
        sides = {
            "peer docker build --no-cache": self.plain_docker_build,
            "docker, uv, caches warm": self.docker_build,
            "docker, pip (AMLOCAL_NO_UV=1), caches warm": lambda: self.with_variables(self.docker_build,
                                                                                      AMLOCAL_NO_UV="1"),
            "docker, uv, all cold": lambda: self.with_cold_cache(self.docker_build),
            "peer venv + pip install (host)": self.plain_venv,
            "process, uv, caches warm": self.process_build,
            "process, pip (AMLOCAL_NO_UV=1), caches warm": lambda: self.with_variables(self.process_build,
                                                                                       AMLOCAL_NO_UV="1"),
        }
        for index in range(self.rounds):
            for name, side in sides.items():
                sample = side()
                self.samples.setdefault(name, []).append(sample)
                log(f"  round {index + 1}/{self.rounds}: {name}: {sample['seconds']:.2f} s")
        self.remove_environments()

    def with_variables(self, function, **values):
        with self.variables(**values):
            return function()

    def with_cold_cache(self, function):
        cold = tempfile.mkdtemp(dir=self.root, prefix="cold-cache-")
        try:
            with self.variables(AMLOCAL_CACHE=cold):
                return function()
        finally:
            shutil.rmtree(cold, ignore_errors=True)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


# -- reporting -----------------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def report(bench, info):
    samples = bench.samples
    peer_docker = [s["seconds"] for s in samples["peer docker build --no-cache"]]
    peer_venv = [s["seconds"] for s in samples["peer venv + pip install (host)"]]
    rows = []
    for name, values in samples.items():
        if name.startswith("peer"):
            continue
        ours = [s["seconds"] for s in values]
        peer_name, peer = (("docker build --no-cache", peer_docker) if name.startswith("docker")
                           else ("venv + pip install", peer_venv))
        ratio = median([a / b for a, b in zip(ours, peer)])
        graded = name == "docker, uv, caches warm"
        verdict = ("pass" if ratio <= GOAL else "FAIL") if graded else "(reported)"
        rows.append({"target": f"cold build: {name}", "figure_s": median(ours), "peer": peer_name,
                     "peer_s": median(peer), "ratio": ratio, "goal": f"<= {GOAL}" if graded else "-",
                     "verdict": verdict, "installer": values[0].get("installer"), "samples_s": ours,
                     "peer_samples_s": peer})
    phases = {}
    for name in ("docker, uv, caches warm", "docker, pip (AMLOCAL_NO_UV=1), caches warm", "docker, uv, all cold"):
        for phase, _ in PHASES:
            values = [s["phases"][phase] for s in samples[name] if phase in s.get("phases", {})]
            phases.setdefault(phase, {})[name] = median(values) if values else None
    lines = ["# Cold environment builds", "",
             f"- machine: {info['nproc']} CPUs, Docker {info['docker']}, Python {info['python']}; "
             f"{info['date']}; load average {info['load_start']} at start, {info['load_end']} at end",
             f"- packages: {' '.join(bench.packages)}; base image {bench.base_image}; {bench.rounds} rounds; "
             f"amlocal {info['commit']}", "",
             "| target | amlocal | peer | ratio | goal | verdict |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['target']} | {row['figure_s']:.2f} s | {row['peer_s']:.2f} s ({row['peer']}) | "
                     f"{row['ratio']:.2f} | {row['goal']} | {row['verdict']} |")
    lines += ["", "Ratios are medians of per-round ratios (each side measured in the same round).", "",
              "## Where a docker build goes (medians)", "",
              "| phase | " + " | ".join(phases[next(iter(phases))]) + " |",
              "|---|" + "---|" * len(phases[next(iter(phases))])]
    for phase, by_side in phases.items():
        lines.append(f"| {phase} | " + " | ".join("-" if v is None else f"{v:.2f} s" for v in by_side.values()) + " |")
    return rows, "\n".join(lines) + "\n"


def machine():
    commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain"], capture_output=True,
                           text=True).stdout.strip()
    return {"nproc": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "docker": sh(["docker", "version", "--format", "{{.Server.Version}}"]),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "commit": commit + (" (with local changes)" if dirty else "")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--packages", default="scikit-learn joblib")
    args = parser.parse_args(argv)
    info = machine()
    bench = ColdBuilds(args)
    try:
        bench.setup()
        bench.run()
    finally:
        bench.cleanup()
    info["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows, text = report(bench, info)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cold_build.md").write_text(text)
    (RESULTS / "cold_build.json").write_text(json.dumps({"machine": info, "packages": bench.packages,
                                                         "base_image": bench.base_image, "rounds": bench.rounds,
                                                         "targets": rows, "samples": bench.samples}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
