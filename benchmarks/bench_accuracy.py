"""Recovery of a known metric: mlem_neuro against the reference MLEM, same data and seeds.

Synthetic data from ``mlem_neuro.core.simulation.make_metric_data``: binary
features along orthogonal directions (weights = squared lengths), interactions
as XOR dimensions. The error is the Frobenius distance between the learned
and true metrics, both at unit norm, with the reference's lower-triangular
weights turned into the same quadratic form (see reference_runner.py).

Usage::

    python benchmarks/bench_accuracy.py --seeds 6 \
        --reference-python /path/to/env-with-reference/bin/python

Without ``--reference-python`` only mlem_neuro is measured.
"""

import argparse
import warnings

import numpy as np
import torch
from reference import run_reference

from mlem_neuro import MLEM
from mlem_neuro.core.simulation import make_metric_data

DESIGNS = {
    "diagonal": dict(n_stimuli=300, n_features=12, n_interactions=0, n_dims=64, noise=0.5),
    "interactions": dict(n_stimuli=256, n_features=10, n_interactions=6, n_dims=64, noise=0.3),
}


def reference_error(python, features, Y, truth, interactions, seed):
    result, _ = run_reference(python, features.to_numpy(), Y, seed, interactions)
    return np.linalg.norm(result["metric"] - truth), float(result["fit_seconds"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--reference-python", default=None)
    parser.add_argument("--regularizations", default="0.1,1.0", help="comma-separated")
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.simplefilter("ignore", UserWarning)
    regularizations = [float(value) for value in args.regularizations.split(",")]
    header = ["design", "seed"] + [f"ours reg={r}" for r in regularizations]
    if args.reference_python:
        header.append("reference")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, design in DESIGNS.items():
        interactions = design["n_interactions"] > 0
        errors = []
        for seed in range(args.seeds):
            features, Y, truth = make_metric_data(**design, random_state=seed)
            row = []
            for regularization in regularizations:
                model = MLEM(
                    interactions=interactions, regularization=regularization, random_state=seed
                )
                model.fit(features, Y)
                row.append(np.linalg.norm(model.metric_.to_numpy() - truth))
            if args.reference_python:
                row.append(
                    reference_error(args.reference_python, features, Y, truth, interactions, seed)[
                        0
                    ]
                )
            errors.append(row)
            print(
                f"| {name} | {seed} | " + " | ".join(f"{error:.4f}" for error in row) + " |",
                flush=True,
            )
        mean = np.mean(errors, axis=0)
        print(
            f"| {name} | mean | " + " | ".join(f"**{error:.4f}**" for error in mean) + " |",
            flush=True,
        )


if __name__ == "__main__":
    main()
