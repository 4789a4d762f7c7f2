"""What a batched fit learned: per-unit results, gathered fold by fold and chunk by chunk."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import torch

from .evaluation import cross_spearman_scores
from .metric import term_weights

__all__ = ["UnitResults", "ResultCollector"]


@dataclasses.dataclass
class UnitResults:
    """What :func:`mlem_neuro.fit_units` learned for every unit.

    Attributes
    ----------
    scores : array of shape (n_units,)
        Spearman correlation between predicted and neural distances: mean
        over folds on held-out stimuli when ``cv`` was given, else in-sample
        over all pairs.
    fold_scores : array of shape (n_folds, n_units) or None
        Held-out score of every fold (None without ``cv``).
    importances : DataFrame of shape (n_units, n_terms)
        Permutation importance of each term (features, then "a:b"
        interactions): the mean drop in score when that term is shuffled
        across pairs, on the pairs scores are computed on.
    metrics : array of shape (n_units, n_features, n_features)
        Learned metrics, unit Frobenius norm (the mean over folds,
        renormalised, under cross-validation).
    feature_names : list of str
    term_names : list of str
    train_scores : array of shape (n_units,)
        Best training score (mean over folds): in the exact (grouped) mode
        the soft Spearman correlation over every training pair; in the
        sampled mode the exact Spearman correlation on the fixed evaluation
        sample of training pairs that the fit maximised, so optimistic as an
        estimate of the training fit (the parameters were chosen on it).
        Never a held-out score: use ``scores``.
    info : dict
        How the fit ran: pairs per batch, mode, steps, seconds.
    generalization : array of shape (n_units, n_units) or None
        With ``generalize=True``: entry ``[i, j]`` scores the metric learned
        on unit ``i`` against the neural distances of unit ``j`` (held-out
        pairs under cross-validation, mean over folds). Its diagonal is
        ``scores``.
    null_scores : array of shape (n_permutations, n_units) or None
        Scores of the fits of permuted stimuli (``permutations=``), averaged
        over the same folds as ``scores``: those in which the real fit's
        score is defined. NaN for a unit whose score is NaN.
    null_importances : array of shape (n_permutations, n_units, n_terms) or None
        Likewise, term by term, over the folds in which the real importance
        is defined.
    encoder : FeatureEncoder or None
        How the features were coded (None for precomputed feature
        distances), to code new stimuli the same way.
    extra_weights : DataFrame of shape (n_units, n_extra) or None
        Weights of the extra (higher-order) product terms, normalised with
        the metrics: ``||W||_F**2 + sum(v_k**2) = 1``.
    importance_se : DataFrame of shape (n_units, n_terms) or None
        Standard error of each importance, from the spread of its repeats
        (and, where importances are scored on samples of pairs, of those
        samples); NaN with fewer than 2 repeats.
    """

    scores: np.ndarray
    fold_scores: np.ndarray | None
    importances: pd.DataFrame
    metrics: np.ndarray
    feature_names: list
    term_names: list
    train_scores: np.ndarray
    info: dict
    generalization: np.ndarray | None = None
    null_scores: np.ndarray | None = None
    null_importances: np.ndarray | None = None
    encoder: object | None = None
    importance_se: pd.DataFrame | None = None
    extra_weights: pd.DataFrame | None = None

    @classmethod
    def concatenate(cls, parts):
        """Results of disjoint sets of units, one after the other (the shards of a fit).

        Parameters
        ----------
        parts : list of UnitResults
            Fitted on the same features and folds.

        Returns
        -------
        UnitResults
        """
        first = parts[0]

        def stacked(name, axis=0):
            values = [getattr(part, name) for part in parts]
            return None if values[0] is None else np.concatenate(values, axis=axis)

        info = dict(first.info)
        steps = [part.info["unit_steps"] for part in parts if "unit_steps" in part.info]
        if steps:
            info["unit_steps"] = np.concatenate(steps)
            info["max_steps_run"] = int(info["unit_steps"].max())
        for key in ("seconds", "units_at_step_budget"):
            if key in info:
                info[key] = sum(part.info[key] for part in parts)
        return cls(
            scores=stacked("scores"),
            fold_scores=stacked("fold_scores", axis=1),
            importances=pd.concat([part.importances for part in parts], ignore_index=True),
            importance_se=None
            if first.importance_se is None
            else pd.concat([part.importance_se for part in parts], ignore_index=True),
            extra_weights=None
            if first.extra_weights is None
            else pd.concat([part.extra_weights for part in parts], ignore_index=True),
            metrics=stacked("metrics"),
            feature_names=first.feature_names,
            term_names=first.term_names,
            train_scores=stacked("train_scores"),
            info=info,
        )

    def to_dataframe(self):
        """One row per unit: score, then importance_<term> columns.

        Returns
        -------
        DataFrame of shape (n_units, 1 + n_terms)
        """
        table = self.importances.add_prefix("importance_")
        table.insert(0, "score", self.scores)
        return table

    def term_weights(self):
        """Weight of each term in ``d^T W d`` for every unit (``W_ff``, then ``2 W_ab``).

        Returns
        -------
        DataFrame of shape (n_units, n_terms)
        """
        n_extra = 0 if self.extra_weights is None else self.extra_weights.shape[1]
        interactions = len(self.term_names) - n_extra > len(self.feature_names)
        weights = term_weights(torch.from_numpy(self.metrics), interactions).numpy()
        if n_extra:
            weights = np.concatenate([weights, self.extra_weights.to_numpy()], axis=1)
        return pd.DataFrame(weights, columns=self.term_names)

    def metric_frame(self, unit):
        """The metric of one unit as a DataFrame indexed by feature names."""
        return pd.DataFrame(
            self.metrics[unit], index=self.feature_names, columns=self.feature_names
        )


def _fold_mean(values):
    """Mean over folds (axis 0), ignoring folds where a value is undefined (NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all folds undefined: NaN
        return np.nanmean(values, axis=0)


def _fold_mean_se(errors):
    """Standard error of the mean over folds of independent estimates (axis 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        counted = np.isfinite(errors).sum(axis=0)
        return np.sqrt(np.nansum(errors**2, axis=0)) / np.where(counted, counted, np.nan)


def _host(tensor):
    return tensor.detach().double().cpu().numpy()


class ResultCollector:
    """Per-fold, per-unit results as they come, chunk by chunk.

    Parameters
    ----------
    n_folds, n_units : int
    feature_names : list of str
    layout : TermLayout
        The terms fitted.
    n_permutations : int
        Permuted orders of the stimuli besides the real one.
    with_importances : bool
        Whether importances are computed (``n_repeats > 0``); without them no
        null of importances is kept.
    """

    def __init__(
        self,
        n_folds,
        n_units,
        feature_names,
        layout,
        n_permutations=0,
        with_importances=True,
    ):
        term_names = layout.names(feature_names)
        n_features, n_terms = len(feature_names), len(term_names)
        self.feature_names, self.term_names, self.layout = feature_names, term_names, layout
        self.extra_weights = np.zeros((n_folds, n_units, len(layout.extra)))
        self.n_folds = n_folds
        self.scores = np.zeros((n_folds, n_units))
        self.train_scores = np.zeros((n_folds, n_units))
        self.importances = np.zeros((n_folds, n_units, n_terms))
        self.metrics = np.zeros((n_folds, n_units, n_features, n_features))
        self.steps = np.zeros((n_folds, n_units), dtype=np.int64)
        self.importance_se = np.full((n_folds, n_units, n_terms), np.nan)
        # Units without a ranking of their neural distances: scored NaN whatever the numerics.
        self.flat = np.zeros(n_units, dtype=bool)
        self.directionless = np.zeros(n_units, dtype=bool)
        # Sums over the folds in which the real fit's statistic is defined (float64, so that
        # an order equal to the identity reproduces the observed mean exactly).
        self.null_scores = np.zeros((n_permutations, n_units))
        self.null_importances = None
        if n_permutations and with_importances:
            self.null_importances = np.zeros((n_permutations, n_units, n_terms))
        self.generalization = None
        self.generalization_inputs = False

    def store(self, fold, members, scores, train_scores, importances, weights, unit_steps, spread):
        """Keep one fold's results for the units ``members``.

        ``weights`` are the learned term weights, ``spread`` the standard
        errors of the importances.
        """
        self.scores[fold, members] = _host(scores)
        self.train_scores[fold, members] = _host(train_scores)
        self.importances[fold, members] = _host(importances)
        self.metrics[fold, members] = _host(self.layout.metrics(weights))
        self.extra_weights[fold, members] = _host(self.layout.extra_weights(weights))
        self.steps[fold, members] = unit_steps.cpu().numpy()
        self.importance_se[fold, members] = _host(spread)

    def unit_steps(self):
        """Steps every unit ran, the most over folds: array of shape (n_units,)."""
        return self.steps.max(axis=0)

    def _per_unit(self):
        """Every array kept per unit, with the axis that indexes units."""
        arrays = {
            "scores": (self.scores, 1),
            "train_scores": (self.train_scores, 1),
            "importances": (self.importances, 1),
            "metrics": (self.metrics, 1),
            "extra_weights": (self.extra_weights, 1),
            "steps": (self.steps, 1),
            "importance_se": (self.importance_se, 1),
            "flat": (self.flat, 0),
            "directionless": (self.directionless, 0),
            "null_scores": (self.null_scores, 1),
        }
        if self.null_importances is not None:
            arrays["null_importances"] = (self.null_importances, 1)
        if self.generalization_inputs:
            for fold, (weights, ranks) in enumerate(zip(self._fold_weights, self._fold_ranks)):
                arrays[f"weights_{fold}"] = (weights, 0)
                arrays[f"ranks_{fold}"] = (ranks, 0)
        return arrays

    def snapshot(self, members):
        """The results of the units ``members`` (a finished chunk), to checkpoint.

        Returns
        -------
        dict of str to array
        """
        return {
            name: np.asarray(array).take(members, axis=axis)
            for name, (array, axis) in self._per_unit().items()
        }

    def restore(self, members, arrays):
        """Put back the results of a checkpointed chunk of units."""
        for name, (array, axis) in self._per_unit().items():
            index = (slice(None),) * axis + (members,)
            array[index] = (
                torch.from_numpy(arrays[name]) if torch.is_tensor(array) else arrays[name]
            )

    def store_null(self, fold, members, start, scores, importances):
        """Add one fold's values of the permuted orders ``start``... (order 0 is the real data).

        A fold counts towards a unit's null exactly where it counts towards the
        unit's observed statistic: where the real fit's value (stored first) is
        defined. Whether a term is constant in a test fold, or a unit flat,
        depends on the features and the unit only, so the same folds are
        undefined in every permutation; averaging the null over every fold
        would make it NaN and every p-value the smallest possible.

        Parameters
        ----------
        scores : tensor of shape (chunk_units, n_orders_in_block)
        importances : tensor of shape (chunk_units, n_orders_in_block, n_terms)
        """
        if not len(self.null_scores):
            return
        skip = 1 if start == 0 else 0
        orders = slice(start + skip - 1, start + scores.shape[1] - 1)
        defined = np.isfinite(self.scores[fold, members])
        self.null_scores[orders, members] += np.where(defined, _host(scores[:, skip:]).T, 0.0)
        if self.null_importances is not None:
            defined = np.isfinite(self.importances[fold, members])
            values = _host(importances[:, skip:]).transpose(1, 0, 2)
            self.null_importances[orders, members] += np.where(defined, values, 0.0)

    def _null_means(self):
        """The nulls' fold means, over the folds defined in the real fit (NaN where none is)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = self.null_scores / np.isfinite(self.scores).sum(axis=0)
            if self.null_importances is None:
                return scores, None
            return scores, self.null_importances / np.isfinite(self.importances).sum(axis=0)

    def keep_for_generalization(self, test_sizes, dtype):
        """Start keeping every unit's weights and held-out ranks, per fold."""
        n_units, n_terms = self.importances.shape[1:]
        self.generalization_inputs = True
        self._fold_weights = [torch.zeros(n_units, n_terms, dtype=dtype) for _ in test_sizes]
        self._fold_ranks = [torch.zeros(n_units, size, dtype=dtype) for size in test_sizes]

    def store_for_generalization(self, fold, members, weights, ranks):
        """Keep one fold's term weights and held-out neural ranks of the units ``members``."""
        self._fold_weights[fold][members] = weights.detach().cpu()
        self._fold_ranks[fold][members] = ranks.cpu()

    def generalize(self, terms, tests, device):
        """Every unit's metric scored on every unit's held-out distances, mean over folds.

        Folds are averaged by the rule of ``scores`` (undefined folds left
        out), so that the diagonal equals ``scores``.
        """
        self.generalization = _fold_mean(
            [
                _host(cross_spearman_scores(weights.to(device), terms[test], ranks.to(device)))
                for weights, ranks, test in zip(self._fold_weights, self._fold_ranks, tests)
            ]
        )

    def results(self, cross_validated, info, encoder=None):
        """The :class:`UnitResults`: means over folds, metrics renormalised."""
        self.scores[:, self.flat] = np.nan
        self.importances[:, self.flat] = np.nan
        metrics = self.metrics.mean(axis=0)
        extra = self.extra_weights.mean(axis=0)
        if extra.shape[1]:  # W and the extra weights are normalised together
            scale = np.sqrt((metrics**2).sum(axis=(1, 2)) + (extra**2).sum(axis=1))
            metrics, extra = metrics / scale[:, None, None], extra / scale[:, None]
        else:
            metrics /= np.linalg.norm(metrics, axis=(1, 2), keepdims=True)
        null_scores, null_importances = self._null_means()
        return UnitResults(
            scores=_fold_mean(self.scores),
            fold_scores=self.scores if cross_validated else None,
            importances=pd.DataFrame(_fold_mean(self.importances), columns=self.term_names),
            importance_se=pd.DataFrame(_fold_mean_se(self.importance_se), columns=self.term_names),
            extra_weights=pd.DataFrame(extra, columns=self.term_names[self.layout.n_quadratic :])
            if len(self.layout.extra)
            else None,
            metrics=metrics,
            feature_names=self.feature_names,
            term_names=self.term_names,
            train_scores=self.train_scores.mean(axis=0),
            info=info,
            generalization=self.generalization,
            null_scores=null_scores if len(null_scores) else None,
            null_importances=null_importances,
            encoder=encoder,
        )
