"""fit_units: one MLEM metric per unit, all units batched, with optional cross-validation."""

import time

import torch

from .chunks import plan_chunks, rows_per_chunk
from .evaluation import score_weights
from .folds import fold_pairs, make_folds
from .metric import term_weights
from .options import FitOptions, make_generator
from .permutation import SubsetRanks, orders_and_pair_index
from .problem import Problem
from .results import ResultCollector
from .training import TrainingSettings, fit_metrics
from .validation import check_device

__all__ = ["fit_units"]


def fit_units(
    features,
    Y,
    units=None,
    *,
    options=None,
    cv=None,
    groups=None,
    generalize=False,
    permutations=None,
    feature_names=None,
    **settings,
):
    """Fit one MLEM metric per unit of a pattern matrix, all units at once.

    Parameters
    ----------
    features : DataFrame or array of shape (n_stimuli, n_features)
        Theoretical features of the stimuli (numeric, boolean, categorical or
        string columns; see :class:`mlem_neuro.core.features.FeatureEncoder`).
        With ``precomputed_features=True``, an array of shape (n_stimuli,
        n_stimuli, n_features) of feature distances.
    Y : array of shape (n_stimuli, n_columns)
        Neural patterns, one row per stimulus; with
        ``distance="precomputed"``, a distance matrix of shape (n_stimuli,
        n_stimuli).
    units : sparse matrix of shape (n_units, n_columns) or list of int arrays
        Columns of Y that make up each unit (searchlight sphere, window,
        layer...). None: a single unit with every column.
    options : FitOptions, optional
        The fit settings (defaults when None).
    cv : None, int, scikit-learn splitter or iterable of (train, test)
        Cross-validation over stimuli. An int is a shuffled KFold, or a
        GroupKFold when ``groups`` is given. Only pairs within the training
        stimuli are fitted and only pairs within the test stimuli scored:
        no pair straddles the two.
    groups : array of shape (n_stimuli,), optional
        Group label of each stimulus (run, session) for group-aware splits.
    generalize : bool
        Also score every unit's metric on every other unit's neural
        distances (temporal generalisation when units are time windows).
        Keeps the ranks of every unit's evaluation pairs in host memory:
        n_units x n_pairs values per fold.
    permutations : long tensor or int array of shape (n_permutations, n_stimuli), optional
        Stimulus orders for a permutation test (see
        :func:`mlem_neuro.core.permutation.permutation_orders`, whose first,
        identity row is dropped here). Each order refits every unit with the
        rows of Y reordered (stimulus ``i`` gets the pattern of stimulus
        ``order[i]``), the same folds and the same settings, as extra rows of
        the same batched computation; results go to ``null_scores`` and
        ``null_importances``. Needs every pair of stimuli in the pool.
    feature_names : list of str, optional
        Names for features given as an array.
    **settings
        Any field of :class:`FitOptions` (``random_state=0``...), replacing
        the value in ``options``.

    Returns
    -------
    UnitResults
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    device = check_device(options.device)
    generator = make_generator(options.random_state)
    problem = Problem.build(features, Y, units, options, generator, feature_names)
    folds = make_folds(cv, groups, problem.n_stimuli, options.random_state)
    problem.check_design(options.correlation_warning)
    pairs_per_batch = problem.pairs_per_batch(options.pairs_per_batch, generator)
    fit = _ChunkFit(problem, options, device, generator, pairs_per_batch)
    fit.run(folds, permutations, generalize)
    info = {
        "n_pairs": len(problem.first),
        "all_pairs": problem.all_pairs,
        "pairs_per_batch": pairs_per_batch,
        "max_steps_run": max(fit.collector.steps),
        "seconds": time.perf_counter() - started,
        "device": str(device),
    }
    return fit.collector.results(cv is not None, info, problem.encoder)


class _ChunkFit:
    """The chunk loop of :func:`fit_units`: fit, score and collect every chunk of units."""

    def __init__(self, problem, options, device, generator, pairs_per_batch):
        self.problem, self.options = problem, options
        self.device, self.dtype = device, options.torch_dtype
        self.generator = generator
        self.pairs_per_batch = pairs_per_batch
        self.terms = problem.terms(options.interactions).to(device, self.dtype)
        self.settings = TrainingSettings.from_options(options, len(problem.feature_names))

    def run(self, folds, permutations, generalize):
        problem = self.problem
        self.fold_pairs = fold_pairs(folds, problem.first, problem.second, self.device)
        self.orders, self.pair_index = orders_and_pair_index(
            permutations, problem.n_stimuli, problem.first, problem.second, self.device
        )
        self.collector = ResultCollector(
            len(folds),
            problem.n_units,
            problem.feature_names,
            problem.term_names(self.options.interactions),
            len(self.orders) - 1,
            with_importances=self.options.n_repeats > 0,
        )
        self.generalize = generalize
        if generalize:
            sizes = [len(test) for _, test in self.fold_pairs]
            self.collector.keep_for_generalization(sizes, self.dtype)
        for members, neural in self._chunks():
            self._fit_chunk(members, neural)
        if generalize:
            tests = [test for _, test in self.fold_pairs]
            self.collector.generalize(self.terms, tests, self.device)

    def _chunks(self):
        problem = self.problem
        distances = problem.neural_distances(self.options.distance, self.device, self.dtype)
        if problem.columns is None:
            yield [0], distances.of_matrix()
            return
        chunks = plan_chunks(
            problem.columns,
            len(problem.first),
            problem.n_stimuli,
            self.options.units_per_chunk,
            self.device,
            self.dtype,
            orders_per_unit=len(self.orders),
        )
        for chunk in chunks:
            yield chunk.members, distances.of_chunk(chunk)

    def _fit_chunk(self, members, neural):
        ranker = SubsetRanks(neural)
        rows = rows_per_chunk(neural.shape[1], self.problem.n_stimuli, neural.dtype, self.device)
        block = max(1, min(len(self.orders), rows // len(members)))
        for start in range(0, len(self.orders), block):
            # Rows are unit-major: row u * n_orders_in_block + k is unit u under order k.
            block_index = self.pair_index[start : start + block]
            for fold, (train, test) in enumerate(self.fold_pairs):
                self._fit_fold(ranker, members, start, block_index, fold, train, test)

    def _fit_fold(self, ranker, members, start, block_index, fold, train, test):
        settings, collector = self.settings, self.collector
        learned, best, n_steps = fit_metrics(
            self.terms[train],
            ranker.standardised(block_index[:, train]),
            settings,
            self.pairs_per_batch,
            self.generator,
            ranked=True,
        )
        weights = term_weights(learned, settings.interactions)
        ranks = ranker.standardised(block_index[:, test])
        baseline, importance = self._score(weights, self.terms[test], ranks)
        shape = (len(members), len(block_index))
        if start == 0:
            real = torch.arange(0, shape[0] * shape[1], shape[1], device=weights.device)
            collector.store(
                fold,
                members,
                baseline[real],
                best[real],
                importance[real],
                learned[real],
                n_steps,
            )
            if self.generalize:
                collector.store_for_generalization(fold, members, weights[real], ranks[real])
        collector.store_null(
            fold, members, start, baseline.reshape(shape), importance.reshape(*shape, -1)
        )

    def _score(self, weights, terms, ranks):
        """Held-out scores and mean importance drops (NaN without repeats) of every row."""
        scores, drops = score_weights(weights, terms, ranks, self.options.n_repeats, self.generator)
        if not len(drops):
            return scores, torch.full_like(weights, torch.nan)
        return scores, drops.mean(dim=0)
