"""Synthetic data with a known ground-truth metric, to check that MLEM recovers it."""

import numpy as np
import pandas as pd

__all__ = [
    "make_metric_data",
    "make_continuous_data",
    "make_bent_distances",
    "make_interacting_distances",
]


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


def make_continuous_data(
    n_stimuli=1000, n_features=6, n_dims=50, noise=0.5, scale=4.0, random_state=None
):
    """Continuous features with a known diagonal metric, and linear neural geometry.

    Features are uniform on [0, 1]; feature ``f`` has weight ``w_f`` drawn in
    [0.5, 2], except the last, whose weight is 0 (it shapes nothing). Patterns
    are ``scale * x * sqrt(w)`` along orthonormal directions of ``n_dims``
    dimensions, plus Gaussian noise: the expected squared distance between two
    patterns grows linearly with ``d^T W d``.

    Parameters
    ----------
    n_stimuli, n_features, n_dims : int
    noise, scale : float
    random_state : int or None

    Returns
    -------
    features : DataFrame of shape (n_stimuli, n_features)
        Columns "f0", "f1"...
    Y : array of shape (n_stimuli, n_dims)
    true_metric : array of shape (n_features, n_features)
        Diagonal, unit Frobenius norm.
    """
    rng = np.random.default_rng(random_state)
    X, weights = _continuous_features(rng, n_stimuli, n_features)
    directions = np.linalg.qr(rng.standard_normal((n_dims, n_dims)))[0][:n_features]
    Y = scale * (X * np.sqrt(weights)) @ directions + noise * rng.standard_normal(
        (n_stimuli, n_dims)
    )
    return _table(X), Y, np.diag(weights) / np.linalg.norm(weights)


def make_bent_distances(n_stimuli=1000, n_features=6, bend=2.0, noise=0.05, random_state=None):
    """Continuous features, and neural distances that bend: a saturating function of the metric.

    With ``x = d^T W d`` the true metric distance of a pair (features and
    weights as in :func:`make_continuous_data`), the neural distance is
    ``1 - exp(-bend * x / mean(x)) + noise``: it grows with ``x`` but
    saturates, as distances between patterns do when the patterns are
    non-linear features of the stimuli. A rank-based fit is blind to the bend;
    least squares on the distances is not.

    Parameters
    ----------
    n_stimuli, n_features : int
    bend : float
        How far typical pairs go into the saturation.
    noise : float
        Standard deviation of the Gaussian noise added to each distance.
    random_state : int or None

    Returns
    -------
    features : DataFrame of shape (n_stimuli, n_features)
    distances : array of shape (n_stimuli, n_stimuli)
        Symmetric, zero diagonal (use ``distance="precomputed"``).
    true_metric : array of shape (n_features, n_features)
    """
    rng = np.random.default_rng(random_state)
    X, weights = _continuous_features(rng, n_stimuli, n_features)
    metric = ((X[:, None, :] - X[None, :, :]) ** 2 * weights).sum(axis=2)
    distances = 1 - np.exp(-bend * metric / metric[np.triu_indices(n_stimuli, k=1)].mean())
    upper = np.triu(rng.normal(0, noise, distances.shape), k=1)
    distances = distances + upper + upper.T
    np.fill_diagonal(distances, 0)
    return _table(X), distances, np.diag(weights) / np.linalg.norm(weights)


def make_interacting_distances(n_stimuli=1000, noise=0.3, random_state=None):
    """Four continuous features, a full metric with two interactions, and noisy distances.

    Features are uniform on [0, 1] with weights drawn in [0.5, 2]; the metric
    adds a positive interaction between f0 and f1 (correlation 0.6 between
    their axes) and a negative one between f2 and f3 (-0.5). The neural
    distance of a pair is ``sqrt(d^T W d)`` plus Gaussian noise of
    ``noise`` times the spread of those distances.

    Parameters
    ----------
    n_stimuli : int
    noise : float
    random_state : int or None

    Returns
    -------
    features : DataFrame of shape (n_stimuli, 4)
    distances : array of shape (n_stimuli, n_stimuli)
        Symmetric, zero diagonal (use ``distance="precomputed"``).
    true_metric : array of shape (4, 4)
        Unit Frobenius norm.
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(size=(n_stimuli, 4))
    metric = np.diag(rng.uniform(0.5, 2.0, 4))
    for (a, b), correlation in {(0, 1): 0.6, (2, 3): -0.5}.items():
        metric[a, b] = metric[b, a] = correlation * np.sqrt(metric[a, a] * metric[b, b])
    differences = np.abs(X[:, None, :] - X[None, :, :])
    distances = np.sqrt(np.einsum("ijf,fg,ijg->ij", differences, metric, differences))
    upper = np.triu(rng.normal(0, noise * distances.std(), distances.shape), k=1)
    distances = distances + upper + upper.T
    np.fill_diagonal(distances, 0)
    return _table(X), distances, metric / np.linalg.norm(metric)


def _continuous_features(rng, n_stimuli, n_features):
    X = rng.uniform(size=(n_stimuli, n_features))
    weights = rng.uniform(0.5, 2.0, n_features)
    weights[-1] = 0.0
    return X, weights


def _table(X):
    return pd.DataFrame(X, columns=[f"f{index}" for index in range(X.shape[1])])
