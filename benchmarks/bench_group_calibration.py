"""False-positive rate of the one-sided group test of cross-validated scores on noise subjects.

Each simulated subject has 48 stimuli in 4 runs of 12 (3 binary features,
balanced within runs) and ``--units`` units of 10 pure-noise columns, fitted
with the package defaults (``cv="auto"`` over runs, importances with one
repeat). Every unit is an independent experiment: for each number of
subjects, the first ``n`` subjects' values of that unit are tested with the
one-sided sign-flip test (exact, all ``2**n`` flips), and a unit is a false
positive where ``p <= 0.05``; with ``2**n`` flips that test has the exact level
``floor(0.05 * 2**n) / 2**n``. The baseline in the same run is the same test on
symmetric noise (Gaussian values with the scores' standard deviation), whose
rate is that level within its binomial error.

Usage::

    python benchmarks/bench_group_calibration.py [--subjects 12] [--units 2000]
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from mlem_neuro import fit_units
from mlem_neuro.stats import sign_flip_max_t

N_RUNS, PER_RUN = 4, 12


def noise_subject(seed, n_units, width=10):
    """Features, noise patterns, units and runs of one subject (48 stimuli in 4 runs)."""
    rng = np.random.default_rng(seed)
    levels = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)])
    per_run = np.concatenate([levels, levels[:4]])  # 12 stimuli, every combination
    features = pd.DataFrame(np.tile(per_run, (N_RUNS, 1)), columns=["a", "b", "c"])
    Y = rng.standard_normal((N_RUNS * PER_RUN, n_units * width))
    units = [np.arange(unit * width, (unit + 1) * width) for unit in range(n_units)]
    return features, Y, units, np.repeat(np.arange(N_RUNS), PER_RUN)


def false_positive_rate(values):
    """Share of columns whose one-sided exact sign-flip p-value is at most 0.05."""
    pvalues = [sign_flip_max_t(column[:, None], exact=True).pvalues_fwer[0] for column in values.T]
    return float(np.mean(np.array(pvalues) <= 0.05))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--units", type=int, default=2000)
    args = parser.parse_args()

    started = time.perf_counter()
    scores, importances = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for subject in range(args.subjects):
            features, Y, units, runs = noise_subject(1000 + subject, args.units)
            results = fit_units(features, Y, units, cv="auto", groups=runs, random_state=subject)
            scores.append(results.scores)
            importances.append(results.importances["a"].to_numpy())
    scores, importances = np.array(scores), np.array(importances)
    fitted = time.perf_counter() - started
    pooled = scores.ravel()
    print(
        f"{args.subjects} noise subjects x {args.units} units fitted in {fitted:.0f} s; "
        f"scores: mean {pooled.mean():.4f}, median {np.median(pooled):.4f}, "
        f"skew {stats.skew(pooled):.2f}, sd {pooled.std():.4f}"
    )
    symmetric = np.random.default_rng(0).standard_normal(scores.shape) * pooled.std()
    error = 1.96 * np.sqrt(0.05 * 0.95 / args.units)
    print(f"false-positive rate at p <= 0.05 (nominal 0.05, 95% binomial error +-{error:.3f})")
    print("| subjects | exact level | scores | importance of a | symmetric noise (baseline) |")
    print("|---|---|---|---|---|")
    for n in range(5, args.subjects + 1):
        # With 2**n equally likely flips, p <= 0.05 has probability floor(0.05 * 2**n) / 2**n.
        level = np.floor(0.05 * 2**n) / 2**n
        rates = [false_positive_rate(values[:n]) for values in (scores, importances, symmetric)]
        print(f"| {n} | {level:.3f} | " + " | ".join(f"{rate:.3f}" for rate in rates) + " |")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
