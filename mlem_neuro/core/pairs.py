"""Pairs of stimuli: the pool a fit draws from, and how many to use per step."""

import logging

import numpy as np
import torch

from .user_warnings import warn

__all__ = [
    "pair_pool",
    "pairs_within",
    "estimate_pairs_per_batch",
    "term_correlations",
    "warn_if_correlated",
]

logger = logging.getLogger("mlem_neuro")


def pair_pool(n_stimuli, max_pairs, generator):
    """Every pair ``i < j`` of stimuli, or a random subset when there are too many.

    Parameters
    ----------
    n_stimuli : int
    max_pairs : int
        Largest pool kept; above it, ``max_pairs`` distinct pairs are drawn.
    generator : torch.Generator

    Returns
    -------
    first, second : long tensors of shape (n_pairs,)
        With ``first < second``, in row-major order when all pairs are kept.
    all_pairs : bool
    """
    n_all = n_stimuli * (n_stimuli - 1) // 2
    if n_all <= max_pairs:
        first, second = torch.triu_indices(n_stimuli, n_stimuli, offset=1)
        return first, second, True
    logger.info("Using a random pool of %d of the %d pairs of stimuli.", max_pairs, n_all)
    keys = torch.empty(0, dtype=torch.long)
    while keys.numel() < max_pairs:
        draw = torch.randint(n_stimuli, (2, 2 * max_pairs), generator=generator)
        low, high = draw.min(dim=0).values, draw.max(dim=0).values
        distinct = low != high
        keys = torch.cat([keys, low[distinct] * n_stimuli + high[distinct]]).unique()
    keep = torch.randperm(keys.numel(), generator=generator)[:max_pairs].sort().values
    keys = keys[keep]
    return keys // n_stimuli, keys % n_stimuli, False


def pairs_within(first, second, stimuli):
    """Select the pairs whose two stimuli both belong to a subset.

    Parameters
    ----------
    first, second : long tensors of shape (n_pairs,)
    stimuli : int array
        Indices of the subset (for example the training stimuli of a fold).

    Returns
    -------
    selection : long tensor of shape (n_selected,)
        Indices into the pairs.
    """
    stimuli = torch.as_tensor(np.asarray(stimuli), dtype=torch.long)
    # A pool drawn from many pairs need not touch every stimulus of the subset.
    size = max(
        (int(indices.max()) for indices in (first, second, stimuli) if len(indices)), default=-1
    )
    member = torch.zeros(size + 1, dtype=torch.bool)
    member[stimuli] = True
    return torch.nonzero(member[first] & member[second]).squeeze(1)


def _column_correlations(samples):
    """Correlation between every two columns, per trial: (n_trials, F, F)."""
    centred = samples - samples.mean(dim=1, keepdim=True)
    covariance = centred.transpose(1, 2) @ centred
    scale = torch.diagonal(covariance, dim1=1, dim2=2).sqrt()
    return covariance / (scale[:, :, None] * scale[:, None, :])


def estimate_pairs_per_batch(
    feature_distances,
    generator,
    *,
    start=256,
    factor=1.2,
    n_trials=16,
    threshold=0.01,
    maximum=2**20,
):
    """Smallest number of pairs whose feature correlations are stable.

    The rule of the reference implementation: draw ``n_trials`` batches of
    pairs, compute the correlations between feature distances in each, and
    grow the batch by ``factor`` until their standard deviation across trials
    is below ``threshold`` for every pair of features.

    Parameters
    ----------
    feature_distances : tensor of shape (n_pairs, n_features)
        Feature distances of the pool of pairs.
    generator : torch.Generator

    Returns
    -------
    int
        Pairs per batch; at most ``maximum``.
    """
    n_pairs, n_features = feature_distances.shape
    if n_features < 2:
        return min(start, n_pairs)
    upper = torch.triu_indices(n_features, n_features, offset=1)
    batch = start
    while batch < maximum:
        picks = torch.randint(n_pairs, (n_trials, batch), generator=generator)
        correlations = _column_correlations(feature_distances[picks.to(feature_distances.device)])
        spread = correlations[:, upper[0], upper[1]].std(dim=0)
        worst = torch.nan_to_num(spread, nan=0.0).max().item()
        if worst < threshold:
            break
        batch = int(batch * factor)
    return min(batch, maximum)


def term_correlations(terms):
    """Pearson correlation of every two terms across pairs (0 where a term is constant).

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)

    Returns
    -------
    tensor of shape (n_terms, n_terms), float64
        Ones on the diagonal.
    """
    correlations = torch.nan_to_num(_column_correlations(terms[None].double())[0], nan=0.0)
    return correlations.fill_diagonal_(1.0)


def warn_if_correlated(terms, names, threshold):
    """Warn when two terms are strongly correlated across pairs.

    Permutation importances share credit unpredictably between correlated
    terms, so they are hard to read.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
    names : list of str
    threshold : float
        Absolute correlation above which to warn.
    """
    if terms.shape[1] < 2:
        return
    correlations = term_correlations(terms).fill_diagonal_(0)
    strongest = correlations.abs().max().item()
    if strongest > threshold:
        a, b = np.unravel_index(int(correlations.abs().argmax()), correlations.shape)
        warn(
            f"Terms {names[a]!r} and {names[b]!r} are correlated across pairs of stimuli "
            f"(r = {correlations[a, b].item():.2f}, above {threshold}). Their importances are "
            "hard to tell apart; consider a more balanced design.",
        )
