"""Start-up time of the command line: ``--version``, ``--help`` and a command's ``--help``.

Each invocation runs in a fresh interpreter (``python -c`` calling the CLI's ``main``),
``--repeats`` times; the median wall time is reported. The baseline in the same run is
``import torch`` alone, which the command line paid on every call before it imported
torch lazily; ``--compare PATH`` also times the package found at PATH (a checkout of an
older commit) the same way.

Usage::

    python benchmarks/bench_startup.py [--repeats 7] [--compare /path/to/old/checkout]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

MAIN = "from mlem_neuro.cli import main; main({})"
CALLS = {
    "mlem-neuro --version": MAIN.format(["--version"]),
    "mlem-neuro --help": MAIN.format(["--help"]),
    "mlem-neuro searchlight --help": MAIN.format(["searchlight", "--help"]),
    "import torch (baseline)": "import torch",
}


def median_seconds(code, repeats, path=None):
    environment = dict(os.environ)
    if path:
        environment["PYTHONPATH"] = path
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(  # from a neutral folder: "python -c" puts the cwd first on sys.path
            [sys.executable, "-c", code],
            env=environment,
            capture_output=True,
            check=False,
            cwd=tempfile.gettempdir(),
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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


if __name__ == "__main__":
    main()
