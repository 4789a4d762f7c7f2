"""Continuous features (issue 12): the sampled mode against the reference MLEM and FR-RSA.

Four parts, each printing a Markdown table:

``linear``
    ``make_continuous_data``: 6 uniform features, a diagonal metric whose last
    weight is 0, patterns along orthonormal directions of 50 dimensions, noise
    0.5. Ours and the reference on the same data and seeds, at each ``--sizes``:
    Frobenius error to the true metric (both at unit norm), the weight given to
    the zero-weight feature, fit time, and fit + importance time; and the error
    of the two least-squares baselines (below).
``large``
    1,000,000 stimuli and 8 features, the same design: one fit with importances,
    its time and the peak resident memory above the start (the data already
    loaded); the reference's fit and importance beside it.
``bent``
    ``make_bent_distances``: neural distances a saturating function of the true
    metric distance, at each ``--noises``. MLEM, the two least-squares baselines
    (``method="nnls"``, and ``method="ols"`` with interactions) and the reference
    (its precomputed mode, see reference_runner.py).
``full``
    ``make_interacting_distances``: 2,000 stimuli, four continuous features, a
    full metric with a positive and a negative interaction, noisy distances
    ``sqrt(d^T W d)``. MLEM with interactions, ordinary least squares with
    interactions, and the reference with interactions; errors and fit times.

Usage::

    python benchmarks/bench_continuous.py linear large bent full --seeds 3 \
        --reference-python /path/to/env-with-reference/bin/python

Without ``--reference-python`` only mlem_neuro is measured. Times are wall
seconds of the fit inside the process (the reference's as its runner
measures them), on the threads given by ``--threads``.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from memory import PeakMemory
from reference import run_reference

from mlem_neuro import fit_units
from mlem_neuro.core.simulation import (
    make_bent_distances,
    make_continuous_data,
    make_interacting_distances,
)

#: The FR-RSA-style baselines, as fit_units options.
BASELINES = {"nnls": {"method": "nnls"}, "ols": {"method": "ols", "interactions": True}}


def timed_fit(features, neural, **options):
    started = time.perf_counter()
    results = fit_units(features, neural, **options)
    return results, time.perf_counter() - started


def error(metric, truth):
    return float(np.linalg.norm(metric - truth))


def print_header(header):
    print_row(header)
    print("|" + "---|" * len(header))


def print_row(cells):
    print("| " + " | ".join(cells) + " |", flush=True)


def baseline_errors(features, neural, truth, seed, **options):
    errors = []
    for method in BASELINES.values():
        results = fit_units(features, neural, random_state=seed, n_repeats=0, **method, **options)
        errors.append(f"{error(results.metrics[0], truth):.4f}")
    return errors


def linear(sizes, seeds, reference_python):
    header = ["n stimuli", "seed", "error ours", "zero weight ours", "fit s ours"]
    header += ["fit + importance s ours", "error nnls", "error ols"]
    if reference_python:
        header += ["error ref", "zero weight ref", "fit s ref", "fit + importance s ref"]
    print_header(header)
    for n_stimuli in sizes:
        for seed in range(seeds):
            features, Y, truth = make_continuous_data(n_stimuli, random_state=seed)
            fitted, fit_seconds = timed_fit(features, Y, random_state=seed, n_repeats=0)
            scored, total_seconds = timed_fit(features, Y, random_state=seed)
            metric = fitted.metrics[0]
            row = [f"{n_stimuli:,}", str(seed), f"{error(metric, truth):.4f}"]
            row += [f"{metric[-1, -1]:.4f}", f"{fit_seconds:.2f}", f"{total_seconds:.2f}"]
            row += baseline_errors(features, Y, truth, seed)
            if reference_python:
                out, _ = run_reference(reference_python, features, Y, seed, continuous=True)
                fit = float(out["fit_seconds"])
                row += [f"{error(out['metric'], truth):.4f}", f"{out['metric'][-1, -1]:.4f}"]
                row += [f"{fit:.2f}", f"{fit + float(out['importance_seconds']):.2f}"]
            print_row(row)


def large(n_stimuli, n_features, reference_python):
    features, Y, truth = make_continuous_data(n_stimuli, n_features=n_features, random_state=0)
    print(f"data: {(features.to_numpy().nbytes + Y.nbytes) / 2**20:.0f} MiB\n", flush=True)
    with PeakMemory() as memory:
        results, seconds = timed_fit(features, Y, random_state=0)
    print_header(["", "n stimuli", "features", "fit + importance s", "peak MiB", "error"])
    size = [f"{n_stimuli:,}", str(n_features)]
    print_row(
        ["ours", *size, f"{seconds:.1f}", f"{memory.extra_mib:.0f}"]
        + [f"{error(results.metrics[0], truth):.4f}"]
    )
    if reference_python:
        out, _ = run_reference(reference_python, features, Y, 0, continuous=True)
        total = float(out["fit_seconds"]) + float(out["importance_seconds"])
        print_row(
            [
                "reference",
                *size,
                f"{total:.1f}",
                "(own process)",
                f"{error(out['metric'], truth):.4f}",
            ]
        )


def bent(noises, seeds, n_stimuli, reference_python):
    header = ["noise", "seed", "error mlem"] + [f"error {name}" for name in BASELINES]
    print_header(header + (["error ref"] if reference_python else []))
    for noise in noises:
        for seed in range(seeds):
            features, distances, truth = make_bent_distances(
                n_stimuli, noise=noise, random_state=seed
            )
            options = {"distance": "precomputed"}
            results = fit_units(features, distances, random_state=seed, n_repeats=0, **options)
            row = [str(noise), str(seed), f"{error(results.metrics[0], truth):.4f}"]
            row += baseline_errors(features, distances, truth, seed, **options)
            if reference_python:
                out, _ = run_reference(
                    reference_python, features, distances, seed, precomputed=True
                )
                row.append(f"{error(out['metric'], truth):.4f}")
            print_row(row)


def full(seeds, n_stimuli, reference_python):
    header = ["seed", "error mlem", "fit s mlem", "error ols"]
    print_header(header + (["error ref", "fit s ref"] if reference_python else []))
    options = {"distance": "precomputed", "interactions": True, "n_repeats": 0}
    for seed in range(seeds):
        features, distances, truth = make_interacting_distances(n_stimuli, random_state=seed)
        results, seconds = timed_fit(features, distances, random_state=seed, **options)
        regression = fit_units(features, distances, method="ols", **options)
        row = [str(seed), f"{error(results.metrics[0], truth):.4f}", f"{seconds:.2f}"]
        row.append(f"{error(regression.metrics[0], truth):.4f}")
        if reference_python:
            out, _ = run_reference(
                reference_python, features, distances, seed, interactions=True, precomputed=True
            )
            row += [f"{error(out['metric'], truth):.4f}", f"{float(out['fit_seconds']):.2f}"]
        print_row(row)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parts", nargs="+", choices=["linear", "large", "bent", "full"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sizes", default="2000,20000,100000", help="comma-separated")
    parser.add_argument("--noises", default="0.02,0.05,0.1", help="comma-separated")
    parser.add_argument("--bent-stimuli", type=int, default=2000, help="bent and full")
    parser.add_argument("--large-stimuli", type=int, default=1_000_000)
    parser.add_argument("--large-features", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference-python", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)
    for part in args.parts:
        print(f"\n## {part}\n", flush=True)
        if part == "linear":
            sizes = [int(size) for size in args.sizes.split(",")]
            linear(sizes, args.seeds, args.reference_python)
        elif part == "large":
            large(args.large_stimuli, args.large_features, args.reference_python)
        elif part == "bent":
            noises = [float(noise) for noise in args.noises.split(",")]
            bent(noises, args.seeds, args.bent_stimuli, args.reference_python)
        else:
            full(args.seeds, args.bent_stimuli, args.reference_python)


if __name__ == "__main__":
    main()
