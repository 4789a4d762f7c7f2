"""Speed of one unit: fit and permutation importance, mlem_neuro against the reference.

1,000 stimuli, 8 binary features, 64 dimensions, noise 0.5 (the issue's setting).
Both run on 2 CPU threads on the same data and seed; the reference runs in its
own environment through reference_runner.py.

Usage::

    python benchmarks/bench_one_unit.py --reference-python /path/to/env/bin/python
"""

import argparse
import time
import warnings

import numpy as np
import torch
from reference import run_reference

from mlem_neuro import MLEM
from mlem_neuro.core.simulation import make_metric_data


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference-python", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.simplefilter("ignore", UserWarning)
    columns = ["fit (s)", "importance (s)", "error"]
    header = ["seed"] + [f"ours {c}" for c in columns] + [f"reference {c}" for c in columns]
    print("| " + " | ".join(header) + " |")
    print("|---|---|---|---|---|---|---|")
    for seed in range(args.repeats):
        features, Y, truth = make_metric_data(1000, 8, 0, 64, 0.5, random_state=seed)
        started = time.perf_counter()
        model = MLEM(random_state=seed).fit(features, Y)
        fitted = time.perf_counter()
        model.permutation_importance(features, Y, n_repeats=5)
        scored = time.perf_counter()
        ours = [fitted - started, scored - fitted, np.linalg.norm(model.metric_.to_numpy() - truth)]
        reference = [float("nan")] * 3
        if args.reference_python:
            result, _ = run_reference(args.reference_python, features.to_numpy(), Y, seed)
            reference = [
                float(result["fit_seconds"]),
                float(result["importance_seconds"]),
                np.linalg.norm(result["metric"] - truth),
            ]
        print(
            f"| {seed} | " + " | ".join(f"{value:.3f}" for value in ours + reference) + " |",
            flush=True,
        )


if __name__ == "__main__":
    main()
