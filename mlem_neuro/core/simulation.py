"""Synthetic data with a known ground-truth metric, to check that MLEM recovers it."""

import numpy as np
import pandas as pd

__all__ = ["make_metric_data"]


def make_metric_data(
    n_stimuli=300,
    n_features=12,
    n_interactions=0,
    n_dims=64,
    noise=0.5,
    random_state=None,
):
    """Binary features embedded along orthogonal directions, with a known metric.

    Each feature moves the pattern along its own direction, of squared length
    ``w_f`` drawn uniformly in [0.5, 2]. Each interaction (a, b) adds a
    direction, of squared length ``v_ab``, that encodes ``a XOR b``. For
    binary features ``(xor_i - xor_j)**2 = d_a + d_b - 2 d_a d_b``, so the
    expected squared distance between two patterns is ``d^T W d`` with
    ``W_ff = w_f + sum of the v of f's interactions`` and ``W_ab = -v_ab``:
    a positive definite truth with negative off-diagonal entries.

    Parameters
    ----------
    n_stimuli : int
    n_features : int
    n_interactions : int
        Number of interacting pairs, drawn among distinct pairs of features.
    n_dims : int
        Width of the patterns; at least ``n_features + n_interactions``.
    noise : float
        Standard deviation of isotropic Gaussian noise added to each pattern.
    random_state : int or None

    Returns
    -------
    features : DataFrame of shape (n_stimuli, n_features)
        Boolean columns "f0", "f1", ...
    Y : array of shape (n_stimuli, n_dims)
    true_metric : array of shape (n_features, n_features)
        Unit Frobenius norm.
    """
    if n_dims < n_features + n_interactions:
        raise ValueError(
            f"n_dims must be at least n_features + n_interactions = "
            f"{n_features + n_interactions}, got {n_dims}."
        )
    rng = np.random.default_rng(random_state)
    X = rng.integers(0, 2, size=(n_stimuli, n_features)).astype(float)
    upper = np.transpose(np.triu_indices(n_features, k=1))
    pairs = upper[rng.choice(len(upper), size=n_interactions, replace=False)]
    directions = np.linalg.qr(rng.standard_normal((n_dims, n_dims)))[0]
    feature_weights = rng.uniform(0.5, 2.0, size=n_features)
    interaction_weights = rng.uniform(0.5, 2.0, size=n_interactions)
    latent = np.column_stack(
        [X * np.sqrt(feature_weights)]
        + [
            np.logical_xor(X[:, a], X[:, b])[:, None] * np.sqrt(v)
            for (a, b), v in zip(pairs, interaction_weights)
        ]
    )
    Y = latent @ directions[: latent.shape[1]] + noise * rng.standard_normal((n_stimuli, n_dims))
    metric = np.diag(feature_weights)
    for (a, b), v in zip(pairs, interaction_weights):
        metric[a, a] += v
        metric[b, b] += v
        metric[a, b] = metric[b, a] = -v
    names = [f"f{index}" for index in range(n_features)]
    features = pd.DataFrame(X.astype(bool), columns=names)
    return features, Y, metric / np.linalg.norm(metric)
