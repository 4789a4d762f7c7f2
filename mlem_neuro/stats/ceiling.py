"""Split-half noise ceiling of every unit's neural geometry."""

import numpy as np
import pandas as pd

from ..core import (
    NEURAL_DISTANCES,
    check_option,
    check_patterns,
    check_positive_int,
    unit_columns,
    unit_distance_ranks,
)

__all__ = ["noise_ceiling"]


def noise_ceiling(
    Y, stimuli, repetitions, units=None, *, distance="euclidean", n_splits=20, random_state=None
):
    """How well one half of the repetitions predicts the other half's neural distances.

    For each random split of the repetitions (runs, sessions, trial blocks)
    into two halves, the patterns of each stimulus are averaged within each
    half, and the Spearman correlation between the two halves' neural
    distances (every pair of stimuli) is computed per unit. The mean over
    splits, corrected by Spearman-Brown (``2 r / (1 + r)``), estimates the
    reliability of the geometry of the patterns averaged over all
    repetitions: the upper bound an MLEM score on those averaged patterns
    can reach in expectation.

    Parameters
    ----------
    Y : array of shape (n_samples, n_columns)
        One row per (stimulus, repetition).
    stimuli : array of shape (n_samples,)
        Stimulus of each row; every stimulus must occur in both halves.
    repetitions : array of shape (n_samples,)
        Repetition (run, session...) of each row; at least 2 distinct values.
    units : sparse matrix or list of int arrays, optional
    distance : str
    n_splits : int
        Random half splits (all of them when fewer exist).
    random_state : int or None

    Returns
    -------
    DataFrame of shape (n_units, 2)
        ``split_half_r`` (mean Spearman between halves) and ``noise_ceiling``
        (Spearman-Brown corrected).
    """
    check_option("distance", distance, NEURAL_DISTANCES)
    stimuli = np.asarray(stimuli)
    repetitions = np.asarray(repetitions)
    Y = check_patterns(Y, len(stimuli))
    if repetitions.shape != stimuli.shape:
        raise ValueError(
            f"repetitions must have one label per row of Y ({len(stimuli)}), got shape "
            f"{repetitions.shape}."
        )
    labels = np.unique(repetitions)
    if len(labels) < 2:
        raise ValueError(
            f"A split-half noise ceiling needs at least 2 repetitions, got {len(labels)}."
        )
    n_splits = check_positive_int("n_splits", n_splits)
    names = np.unique(stimuli)
    if len(names) < 3:
        raise ValueError(f"A noise ceiling needs at least 3 stimuli, got {len(names)}.")
    columns = unit_columns(units, Y.shape[1]) if units is not None else [np.arange(Y.shape[1])]
    rng = np.random.default_rng(random_state)
    correlations = []
    for _ in range(n_splits):
        half = rng.permutation(labels)[: len(labels) // 2]
        in_first = np.isin(repetitions, half)
        halves = [_stimulus_means(Y, stimuli, names, rows) for rows in (in_first, ~in_first)]
        correlations.append(_half_correlations(halves, columns, distance))
    r = np.mean(correlations, axis=0)
    return pd.DataFrame({"split_half_r": r, "noise_ceiling": 2 * r / (1 + r)})


def _stimulus_means(Y, stimuli, names, rows):
    missing = [str(name) for name in names if not np.any(rows & (stimuli == name))]
    if missing:
        raise ValueError(
            f"Stimuli {missing[:5]} do not occur in both halves of the repetitions; every "
            "stimulus needs at least one row in each half."
        )
    return np.stack([Y[rows & (stimuli == name)].mean(axis=0) for name in names])


def _half_correlations(halves, columns, distance):
    first, second = (unit_distance_ranks(patterns, columns, distance) for patterns in halves)
    return (first * second).sum(axis=1)
