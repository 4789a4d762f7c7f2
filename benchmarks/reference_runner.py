"""Run the reference MLEM implementation on data saved by a benchmark.

This script runs in a separate environment where the reference package
(LouisJalouzot/MLEM, imported as ``mlem``) is installed; it never runs inside
mlem_neuro's own environment. Usage::

    python reference_runner.py INPUT.npz OUTPUT.npz [--interactions] [--seed N]
        [--continuous] [--precomputed]

INPUT.npz holds ``X`` (n_stimuli, n_features) of 0/1 features (numeric ones
with ``--continuous``) and ``Y`` (n_stimuli, n_dims), or neural distances
(n_stimuli, n_stimuli) with ``--precomputed``. OUTPUT.npz receives ``metric``
(n_features, n_features) as the quadratic form of the predicted distance, at
unit Frobenius norm, ``importances`` (n_terms,), and the fit and importance
times in seconds.

With ``--precomputed`` the reference is given, as its API asks, feature
distances of shape (n_stimuli, n_stimuli, n_features): ``|x_i - x_j|`` of
features min-max scaled as it scales numeric columns itself. Its precomputed
mode sizes its model and feature names from ``X.shape[1]`` (n_stimuli, not
n_features); the runner passes the feature count and names so that it runs.
"""

import argparse
import time

import mlem.mlem
import numpy as np
import pandas as pd
import torch
from mlem import MLEM


def quadratic_form(weights, n_features, interactions):
    """The reference predicts sum over i >= j of W_ij d_i d_j: as d^T M d, M_ij = W_ij / 2."""
    if not interactions:
        metric = np.diag(weights.to_numpy().ravel())
    else:
        lower = np.nan_to_num(weights.to_numpy())
        metric = np.diag(np.diag(lower)) + (np.tril(lower, -1) + np.tril(lower, -1).T) / 2
    return metric / np.linalg.norm(metric)


def feature_distances(X):
    """|x_i - x_j| per feature, as a (n_stimuli, n_stimuli, n_features) float32 array."""
    scaled = (X - X.min(axis=0)) / np.ptp(X, axis=0)
    return np.abs(scaled[:, None, :] - scaled[None, :, :]).astype(np.float32)


def size_model_by_features(n_features):
    """Build the reference's model with n_features weights whatever X's shape says."""
    build = mlem.mlem.Model

    def sized_model(**options):  # the reference passes every argument by keyword
        return build(**{**options, "n_features": n_features})

    mlem.mlem.Model = sized_model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--interactions", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--continuous", action="store_true", help="numeric features")
    parser.add_argument("--precomputed", action="store_true", help="Y holds neural distances")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = np.load(args.input)
    X = pd.DataFrame(data["X"])
    if not (args.continuous or args.precomputed):
        X = X.astype("category")
    X.columns = [f"f{index}" for index in range(X.shape[1])]
    Y = data["Y"].astype(np.float32)
    if args.precomputed:
        size_model_by_features(X.shape[1])
        model = MLEM(distance="precomputed", interactions=args.interactions, random_seed=args.seed)
        started = time.perf_counter()
        model.fit(feature_distances(X.to_numpy()), Y, feature_names=list(X.columns))
    else:
        model = MLEM(interactions=args.interactions, random_seed=args.seed)
        started = time.perf_counter()
        model.fit(X, Y)
    fitted = time.perf_counter()
    importances, _ = model.score()
    scored = time.perf_counter()
    np.savez(
        args.output,
        metric=quadratic_form(model.get_weights(), X.shape[1], args.interactions),
        importances=importances.mean().to_numpy(),
        fit_seconds=fitted - started,
        importance_seconds=scored - fitted,
    )


if __name__ == "__main__":
    main()
