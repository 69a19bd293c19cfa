"""Snapshot speed: an unchanged source tree is linked from the content store, not copied again.

    .venv/bin/python benchmarks/snapshot_bench.py [--repeat N] [--dir DIR]

Builds in a temporary directory (under DIR, default the system's) a 200 MB source tree of
2,000 files, then measures, each as the median of N repeats with a warm page cache:

1. ``take_snapshot`` of the tree unchanged since the last snapshot, vs a plain ``cp -r`` of
   the same tree on the same file system                                  [ratio <= 0.1]
2. the same with a 900 MB ``.venv`` (9,000 files) in the tree, listed in ``.gitignore``
                                                                           [<= 0.2 s]

The first (cold) snapshot of each tree is reported too. The tree's files are left alone for
``RACY_SECONDS`` before the first snapshot, as a real tree is, so the stat cache may trust
them. Prints a markdown table and writes it to benchmarks/results/snapshot.md.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from amlocal.snapshot import RACY_SECONDS, take_snapshot  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "snapshot.md"
TREE_FILES, TREE_BYTES = 2000, 200_000_000
VENV_FILES, VENV_BYTES = 9000, 900_000_000


def build_tree(root):
    size = TREE_BYTES // TREE_FILES
    for i in range(TREE_FILES):
        path = root / "pkg{:02d}".format(i // 50) / "module_{:04d}.py".format(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))


def build_venv(root):
    size = VENV_BYTES // VENV_FILES
    block = os.urandom(size)
    for i in range(VENV_FILES):
        path = root / ".venv" / "lib" / "python3.11" / "site-packages" / "dist{:03d}".format(i // 30) / "m{}.so".format(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(block)
    (root / ".gitignore").write_text(".venv/\n")


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="amlocal-snapshot-bench-", dir=args.dir))
    try:
        src, store, runs = work / "src", work / "store", work / "runs"
        build_tree(src)
        counter = iter(range(1_000_000))

        def snapshot():
            return take_snapshot(src, runs / str(next(counter)) / "snapshot", store)

        time.sleep(RACY_SECONDS + 0.5)   # a tree not edited in the last second, as a real one
        cold = timed(snapshot)
        reports = []
        warm = statistics.median(timed(lambda: reports.append(snapshot())) for _ in range(args.repeat))
        last = reports[-1]
        assert (last.files, last.hashed, last.copied) == (TREE_FILES, 0, 0), last
        copies = []
        for i in range(args.repeat):
            copies.append(timed(lambda: subprocess.run(["cp", "-r", str(src), str(work / "cp{}".format(i))],
                                                       check=True)))
        cp = statistics.median(copies)
        for i in range(args.repeat):
            shutil.rmtree(work / "cp{}".format(i))

        build_venv(src)
        time.sleep(RACY_SECONDS + 0.5)
        venv_cold = timed(snapshot)   # the .gitignore is new: one new file, the rest unchanged
        reports = []
        venv_warm = statistics.median(timed(lambda: reports.append(snapshot())) for _ in range(args.repeat))
        assert reports[-1].files == TREE_FILES + 1 and reports[-1].ignore_file == ".gitignore", reports[-1]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("1. snapshot of an unchanged 200 MB / 2,000-file tree", "{:.3f} s".format(warm),
         "cp -r {:.3f} s".format(cp), "{:.3f}x".format(warm / cp), "<= 0.1x", warm / cp <= 0.1),
        ("   first snapshot of that tree (cold store)", "{:.3f} s".format(cold), "cp -r {:.3f} s".format(cp),
         "{:.2f}x".format(cold / cp), "(reported)", None),
        ("2. the same with a 900 MB .venv in .gitignore", "{:.3f} s".format(venv_warm), "", "", "<= 0.2 s",
         venv_warm <= 0.2),
        ("   first snapshot after adding .venv and .gitignore", "{:.3f} s".format(venv_cold), "", "", "(reported)",
         None),
    ]
    lines = ["Machine: {} CPUs, {} ({}), Python {}; median of {} repeats, warm page cache.".format(
                 os.cpu_count(), platform.platform(), platform.machine(), platform.python_version(), args.repeat),
             "",
             "| measure | amlocal | peer | ratio | target | met |",
             "|---|---|---|---|---|---|"]
    for name, ours, peer, ratio, target, met in rows:
        lines.append("| {} | {} | {} | {} | {} | {} |".format(
            name, ours, peer, ratio, target, "" if met is None else ("yes" if met else "NO")))
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("# Snapshot benchmark (benchmarks/snapshot_bench.py)\n\n" + text)
    return 0 if all(met is not False for *_, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
