"""Per-unit permutation tests of MLEM scores and importances, corrected across units."""

import dataclasses

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from ..core import (
    FitOptions,
    UnitResults,
    check_positive_int,
    count_stimuli,
    fit_units,
    permutation_orders,
)

__all__ = ["PermutationTestResult", "permutation_test", "permutation_pvalues", "fdr_pvalues"]


# Observed and null statistics are Spearman correlations (or drops of them) computed in
# float32 by default: a null value equal to the observed one up to that rounding counts as
# reaching it, which keeps the test exact for orders that leave the statistic unchanged.
TIE_TOLERANCE = 1e-6


def permutation_pvalues(observed, null, tolerance=TIE_TOLERANCE):
    """Uncorrected and max-statistic (FWER) p-values, one-sided (large is significant).

    Only units whose observed statistic is defined are tested: a NaN unit
    gets a NaN p-value and takes no part in the maximum over units.

    Parameters
    ----------
    observed : array of shape (n_units,)
    null : array of shape (n_permutations, n_units)
        NaN where a permutation's statistic is undefined; that permutation
        is left out of the unit's count.
    tolerance : float
        A null value at most this far below the observed one counts as
        reaching it (rounding of float32 statistics).

    Returns
    -------
    pvalues, pvalues_fwer : arrays of shape (n_units,)
        ``(1 + #{null >= observed}) / (1 + #{defined null values})``,
        against each unit's own null and against the maximum over the tested
        units of each permutation; NaN for untested units.
    """
    observed = np.asarray(observed, dtype=float)
    null = np.asarray(null, dtype=float)
    tested = np.isfinite(observed)
    threshold = observed - tolerance
    exceed = (null >= threshold[None, :]).sum(axis=0)
    counted = np.isfinite(null).sum(axis=0)
    pvalues = np.where(tested, (1 + exceed) / (1 + counted), np.nan)
    among_tested = np.where(tested[None, :] & np.isfinite(null), null, -np.inf)
    maxima = among_tested.max(axis=1)
    maxima = maxima[np.isfinite(maxima)]
    exceed_max = (maxima[:, None] >= threshold[None, :]).sum(axis=0)
    pvalues_fwer = np.where(tested, (1 + exceed_max) / (1 + len(maxima)), np.nan)
    return pvalues, pvalues_fwer


def fdr_pvalues(pvalues):
    """Benjamini-Hochberg adjusted p-values over the tested (non-NaN) units only.

    Parameters
    ----------
    pvalues : array of shape (n_units,)

    Returns
    -------
    array of shape (n_units,)
        NaN where ``pvalues`` is NaN.
    """
    pvalues = np.asarray(pvalues, dtype=float)
    adjusted = np.full_like(pvalues, np.nan)
    tested = np.isfinite(pvalues)
    if tested.any():
        adjusted[tested] = false_discovery_control(pvalues[tested], method="bh")
    return adjusted


@dataclasses.dataclass
class PermutationTestResult:
    """Permutation p-values of every unit's score and term importances.

    Attributes
    ----------
    scores : array of shape (n_units,)
        The tested statistic: the cross-validated Spearman score (in-sample
        when ``cv=None``).
    null : array of shape (n_permutations, n_units)
        The same statistic with the stimuli permuted.
    pvalues : array of shape (n_units,)
        Uncorrected, one-sided; NaN for a unit whose score is NaN (constant
        patterns), which no correction counts. Reject at level alpha where ``p <= alpha``:
        the test is exact then (with 199 permutations, ``p <= 0.05`` has
        probability 10 / 200 under the null; ``p < 0.05`` only 9 / 200).
    pvalues_fwer : array of shape (n_units,)
        Family-wise corrected across units by the maximum statistic.
    pvalues_fdr : array of shape (n_units,)
        Benjamini-Hochberg adjusted ``pvalues`` (reject where at most alpha).
    importances : DataFrame of shape (n_units, n_terms)
    importance_null : array of shape (n_permutations, n_units, n_terms) or None
    importance_pvalues, importance_pvalues_fwer : DataFrame of shape (n_units, n_terms) or None
        Per term; FWER across units, term by term.
    results : UnitResults
        Everything the real fit learned (metrics, fold scores...).
    """

    scores: np.ndarray
    null: np.ndarray
    pvalues: np.ndarray
    pvalues_fwer: np.ndarray
    pvalues_fdr: np.ndarray
    importances: pd.DataFrame
    importance_null: np.ndarray | None
    importance_pvalues: pd.DataFrame | None
    importance_pvalues_fwer: pd.DataFrame | None
    results: UnitResults

    def to_dataframe(self):
        """One row per unit: score, p-values, then importance and its p-values per term.

        Returns
        -------
        DataFrame
        """
        table = pd.DataFrame(
            {
                "score": self.scores,
                "pvalue": self.pvalues,
                "pvalue_fwer": self.pvalues_fwer,
                "pvalue_fdr": self.pvalues_fdr,
            }
        )
        for term in self.importances.columns:
            table[f"importance_{term}"] = self.importances[term].to_numpy()
            if self.importance_pvalues is not None:
                table[f"pvalue_{term}"] = self.importance_pvalues[term].to_numpy()
                table[f"pvalue_fwer_{term}"] = self.importance_pvalues_fwer[term].to_numpy()
        return table


