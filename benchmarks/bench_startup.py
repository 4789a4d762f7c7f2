"""Start-up time of the command line, and a small subject's searchlight from start to end.

Start-up: ``--version``, ``--help`` and a command's ``--help``. Each invocation runs in a
fresh interpreter (``python -c`` calling the CLI's ``main``), ``--repeats`` times; the
median wall time is reported. The baseline in the same run is ``import torch`` alone,
which the command line paid on every call before it imported torch lazily.

Small subject: ``mlem-neuro searchlight`` on 512 in-mask voxels (8 x 8 x 8, 3 mm) and 12
patterns (3 conditions x 4 runs, folds over runs, one condition planted in a cube), report
included. The interpreter first imports what the command needs (torch, nilearn, the
plotting stack), then runs the command: the median of the command's seconds net of those
imports, of its whole wall time, and the fit's own seconds (summary.json) are reported.

``--compare PATH`` also times the package found at PATH (a checkout of an older commit)
the same way.

Usage::

    python benchmarks/bench_startup.py [--repeats 7] [--compare /path/to/old/checkout]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAIN = "from mlem_neuro.cli import main; main({})"
CALLS = {
    "mlem-neuro --version": MAIN.format(["--version"]),
    "mlem-neuro --help": MAIN.format(["--help"]),
    "mlem-neuro searchlight --help": MAIN.format(["searchlight", "--help"]),
    "import torch (baseline)": "import torch",
}


#: A fresh interpreter that imports the command's dependencies, then runs it; prints the
#: seconds of both as JSON.
SMALL_SUBJECT = """
import json, time
started = time.perf_counter()
import matplotlib.pyplot, nilearn.plotting, torch
import mlem_neuro.core.fit, mlem_neuro.fmri, mlem_neuro.report.build
imported = time.perf_counter()
from mlem_neuro.cli import main
code = main({argv})
print(json.dumps({{"imports": imported - started, "command": time.perf_counter() - imported,
                  "code": code}}))
"""


def run(code, path=None):
    """Wall seconds and standard output of ``python -c code`` in a fresh interpreter."""
    environment = dict(os.environ)
    if path:
        environment["PYTHONPATH"] = path
    started = time.perf_counter()
    finished = subprocess.run(  # from a neutral folder: "python -c" puts the cwd first on sys.path
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    return time.perf_counter() - started, finished.stdout


def median_seconds(code, repeats, path=None):
    return statistics.median(run(code, path)[0] for _ in range(repeats))


def small_subject_data(folder):
    """512 voxels x 12 patterns and their features table; returns the command's arguments."""
    import nibabel as nib
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    conditions = np.tile(["face", "house", "chair"], 4)
    data = rng.standard_normal((8, 8, 8, 12)).astype(np.float32)
    data[2:6, 2:6, 2:6] += 0.8 * (conditions == "face")
    nib.save(nib.Nifti1Image(data, np.diag([3.0, 3.0, 3.0, 1.0])), folder / "patterns.nii.gz")
    table = pd.DataFrame({"condition": conditions, "run": np.repeat(np.arange(4), 3)})
    table.to_csv(folder / "features.csv", index=False)
    return [
        "searchlight",
        str(folder / "patterns.nii.gz"),
        "--features",
        str(folder / "features.csv"),
        "--radius",
        "6",
        "--cv-groups",
        "run",
        "--out",
        str(folder / "out"),
        "--overwrite",
        "--quiet",
    ]


def small_subject(repeats, path=None):
    """Median seconds: imports, the command net of them, the fit, the whole wall time."""
    with tempfile.TemporaryDirectory() as folder:
        argv = small_subject_data(Path(folder))
        rows = []
        for _ in range(repeats):
            wall, output = run(SMALL_SUBJECT.format(argv=argv), path)
            timing = json.loads(output.strip().splitlines()[-1])
            summary = json.loads(Path(folder, "out", "summary.json").read_text())
            rows.append(
                [timing["imports"], timing["command"], summary["fit_info"]["seconds"], wall]
            )
    return [statistics.median(column) for column in zip(*rows)]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--compare", default=None, help="checkout of another version")
    args = parser.parse_args()
    header = "| call | this version (s) |" + (" compared version (s) |" if args.compare else "")
    print(header)
    print("|---|---|" + ("---|" if args.compare else ""))
    for name, code in CALLS.items():
        row = f"| {name} | {median_seconds(code, args.repeats):.2f} |"
        if args.compare:
            row += f" {median_seconds(code, args.repeats, args.compare):.2f} |"
        print(row)
    print()
    versions = [("this version", None)] + ([("compared", args.compare)] if args.compare else [])
    print(
        "| small subject (512 voxels, 12 patterns) | imports (s) | command net of imports (s) "
        "| fit (s) | wall (s) |"
    )
    print("|---|---|---|---|---|")
    for name, path in versions:
        seconds = small_subject(args.repeats, path)
        print(f"| {name} | " + " | ".join(f"{value:.2f}" for value in seconds) + " |")


if __name__ == "__main__":
    main()
