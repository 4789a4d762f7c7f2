"""Exact Spearman scores and permutation importances, for many units at once.

Both are computed over every evaluation pair with average ranks for ties
(predicted distances are heavily tied in categorical designs). Pairs that
share a term vector are grouped, so that ranking a unit's predictions costs
O(n_groups); the grouping is shared by every unit.
"""

import torch

from .ranking import pearson_rows, rankdata, standardise_rows, weighted_rankdata
from .training import group_pairs, group_sums

__all__ = ["standardised_ranks", "spearman_scores", "permutation_importances"]


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


def _grouped_spearman(weights, terms, neural_ranks):
    group_terms, group_of_pair, counts = group_pairs(terms)
    predicted = weights @ group_terms.T
    ranks = weighted_rankdata(predicted, counts)
    return pearson_rows(ranks, group_sums(neural_ranks, group_of_pair, len(counts)), counts)


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
    """
    return _grouped_spearman(weights, terms, neural_ranks)


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
        Drop in score for every repeat and term.
    """
    baseline = _grouped_spearman(weights, terms, neural_ranks)
    n_pairs, n_terms = terms.shape
    drops = weights.new_zeros(n_repeats, weights.shape[0], n_terms)
    for term in range(n_terms):
        for repeat in range(n_repeats):
            permutation = torch.randperm(n_pairs, generator=generator).to(terms.device)
            shuffled = terms.clone()
            shuffled[:, term] = terms[permutation, term]
            drops[repeat, :, term] = baseline - _grouped_spearman(weights, shuffled, neural_ranks)
    return baseline, drops