def permutation_test(
    features,
    Y,
    units=None,
    *,
    n_permutations=1000,
    groups=None,
    cv=5,
    permute_within_groups=True,
    n_repeats=1,
    options=None,
    checkpoint=None,
    **settings,
):
    """Test every unit's MLEM score (and importances) against permuted stimuli.

    The statistic is the score :func:`mlem_neuro.fit_units` reports (the
    cross-validated Spearman correlation with the default ``cv``). Under the
    null hypothesis the neural patterns are exchangeable across stimuli;
    each permutation reorders the rows of Y (within ``groups`` when given)
    and refits every unit with the same folds and settings. The permuted
    fits share the real fit's feature distances and folds, so they run as
    extra rows of the same batched computation, not as a loop.

    Parameters
    ----------
    features : DataFrame or array of shape (n_stimuli, n_features)
    Y : array of shape (n_stimuli, n_columns)
    units : sparse matrix or list of int arrays, optional
    n_permutations : int
        Random permutations; p-values cannot go below ``1 / (1 +
        n_permutations)``.
    groups : array of shape (n_stimuli,), optional
        Run or session of each stimulus: folds keep groups apart and, with
        ``permute_within_groups``, stimuli are only permuted within their
        group (exchangeability blocks).
    cv : int, splitter or None
        As in :func:`mlem_neuro.fit_units`; None tests in-sample scores.
    permute_within_groups : bool
    n_repeats : int
        Shuffles per term for the importances of the real and every permuted
        fit (0: no importance test). One is enough for a null distribution;
        it is the most expensive part of each permuted fit. It replaces the
        ``n_repeats`` of ``options``.
    options : FitOptions, optional
        Fit settings (interactions, distance, max_steps, device...); its
        ``random_state`` seeds the permutations and the fits. Settings apply
        to the real and permuted fits alike, which is what keeps the test
        exact: for speed on large problems, ``max_steps=1`` tests the
        closed-form start (diagonal, categorical designs) with the same
        validity.
    checkpoint : str or Path, optional
        Folder for finished chunks: an interrupted test resumes there.
    **settings
        Fields of :class:`mlem_neuro.FitOptions` replacing those of
        ``options`` (``random_state=0``...).

    Returns
    -------
    PermutationTestResult
    """
    n_permutations = check_positive_int("n_permutations", n_permutations)
    options = FitOptions.resolve(options, n_repeats=n_repeats, **settings)
    n_stimuli = count_stimuli(features, options.precomputed_features)
    orders = permutation_orders(
        n_stimuli,
        n_permutations,
        groups if permute_within_groups else None,
        options.random_state,
    )
    results = fit_units(
        features,
        Y,
        units,
        options=options,
        cv=cv,
        groups=groups,
        permutations=orders[1:],
        checkpoint=checkpoint,
    )
    pvalues, pvalues_fwer = permutation_pvalues(results.scores, results.null_scores)
    importance_pvalues = importance_pvalues_fwer = None
    if results.null_importances is not None:
        per_term = [
            permutation_pvalues(results.importances[term], results.null_importances[:, :, index])
            for index, term in enumerate(results.term_names)
        ]
        importance_pvalues = pd.DataFrame(
            np.column_stack([p for p, _ in per_term]), columns=results.term_names
        )
        importance_pvalues_fwer = pd.DataFrame(
            np.column_stack([p for _, p in per_term]), columns=results.term_names
        )
    return PermutationTestResult(
        scores=results.scores,
        null=results.null_scores,
        pvalues=pvalues,
        pvalues_fwer=pvalues_fwer,
        pvalues_fdr=fdr_pvalues(pvalues),
        importances=results.importances,
        importance_null=results.null_importances,
        importance_pvalues=importance_pvalues,
        importance_pvalues_fwer=importance_pvalues_fwer,
        results=results,
    )
