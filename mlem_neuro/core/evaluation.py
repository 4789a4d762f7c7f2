"""Exact Spearman scores and permutation importances, for many units at once.

Both are computed over every evaluation pair with average ranks for ties
(predicted distances are heavily tied in categorical designs). When the terms
take few distinct values per column, pairs that share a term vector are
grouped through an integer key, so that ranking a unit's predictions costs
O(n_groups) and shuffling one term only rewrites that term's digit of the key;
the grouping is shared by every unit. Otherwise predictions are ranked pair
by pair.
"""

import torch

from .grouping import TermKeys, group_sums
from .metric import constant_terms
from .ranking import pearson_rows, rankdata, standardise_rows, weighted_rankdata

__all__ = [
    "standardised_ranks",
    "spearman_scores",
    "cross_spearman_scores",
    "permutation_importances",
    "score_weights",
]


def standardised_ranks(neural):
    """Average ranks of the neural distances, centred and of unit norm per row.

    Parameters
    ----------
    neural : tensor of shape (n_units, n_pairs)

    Returns
    -------
    tensor of shape (n_units, n_pairs)
    """
    return standardise_rows(rankdata(neural))


def _undefined_as_nan(scores, predicted, neural_ranks):
    """NaN where a unit's predictions or neural distances are all tied: no ranking exists."""
    flat = (predicted.amax(dim=1) == predicted.amin(dim=1)) | (neural_ranks.abs().amax(dim=1) == 0)
    return torch.where(flat, torch.nan, scores)


def _spearman_by_keys(weights, keys, term_keys, neural_ranks):
    group_terms, group_of_pair, counts = term_keys.groups(keys, keep_empty=True)
    predicted = weights @ group_terms.T
    ranks = weighted_rankdata(predicted, counts)
    scores = pearson_rows(ranks, group_sums(neural_ranks, group_of_pair, len(counts)), counts)
    return _undefined_as_nan(scores, predicted[:, counts > 0], neural_ranks)


def _spearman_by_pairs(weights, terms, neural_ranks):
    predicted = weights @ terms.T
    scores = pearson_rows(rankdata(predicted), neural_ranks)
    return _undefined_as_nan(scores, predicted, neural_ranks)


def spearman_scores(weights, terms, neural_ranks):
    """Spearman correlation between predicted and neural distances, per unit.

    Parameters
    ----------
    weights : tensor of shape (n_units, n_terms)
        Term weights of each unit's metric.
    terms : tensor of shape (n_pairs, n_terms)
    neural_ranks : tensor of shape (n_units, n_pairs)
        From :func:`standardised_ranks`.

    Returns
    -------
    scores : tensor of shape (n_units,)
        NaN for a unit whose predicted or neural distances are all equal
        over the pairs (no ranking to correlate).
    """
    term_keys = TermKeys(terms)
    if term_keys.usable:
        return _spearman_by_keys(weights, term_keys.keys, term_keys, neural_ranks)
    return _spearman_by_pairs(weights, terms, neural_ranks)


def cross_spearman_scores(weights, terms, neural_ranks, block=256):
    """Spearman correlation of every unit's metric with every unit's neural distances.

    The temporal-generalisation matrix: a metric learned at one time (unit)
    scored on the distances at every other time.

    Parameters
    ----------
    weights : tensor of shape (n_units, n_terms)
        Term weights of the metrics that predict.
    terms : tensor of shape (n_pairs, n_terms)
    neural_ranks : tensor of shape (n_targets, n_pairs)
        From :func:`standardised_ranks`.
    block : int
        Metrics ranked at a time, to bound memory at block x n_pairs.

    Returns
    -------
    scores : tensor of shape (n_units, n_targets)
        ``scores[i, j]``: metric ``i`` scored on the distances of unit ``j``;
        the diagonal equals :func:`spearman_scores`.
    """
    rows = []
    for start in range(0, weights.shape[0], block):
        predicted = standardise_rows(rankdata(weights[start : start + block] @ terms.T))
        rows.append(predicted @ neural_ranks.T)
    return torch.cat(rows)


def permutation_importances(weights, terms, neural_ranks, n_repeats, generator):
    """Drop in Spearman correlation when one term is shuffled across pairs.

    Each repeat draws one permutation of the pairs per term, shared by all
    units, and shuffles that term's column with it.

    Parameters
    ----------
    weights : tensor of shape (n_units, n_terms)
    terms : tensor of shape (n_pairs, n_terms)
    neural_ranks : tensor of shape (n_units, n_pairs)
    n_repeats : int
    generator : torch.Generator
        CPU generator for the permutations.

    Returns
    -------
    baseline : tensor of shape (n_units,)
        Unshuffled scores.
    drops : tensor of shape (n_repeats, n_units, n_terms)
        Drop in score for every repeat and term; NaN for a term that takes a
        single value over the pairs (shuffling it cannot tell anything).
    """
    term_keys = TermKeys(terms)
    if term_keys.usable:
        baseline = _spearman_by_keys(weights, term_keys.keys, term_keys, neural_ranks)
    else:
        baseline = _spearman_by_pairs(weights, terms, neural_ranks)
    n_pairs, n_terms = terms.shape
    drops = weights.new_zeros(n_repeats, weights.shape[0], n_terms)
    drops[:, :, constant_terms(terms)] = torch.nan
    for term in torch.nonzero(~constant_terms(terms)).ravel().tolist():
        for repeat in range(n_repeats):
            permutation = torch.randperm(n_pairs, generator=generator).to(terms.device)
            if term_keys.usable:
                keys = term_keys.shuffled(term, permutation)
                shuffled = _spearman_by_keys(weights, keys, term_keys, neural_ranks)
            else:
                shuffled_terms = terms.clone()
                shuffled_terms[:, term] = terms[permutation, term]
                shuffled = _spearman_by_pairs(weights, shuffled_terms, neural_ranks)
            drops[repeat, :, term] = baseline - shuffled
    return baseline, drops


def score_weights(weights, terms, neural_ranks, n_repeats, generator):
    """Scores of fixed metrics and, with repeats, the drops of their permutation importances.

    The one scoring path of the package: :func:`mlem_neuro.fit_units` scores
    its test folds with it and :class:`mlem_neuro.MLEM` new stimuli.

    Parameters
    ----------
    weights : tensor of shape (n_units, n_terms)
    terms : tensor of shape (n_pairs, n_terms)
    neural_ranks : tensor of shape (n_units, n_pairs)
        From :func:`standardised_ranks`.
    n_repeats : int
        Shuffles per term; 0 computes scores only.
    generator : torch.Generator

    Returns
    -------
    scores : tensor of shape (n_units,)
    drops : tensor of shape (n_repeats, n_units, n_terms)
        Empty along the first axis without repeats.
    """
    if n_repeats:
        return permutation_importances(weights, terms, neural_ranks, n_repeats, generator)
    scores = spearman_scores(weights, terms, neural_ranks)
    return scores, weights.new_zeros(0, *weights.shape)
