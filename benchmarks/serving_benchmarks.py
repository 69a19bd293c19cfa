"""Serving a model: amlocal's LocalWebservice measured side by side with a bare or peer figure.

    .venv/bin/python benchmarks/serving_benchmarks.py [--repeat N] [--mlflow PATH]

    AMLOCAL_BASE_IMAGE   the base image (default amlocal-base:bookworm); nothing is pulled
    --mlflow PATH        the `mlflow` command of an MLflow install (a throwaway venv is fine:
                         python3 -m venv /tmp/mlflow && /tmp/mlflow/bin/pip install mlflow scikit-learn);
                         without it the peer figures are not measured
    needs `hey` (apt-get install hey), the load generator docker-floors.md used

Targets (goal in brackets):

1. deploy time, model registered -> first successful /score, image cached: ``Model.deploy`` +
   ``wait_for_deployment`` + the first POST, vs a bare ``docker run`` of the same image running
   ``azmlinfsrv`` over the same score.py and model until its first answer         [ratio <= 1.5]
2. scoring one iris row over HTTP: p50 and p99 with one client, requests/s and p99 with 8
   clients, vs ``mlflow models serve`` of the same model on this machine
   [throughput >= MLflow's, p99 <= MLflow's]

Both servers get the same warm-up, then amlocal and MLflow alternate, ``--repeat`` times each;
medians are reported. Prints the machine and a markdown table; writes results/serving.json and
results/serving.md.
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROW = [[5.1, 3.5, 1.4, 0.2]]
SCORE_PY = """
import json, os
import joblib

def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.joblib"))

def run(raw_data):
    return {"predictions": model.predict(json.loads(raw_data)["data"]).tolist()}
