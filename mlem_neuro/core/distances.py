"""Neural distances between the patterns of pairs of stimuli, for many units at once."""

import numpy as np
import torch

from .options import NEURAL_DISTANCES
from .validation import check_option

__all__ = [
    "NEURAL_DISTANCES",
    "check_patterns",
    "check_precomputed_neural_distances",
    "standardise_for_distance",
    "unit_pair_distances",
]


def check_patterns(Y, n_stimuli, name="Y"):
    """Validate a pattern matrix.

    Parameters
    ----------
    Y : array of shape (n_stimuli, n_columns)
    n_stimuli : int
        Number of stimuli described by the features.

    Returns
    -------
    array of shape (n_stimuli, n_columns)
    """
    array = np.asarray(Y)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be an array of shape (n_stimuli, n_columns), got shape {array.shape}."
        )
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}.")
    if array.shape[0] != n_stimuli:
        raise ValueError(
            f"{name} has {array.shape[0]} rows (stimuli) but features describe {n_stimuli} "
            "stimuli; they must match."
        )
    bad = ~np.isfinite(array)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise ValueError(
            f"{name} contains {bad.sum()} NaN or infinite value(s), first at row {rows[0]}, "
            f"column {cols[0]}. Remove or impute them before fitting."
        )
    return array


def check_precomputed_neural_distances(distances, n_stimuli):
    """Validate a precomputed neural distance matrix.

    Parameters
    ----------
    distances : array of shape (n_stimuli, n_stimuli)
        Symmetric and finite.

    Returns
    -------
    array of shape (n_stimuli, n_stimuli), float64
    """
    array = np.asarray(distances, dtype=np.float64)
    if array.shape != (n_stimuli, n_stimuli):
        raise ValueError(
            "With distance='precomputed', Y must be a distance matrix of shape "
            f"({n_stimuli}, {n_stimuli}) matching the features, got {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("The precomputed distance matrix Y contains NaN or infinite values.")
    if not np.allclose(array, array.T):
        raise ValueError("The precomputed distance matrix Y must be symmetric.")
    return array


def standardise_for_distance(Y, distance):
    """Rescale patterns without changing the ranks of their distances.

    Euclidean-type distances are invariant to a translation shared by all
    stimuli and scale with a global factor, so columns are centred and the
    whole matrix divided by its standard deviation: the result no longer
    depends on the unit of measurement (tesla, volts, % signal) and float32
    keeps its precision. Correlation and cosine distances are left as is.

    Parameters
    ----------
    Y : array of shape (n_stimuli, n_columns)

    Returns
    -------
    array of shape (n_stimuli, n_columns), float64
    """
    Y = np.asarray(Y, dtype=np.float64)
    if distance in ("correlation", "cosine"):
        return Y
    centred = Y - Y.mean(axis=0)
    scale = centred.std()
    return centred / scale if scale > 0 else centred


def _transform_within_units(patterns, mask, distance):
    """Normalise patterns so that every distance is a function of the squared euclidean one.

    patterns : (n_units, n_stimuli, width), zero where ``mask`` is False.

    Returns the patterns and, for correlation and cosine distances, a bool
    tensor of shape (n_units,) that is True for units in which some stimulus
    has no direction (a constant pattern, or a zero one for cosine): their
    distances are undefined. None for other distances.
    """
    if distance not in ("correlation", "cosine"):
        return patterns, None
    if distance == "correlation":
        inside = mask[:, None, :]
        highest = patterns.masked_fill(~inside, -torch.inf).amax(dim=2)
        lowest = patterns.masked_fill(~inside, torch.inf).amin(dim=2)
        directionless = highest == lowest
        weights = inside.to(patterns.dtype)
        sizes = weights.sum(dim=2, keepdim=True)
        patterns = (patterns - patterns.sum(dim=2, keepdim=True) / sizes) * weights
    else:
        directionless = (patterns == 0).all(dim=2)
    norms = patterns.norm(dim=2, keepdim=True)
    patterns = patterns / norms.clamp_min(torch.finfo(patterns.dtype).tiny)
    return patterns, directionless.any(dim=1)


def unit_pair_distances(patterns, mask, first, second, distance, all_pairs):
    """Distance between the two stimuli of each pair, within each unit.

    Parameters
    ----------
    patterns : tensor of shape (n_units, n_stimuli, width)
        Each unit's columns of Y, zero-padded to a common width.
    mask : bool tensor of shape (n_units, width)
        True on real columns.
    first, second : long tensors of shape (n_pairs,)
        Stimuli of each pair.
    distance : str
        One of :data:`NEURAL_DISTANCES`. Correlation and cosine distances are
        ``1 - r``, undefined (NaN for the whole unit) where a stimulus's
        pattern is constant within the unit (correlation) or zero (cosine),
        as in SciPy.
    all_pairs : bool
        True when the pairs are every ``i < j`` in row-major order; a Gram
        matrix is then faster than differences.

    Returns
    -------
    distances : tensor of shape (n_units, n_pairs)
    """
    check_option("distance", distance, NEURAL_DISTANCES)
    patterns, undefined = _transform_within_units(patterns, mask, distance)
    if distance == "manhattan":
        if all_pairs:
            full = torch.cdist(patterns, patterns, p=1)
            return full[:, first, second]
        return _pairwise_by_difference(patterns, first, second, p=1)
    if all_pairs:
        squared = _squared_by_gram(patterns, first, second)
    else:
        squared = _pairwise_by_difference(patterns, first, second, p=2)
    if distance == "euclidean":
        return squared.sqrt()
    if distance == "sqeuclidean":
        return squared
    return (squared / 2).masked_fill(undefined[:, None], torch.nan)  # 1 - r, unit-norm patterns


#: A squared distance below this fraction of the two squared norms, in units of the
#: dtype's resolution, is recomputed from the difference of the patterns: the Gram
#: identity |a|^2 + |b|^2 - 2 a.b cancels there (near-duplicate patterns far from 0).
_CANCELLATION = 1024


def _squared_by_gram(patterns, first, second):
    """Squared euclidean distances of every pair from a Gram matrix, exact where it cancels."""
    gram = patterns @ patterns.transpose(1, 2)
    norms = torch.diagonal(gram, dim1=1, dim2=2)
    scale = norms[:, first] + norms[:, second]
    squared = (scale - 2 * gram[:, first, second]).clamp_min(0)
    resolution = _CANCELLATION * torch.finfo(patterns.dtype).eps
    cancelled = squared <= resolution * scale
    units = torch.nonzero(cancelled.any(dim=1)).ravel()
    if len(units):
        pairs = torch.nonzero(cancelled[units].any(dim=0)).ravel()
        exact = _pairwise_by_difference(patterns[units], first[pairs], second[pairs], p=2)
        squared[units[:, None], pairs[None, :]] = exact
    return squared


#: Pairs whose pattern differences are computed at once when not every pair is used.
PAIRS_PER_DIFFERENCE = 4096


def _pairwise_by_difference(patterns, first, second, p):
    """Sum of |differences|**p per pair, bounded in memory."""
    pieces = []
    for start in range(0, len(first), PAIRS_PER_DIFFERENCE):
        stop = start + PAIRS_PER_DIFFERENCE
        difference = patterns[:, first[start:stop]] - patterns[:, second[start:stop]]
        pieces.append(difference.abs().pow(p).sum(dim=2))
    return torch.cat(pieces, dim=1)
