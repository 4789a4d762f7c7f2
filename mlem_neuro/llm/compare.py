"""Compare two sets of units (brain and model) fitted on the same features or stimuli.

Three measures, from the most to the least MLEM-specific:

- :func:`compare_metrics` with ``measure="weights"``: cosine similarity of
  the learned term weights (``W_ff`` and ``2 W_ab``). High when two units
  weigh the features (and interactions) in the same proportions: they
  organise their geometry around the same features. Needs the same feature
  set, not the same stimuli.
- ``measure="importance"``: Pearson correlation of the permutation
  importance profiles across terms. Like weights, but in units of explained
  rank correlation, so it discounts features that are weighted but do not
  move the ranks.
- :func:`rsa_similarity`: the classic RSA baseline, Spearman correlation
  between the two units' neural distances over every pair of shared
  stimuli. Model-free: high whenever the geometries agree, whatever
  features explain them.
"""

import numpy as np
import pandas as pd

from ..core import (
    NEURAL_DISTANCES,
    UnitResults,
    check_option,
    check_patterns,
    unit_columns,
    unit_distance_ranks,
)

__all__ = ["compare_metrics", "best_matches", "rsa_similarity"]


def _unit_results(result, name):
    results = result if isinstance(result, UnitResults) else getattr(result, "results", None)
    if not isinstance(results, UnitResults):
        raise TypeError(
            f"{name} must be UnitResults or a result holding one in .results (searchlight, "
            f"time course, layer profile), got {type(result).__name__}."
        )
    return results


def compare_metrics(results_a, results_b, measure="weights"):
    """Similarity of every unit of A with every unit of B.

    Parameters
    ----------
    results_a, results_b : UnitResults or results with a ``.results`` attribute
        Fitted on the same features (same terms, in any order).
    measure : {"weights", "importance"}

    Returns
    -------
    array of shape (n_units_a, n_units_b)
    """
    check_option("measure", measure, ("weights", "importance"))
    a = _unit_results(results_a, "results_a")
    b = _unit_results(results_b, "results_b")
    if sorted(a.term_names) != sorted(b.term_names):
        raise ValueError(
            f"results_a has terms {a.term_names} but results_b has {b.term_names}; metrics "
            "can only be compared on the same features."
        )
    if measure == "weights":
        left = a.term_weights()[a.term_names].to_numpy()
        right = b.term_weights()[a.term_names].to_numpy()
    else:
        left = a.importances[a.term_names].to_numpy()
        right = b.importances[a.term_names].to_numpy()
        left = left - left.mean(axis=1, keepdims=True)
        right = right - right.mean(axis=1, keepdims=True)
    left = left / np.linalg.norm(left, axis=1, keepdims=True).clip(1e-12)
    right = right / np.linalg.norm(right, axis=1, keepdims=True).clip(1e-12)
    return left @ right.T


def best_matches(similarity, labels_b=None):
    """The unit of B most similar to each unit of A.

    Parameters
    ----------
    similarity : array of shape (n_units_a, n_units_b)
    labels_b : array of shape (n_units_b,), optional
        Labels of B's units (layer numbers...); default their indices.

    Returns
    -------
    DataFrame of shape (n_units_a, 2)
        ``best`` (label of the best B unit) and ``similarity``.
    """
    similarity = np.asarray(similarity)
    labels_b = np.arange(similarity.shape[1]) if labels_b is None else np.asarray(labels_b)
    index = np.nanargmax(similarity, axis=1)
    return pd.DataFrame(
        {"best": labels_b[index], "similarity": similarity[np.arange(len(index)), index]}
    )


def rsa_similarity(Y_a, units_a, Y_b, units_b, distance="euclidean", distance_b=None):
    """Spearman correlation between the neural distances of every unit of A and of B.

    Parameters
    ----------
    Y_a : array of shape (n_stimuli, n_columns_a)
    units_a : sparse matrix or list of int arrays, or None (one unit)
    Y_b : array of shape (n_stimuli, n_columns_b)
        The same stimuli, in the same order.
    units_b : sparse matrix or list of int arrays, or None
    distance, distance_b : str
        Neural distance within A's and B's units (B defaults to A's).

    Returns
    -------
    array of shape (n_units_a, n_units_b)
    """
    Y_a = check_patterns(Y_a, len(Y_a), name="Y_a")
    Y_b = check_patterns(Y_b, len(Y_a), name="Y_b")
    ranks_a = _unit_ranks(Y_a, units_a, distance)
    ranks_b = _unit_ranks(Y_b, units_b, distance if distance_b is None else distance_b)
    return ranks_a @ ranks_b.T


def _unit_ranks(Y, units, distance):
    check_option("distance", distance, NEURAL_DISTANCES)
    columns = unit_columns(units, Y.shape[1]) if units is not None else [np.arange(Y.shape[1])]
    return unit_distance_ranks(Y, columns, distance)
