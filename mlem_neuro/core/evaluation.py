"""Exact Spearman scores and permutation importances, for many units at once.

Both are computed over every evaluation pair with average ranks for ties
(predicted distances are heavily tied in categorical designs). When the terms
take few distinct values per column, pairs that share a term vector are
grouped through an integer key, so that ranking a unit's predictions costs
O(n_groups) and shuffling one term only rewrites that term's digit of the key;
the grouping is shared by every unit. Otherwise predictions are ranked pair
by pair.
"""

import math

import torch

from .grouping import TermKeys, group_sums
from .metric import constant_terms
from .ranking import RowOrder, pearson_rows, rankdata, standardise_rows

__all__ = [
    "standardised_ranks",
    "spearman_scores",
    "cross_spearman_scores",
    "permutation_importances",
    "score_weights",
    "EvaluationPairs",
    "importance_pairs_for_precision",
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


def _tied_rows(predicted):
    """Rows of predicted distances that are all equal: bool tensor of shape (n_rows,)."""
    return predicted.amax(dim=1) == predicted.amin(dim=1)


def _flat_rows(neural_ranks):
    """Rows of standardised neural ranks that are all tied (zero): bool tensor (n_rows,)."""
    return neural_ranks.abs().amax(dim=1) == 0


def _undefined_as_nan(scores, predicted, neural_ranks):
    """NaN where a unit's predictions or neural distances are all tied: no ranking exists."""
    return torch.where(_tied_rows(predicted) | _flat_rows(neural_ranks), torch.nan, scores)


def _spearman_by_keys(weights, keys, term_keys, neural_ranks, order=None):
    """Scores over pairs grouped by key; ``order``: the RowOrder of every key's predictions."""
    group_terms, group_of_pair, counts = term_keys.groups(keys, keep_empty=True)
    if order is None:
        order = RowOrder(weights @ group_terms.T)
    predicted = order.values
    ranks = order.weighted_ranks(counts)
    scores = pearson_rows(ranks, group_sums(neural_ranks, group_of_pair, len(counts)), counts)
    return _undefined_as_nan(scores, predicted[:, counts > 0], neural_ranks)


def _spearman_by_pairs(weights, terms, neural_ranks):
    predicted = weights @ terms.T
    scores = pearson_rows(rankdata(predicted), neural_ranks)
    return _undefined_as_nan(scores, predicted, neural_ranks)


class EvaluationPairs:
    """The pairs metrics are scored on, prepared once and shared by every chunk of units.

    Scores are always exact over every pair. Importances too, when that is cheap:
    the terms take few values (grouped by key) or the pairs are few. Otherwise
    each repeat scores the shuffles on its own random sample of
    ``pairs_per_repeat`` pairs, so that the spread over repeats measures both the
    shuffles' and the pairs' sampling error (see
    :func:`importance_pairs_for_precision`).

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
    pairs_per_repeat : int, optional
        None: importances over every pair.
    """

    def __init__(self, terms, pairs_per_repeat=None):
        self.terms = terms
        self.keys = TermKeys(terms)
        self.pairs_per_repeat = pairs_per_repeat

    @property
    def sampled(self):
        """Whether importances are scored on samples of pairs."""
        return (
            not self.keys.usable
            and self.pairs_per_repeat is not None
            and len(self.terms) > self.pairs_per_repeat
        )

    def scores(self, weights, neural_ranks):
        """Spearman correlation between predicted and neural distances over every pair.

        Parameters
        ----------
        weights : tensor of shape (n_units, n_terms)
        neural_ranks : tensor of shape (n_units, n_pairs)
            From :func:`standardised_ranks`.

        Returns
        -------
        tensor of shape (n_units,)
            NaN for a unit whose predicted or neural distances are all equal
            over the pairs (no ranking to correlate).
        """
        if self.keys.usable:
            return _spearman_by_keys(weights, self.keys.keys, self.keys, neural_ranks)
        return _spearman_by_pairs(weights, self.terms, neural_ranks)

    def importances(self, weights, neural_ranks, n_repeats, generator):
        """Scores over every pair, and the drop when each term is shuffled, per repeat.

        Returns
        -------
        baseline : tensor of shape (n_units,)
        drops : tensor of shape (n_repeats, n_units, n_terms)
            NaN for a term that takes a single value over the pairs.
        """
        baseline = self.scores(weights, neural_ranks)
        if self.sampled:
            return baseline, self._sampled_drops(weights, neural_ranks, n_repeats, generator)
        return baseline, self._drops(weights, neural_ranks, n_repeats, generator, baseline)

    def _drops(self, weights, neural_ranks, n_repeats, generator, baseline):
        terms, keys = self.terms, self.keys
        n_pairs, n_terms = terms.shape
        drops = weights.new_zeros(n_repeats, weights.shape[0], n_terms)
        drops[:, :, constant_terms(terms)] = torch.nan
        # A shuffle moves pairs between groups but never changes a group's prediction: when
        # every possible key is a group, its predictions are sorted once for all shuffles.
        every_group = keys.every_group_terms
        order = None if every_group is None else RowOrder(weights @ every_group.T)
        for term in torch.nonzero(~constant_terms(terms)).ravel().tolist():
            for repeat in range(n_repeats):
                permutation = torch.randperm(n_pairs, generator=generator).to(terms.device)
                if keys.usable:
                    shuffled_keys = keys.shuffled(term, permutation)
                    shuffled = _spearman_by_keys(weights, shuffled_keys, keys, neural_ranks, order)
                else:
                    shuffled_terms = terms.clone()
                    shuffled_terms[:, term] = terms[permutation, term]
                    shuffled = _spearman_by_pairs(weights, shuffled_terms, neural_ranks)
                drops[repeat, :, term] = baseline - shuffled
        return drops

    def _sampled_drops(self, weights, neural_ranks, n_repeats, generator):
        n_pairs, n_terms = self.terms.shape
        drops = weights.new_zeros(n_repeats, weights.shape[0], n_terms)
        for repeat in range(n_repeats):
            chosen = torch.randperm(n_pairs, generator=generator)[: self.pairs_per_repeat]
            chosen = chosen.to(self.terms.device)
            terms = self.terms[chosen]
            ranks = standardised_ranks(neural_ranks[:, chosen])
            baseline = _spearman_by_pairs(weights, terms, ranks)
            drops[repeat, :, constant_terms(terms)] = torch.nan
            for term in torch.nonzero(~constant_terms(terms)).ravel().tolist():
                permutation = torch.randperm(len(chosen), generator=generator).to(terms.device)
                shuffled_terms = terms.clone()
                shuffled_terms[:, term] = terms[permutation, term]
                drops[repeat, :, term] = baseline - _spearman_by_pairs(
                    weights, shuffled_terms, ranks
                )
        return drops


def importance_pairs_for_precision(precision, n_repeats):
    """Pairs per repeat that bring each importance's standard error down to ``precision``.

    A drop in Spearman correlation measured on ``m`` pairs varies across
    samples with a variance of at most about ``2 / m``; averaged over
    ``n_repeats`` independent samples, its standard error is at most
    ``sqrt(2 / (m * n_repeats))``.

    Returns
    -------
    int
    """
    return max(1000, math.ceil(2 / (precision**2 * max(1, n_repeats))))


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
    return EvaluationPairs(terms).scores(weights, neural_ranks)


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
        the diagonal equals :func:`spearman_scores`, NaN included (a row
        whose predictions, or a column whose neural distances, are all tied).
    """
    rows = []
    flat_targets = _flat_rows(neural_ranks)
    for start in range(0, weights.shape[0], block):
        predicted = weights[start : start + block] @ terms.T
        scores = standardise_rows(rankdata(predicted)) @ neural_ranks.T
        flat = _tied_rows(predicted)[:, None] | flat_targets[None]
        rows.append(torch.where(flat, torch.nan, scores))
    return torch.cat(rows)


def permutation_importances(weights, terms, neural_ranks, n_repeats, generator):
    """Drop in Spearman correlation when one term is shuffled across every pair.

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
    return EvaluationPairs(terms).importances(weights, neural_ranks, n_repeats, generator)


def score_weights(weights, pairs, neural_ranks, n_repeats, generator):
    """Scores of fixed metrics and, with repeats, the drops of their permutation importances.

    The one scoring path of the package: :func:`mlem_neuro.fit_units` scores
    its test folds with it and :class:`mlem_neuro.MLEM` new stimuli.

    Parameters
    ----------
    weights : tensor of shape (n_units, n_terms)
    pairs : EvaluationPairs or tensor of shape (n_pairs, n_terms)
        The pairs' terms (prepared once, or as a tensor).
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
    if not isinstance(pairs, EvaluationPairs):
        pairs = EvaluationPairs(pairs)
    if n_repeats:
        return pairs.importances(weights, neural_ranks, n_repeats, generator)
    return pairs.scores(weights, neural_ranks), weights.new_zeros(0, *weights.shape)