"""
WARM_UP_REQUESTS = 300
LATENCY_REQUESTS, THROUGHPUT_REQUESTS, CLIENTS = 2000, 8000, 8


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def score_once(uri, body):
    request = urllib.request.Request(uri, data=body.encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def until_answer(uri, body, started, timeout=300):
    while time.monotonic() - started < timeout:
        if score_once(uri, body):
            return time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError(f"{uri} did not answer within {timeout} s")


def hey(uri, body, requests, clients):
    """p50, p99 (seconds) and requests/s of ``hey`` posting ``body`` to ``uri``."""
    output = subprocess.run(["hey", "-n", str(requests), "-c", str(clients), "-m", "POST", "-T", "application/json",
                             "-d", body, uri], capture_output=True, text=True, check=True).stdout
    statuses = output.split("Status code distribution:", 1)[-1]
    if "Error distribution" in output or "[200]" not in statuses or re.search(r"\[(?!200)\d{3}\]", statuses):
        raise RuntimeError(f"hey saw failed requests:\n{output}")

    def grab(pattern):
        return float(re.search(pattern, output).group(1))

    return {"p50": grab(r"50%+ in ([\d.]+) secs"), "p99": grab(r"99%+ in ([\d.]+) secs"),
            "rps": grab(r"Requests/sec:\s+([\d.]+)")}


def machine():
    cpus = os.cpu_count()
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "?")
    docker = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                            text=True).stdout.strip()
    return {"cpus": cpus, "cpu": model, "kernel": platform.release(), "docker": docker,
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load": os.getloadavg()}


# -- set-up ----------------------------------------------------------------------------------------

def make_project(root):
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    (root / "serving").mkdir(parents=True)
    (root / "serving" / "score.py").write_text(SCORE_PY)
    features, labels = load_iris(return_X_y=True)
    estimator = SVC(kernel="linear").fit(features, labels)
    (root / "model").mkdir()
    joblib.dump(estimator, root / "model" / "model.joblib")
    (root / "config.json").write_text(json.dumps({"subscription_id": "bench", "resource_group": "bench",
                                                  "workspace_name": "serving-bench"}))
    return estimator


def environment():
    import sklearn

    from amlocal.core import Environment

    env = Environment("serving-bench")
    for package in (f"scikit-learn=={sklearn.__version__}", "joblib"):
        env.python.conda_dependencies.add_pip_package(package)
    return env


# -- 1. deploy time ---------------------------------------------------------------------------------

def amlocal_deploy(ws, model, root):
    from amlocal.core import Model
    from amlocal.core.model import InferenceConfig
    from amlocal.core.webservice import LocalWebservice

    config = InferenceConfig(entry_script="score.py", source_directory=str(root / "serving"),
                             environment=environment())
    port = free_port()
    started = time.monotonic()
    service = Model.deploy(ws, "bench-deploy", [model], config, LocalWebservice.deploy_configuration(port=port))
    service.wait_for_deployment()
    elapsed = until_answer(service.scoring_uri, json.dumps({"data": ROW}), started)
    return elapsed, service


def bare_deploy(image, root):
    """docker run of the same image: azmlinfsrv over the same score.py and model, host network."""
    port = free_port()
    name = f"amlocal-bench-bare-{os.urandom(3).hex()}"
    command = ["docker", "run", "-d", "--rm", "--name", name, "--network", "host", "-u", "65534:65534",
               "-v", f"{root / 'serving'}:/var/azureml-app/serving:ro",
               "-v", f"{root / 'model'}:/var/azureml-app/azureml-models/m/1:ro",
               "-e", "AZUREML_MODEL_DIR=/var/azureml-app/azureml-models/m/1", "-e", "HOME=/tmp",
               "-w", "/var/azureml-app", image, "/opt/amlocal-env/bin/azmlinfsrv",
               "--entry_script", "/var/azureml-app/serving/score.py", "--port", str(port)]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    try:
        return until_answer(f"http://localhost:{port}/score", json.dumps({"data": ROW}), started)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def service_image(ws, name):
    from amlocal_docker import engine
    from amlocal_docker.serving import SERVICE_LABEL

    containers = engine.connect_api().list_containers(labels=[f"{SERVICE_LABEL}={name}"])
    return containers[0]["Image"]


# -- 2. latency and throughput ------------------------------------------------------------------------

def mlflow_server(mlflow, estimator, root):
    """``mlflow models serve`` of the same estimator (saved with the MLflow install's own python)."""
    import joblib

    python = str(Path(mlflow).with_name("python"))
    model_dir = root / "mlflow-model"
    joblib.dump(estimator, root / "estimator.joblib")
    subprocess.run([python, "-c", "import joblib, mlflow.sklearn, sys; "
                    "mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2])",
                    str(root / "estimator.joblib"), str(model_dir)], check=True, capture_output=True)
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen([mlflow, "models", "serve", "-m", str(model_dir), "-p", str(port), "-h", "127.0.0.1",
                                "--env-manager", "local"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True,  # it runs uvicorn from its own bin directory
                               env={**os.environ, "PATH": f"{Path(mlflow).parent}:{os.environ['PATH']}"})
    uri = f"http://127.0.0.1:{port}/invocations"
    cold = until_answer(uri, json.dumps({"inputs": ROW}), started)
    return process, uri, cold


def measure(uri, body):
    hey(uri, body, WARM_UP_REQUESTS, CLIENTS)
    single = hey(uri, body, LATENCY_REQUESTS, 1)
    loaded = hey(uri, body, THROUGHPUT_REQUESTS, CLIENTS)
    return {"p50": single["p50"], "p99": single["p99"], "rps8": loaded["rps"], "p99_8": loaded["p99"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mlflow", help="the mlflow command of an MLflow install")
    args = parser.parse_args(argv)
    if not shutil.which("hey"):
        sys.exit("serving_benchmarks: needs `hey` (apt-get install hey)")
    os.environ.setdefault("AMLOCAL_BASE_IMAGE", "amlocal-base:bookworm")
    info = machine()
    root = Path(tempfile.mkdtemp(prefix="amlocal-serving-bench-"))
    os.environ["AMLOCAL_HOME"] = str(root / "home")
    estimator = make_project(root)
    from amlocal.core import Model, Workspace

    ws = Workspace.from_config(str(root / "config.json"), backend="docker")
    model = Model.register(ws, str(root / "model" / "model.joblib"), "bench-iris")
    results = {"machine": info, "deploy": {"amlocal": [], "bare": []}}
    mlflow = None
    try:
        log("building (or finding) the serving image")
        _, service = amlocal_deploy(ws, model, root)  # the image is cached from here on
        image = service_image(ws, "bench-deploy")
        service.delete()
        for attempt in range(args.repeat):
            log(f"deploy time, round {attempt + 1}/{args.repeat}")
            elapsed, service = amlocal_deploy(ws, model, root)
            service.delete()
            results["deploy"]["amlocal"].append(elapsed)
            results["deploy"]["bare"].append(bare_deploy(image, root))

        _, service = amlocal_deploy(ws, model, root)
        ours = {"uri": service.scoring_uri, "body": json.dumps({"data": ROW}), "runs": []}
        theirs = None
        if args.mlflow:
            log("starting mlflow models serve")
            mlflow, uri, cold = mlflow_server(args.mlflow, estimator, root)
            theirs = {"uri": uri, "body": json.dumps({"inputs": ROW}), "runs": [], "cold_start": cold}
        for attempt in range(args.repeat):
            log(f"latency and throughput, round {attempt + 1}/{args.repeat}")
            ours["runs"].append(measure(ours["uri"], ours["body"]))
            if theirs:
                theirs["runs"].append(measure(theirs["uri"], theirs["body"]))
        service.delete()
        results["scoring"] = {"amlocal": ours, "mlflow": theirs}
    finally:
        if mlflow is not None:
            os.killpg(mlflow.pid, 15)
            mlflow.wait(30)
        from amlocal.core.webservice import Webservice

        for leftover in Webservice.list(ws):
            leftover.delete()
        shutil.rmtree(root, ignore_errors=True)
    info["load_after"] = os.getloadavg()
    write_report(results, args.repeat)


def write_report(results, repeat):
    info = results["machine"]
    ours_deploy, bare_deploy_ = (statistics.median(results["deploy"][k]) for k in ("amlocal", "bare"))
    rows = [("1. deploy -> first /score, image cached (median of %d)" % repeat, f"{ours_deploy:.2f} s",
             f"{bare_deploy_:.2f} s (bare docker run of azmlinfsrv)", f"{ours_deploy / bare_deploy_:.2f}", "<= 1.5",
             "pass" if ours_deploy / bare_deploy_ <= 1.5 else "FAIL")]
    scoring = results["scoring"]

    def med(side, key):
        return statistics.median(r[key] for r in scoring[side]["runs"])

    peer = scoring["mlflow"] is not None
    for label, key, unit, goal, better in (("2. p50, one client", "p50", "ms", None, None),
                                           ("2. p99, one client", "p99", "ms", None, None),
                                           ("2. requests/s, 8 clients", "rps8", "req/s", ">= 1.0", "higher"),
                                           ("2. p99, 8 clients", "p99_8", "ms", "<= 1.0", "lower")):
        ours = med("amlocal", key)
        scale = 1000 if unit == "ms" else 1
        if peer:
            theirs = med("mlflow", key)
            ratio = ours / theirs
            verdict = "-" if goal is None else (
                "pass" if (ratio >= 1.0 if better == "higher" else ratio <= 1.0) else "FAIL")
            rows.append((f"{label} (median of {repeat})", f"{ours * scale:.1f} {unit}",
                         f"{theirs * scale:.1f} {unit} (mlflow models serve)", f"{ratio:.2f}", goal or "-", verdict))
        else:
            rows.append((f"{label} (median of {repeat})", f"{ours * scale:.1f} {unit}", "- (no --mlflow)", "-",
                         goal or "-", "(reported)"))
    lines = [f"- machine: {info['cpus']} CPUs ({info['cpu']}), kernel {info['kernel']}, Docker {info['docker']}, "
             f"Python {info['python']}",
             f"- date {info['date']}; load average at start {' '.join(f'{x:.2f}' for x in info['load'])}, at end "
             f"{' '.join(f'{x:.2f}' for x in info['load_after'])}",
             "- load generator: hey; amlocal: LocalWebservice (azmlinfsrv, 1 gunicorn sync worker, host network, "
             "bound to 127.0.0.1); peer: `mlflow models serve --env-manager local` (uvicorn, 1 worker) on the host",
             ""]
    if peer:
        lines.append(f"- mlflow cold start to first answer: {scoring['mlflow']['cold_start']:.2f} s")
        lines.append("")
    lines += ["| target | amlocal | bare/peer | ratio | goal | pass/FAIL |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serving.md").write_text(text)
    (RESULTS / "serving.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
