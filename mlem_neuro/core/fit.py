"""fit_units: one MLEM metric per unit, all units batched, with optional cross-validation."""

import contextlib
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .checkpoint import ChunkCheckpoint, fingerprint
from .chunks import plan_chunks, rows_per_chunk
from .evaluation import EvaluationPairs, importance_pairs_for_precision, score_weights
from .folds import fold_pairs, make_folds, warn_about_degenerate_folds, warn_about_small_folds
from .options import FitOptions, make_generator
from .permutation import ScratchBuffers, SubsetRanks, orders_and_pair_index
from .problem import Problem
from .progress import FitProgress
from .regression import fit_regression
from .results import ResultCollector
from .training import TrainingSettings, fit_metrics, training_mode
from .user_warnings import warn
from .validation import check_device

__all__ = ["fit_units"]

logger = logging.getLogger("mlem_neuro")


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
    checkpoint=None,
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
    cv : None, "auto", int, scikit-learn splitter or iterable of (train, test)
        Cross-validation over stimuli. An int is a shuffled KFold, or a
        GroupKFold when ``groups`` is given; "auto" the most folds (up to 5)
        whose test folds can score every term. Only pairs within the
        training stimuli are fitted and only pairs within the test stimuli
        scored: no pair straddles the two. A test fold in which a term takes
        a single value is named in a warning; a fold whose score cannot be
        defined is NaN and left out of the mean.
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
    checkpoint : str or Path, optional
        Folder where finished chunks of units are kept. A fit interrupted
        (Ctrl-C, a killed process) and run again with the same inputs and
        settings resumes from the last finished chunk and gives the results
        of an uninterrupted fit.
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
    layout = problem.layout(options.interactions, options.extra_terms)
    problem.check_design(options.correlation_warning)
    folds = make_folds(
        cv,
        groups,
        problem.n_stimuli,
        options.random_state,
        degenerate=lambda test: problem.constant_term_names(test, layout),
    )
    pairs_per_batch = problem.pairs_per_batch(options.pairs_per_batch, generator)
    fit = _ChunkFit(problem, layout, options, device, generator, pairs_per_batch)
    fit.run(folds, permutations, generalize, checkpoint, cross_validated=cv is not None)
    steps = fit.collector.unit_steps()
    info = {
        "n_pairs": len(problem.first),
        "all_pairs": problem.all_pairs,
        "pairs_per_batch": pairs_per_batch,
        "pairs_per_step": fit.pairs_per_step,
        "importance_pairs": fit.importance_pairs(),
        "training": fit.mode,
        "n_folds": len(folds),
        "max_steps_run": int(steps.max()),
        "units_at_step_budget": int((steps >= options.max_steps).sum()),
        "unit_steps": steps,
        "seconds": time.perf_counter() - started,
        "device": str(device),
        "design": problem.describe_design(),
    }
    return fit.collector.results(cv is not None, info, problem.encoder)


def warn_about_undefined_units(flat, directionless, distance):
    """Warn about units whose scores are NaN: one distance for every pair, or none defined.

    Parameters
    ----------
    flat : bool array of shape (n_units,)
        Units with the same neural distance for every pair (constant patterns).
    directionless : bool array of shape (n_units,)
        Units with a stimulus whose pattern is constant (correlation) or zero
        (cosine): no distance to it is defined.
    distance : str
    """
    units = np.flatnonzero(flat & ~directionless)
    if units.size:
        warn(
            f"{units.size} unit(s) have the same neural distance for every pair of stimuli "
            f"(constant patterns), e.g. unit {units[0]}: their scores are NaN."
        )
    units = np.flatnonzero(directionless)
    if units.size:
        kind = "constant" if distance == "correlation" else "zero"
        warn(
            f"{units.size} unit(s) have a stimulus whose pattern is {kind} over the unit, so "
            f"its {distance} distance to any other is undefined, e.g. unit {units[0]}: their "
            "scores, importances and p-values are NaN. Use distance='euclidean', or leave "
            "such columns out of the units."
        )


class RandomStreams:
    """Random numbers that depend on the seed and the fold, never on the chunk of units.

    Every chunk of units (and every block of permuted orders) fitted on a
    fold draws its pair batches and importance shuffles from a fresh
    generator keyed by the fit's seed, the fold and the purpose, so every unit
    sees the same random numbers at the same step whatever units share its
    chunk: results do not depend on ``units_per_chunk``, on the memory that
    sizes chunks, or on permuted rows added to a chunk.

    Parameters
    ----------
    generator : torch.Generator
        The fit's generator, which gives the root seed.
    """

    PURPOSES = ("training", "importance")

    def __init__(self, generator):
        self.root = int(torch.randint(2**62, (1,), generator=generator))

    def generator(self, fold, purpose):
        """A CPU generator for one fold and purpose ("training" or "importance")."""
        key = [self.root, fold, self.PURPOSES.index(purpose)]
        seed = int(np.random.SeedSequence(key).generate_state(1, np.uint64)[0])
        return torch.Generator().manual_seed(seed)


#: Chunks fitted at the same time on a CPU with several threads, each on its share of them.
#: PyTorch runs an operation without the interpreter lock, so while one chunk computes the
#: other runs the Python between its operations (small ones, in the optimiser's loop): on
#: 2 cores, 1.25x faster than one chunk on both threads.
CPU_CHUNKS_SIDE_BY_SIDE = 2


def chunks_side_by_side(device):
    """How many chunks to fit at the same time on ``device``."""
    if device.type != "cpu" or torch.get_num_threads() < 2:
        return 1
    return CPU_CHUNKS_SIDE_BY_SIDE


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Run torch's CPU operations on ``n_threads`` threads, then restore the setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _ChunkFit:
    """The chunk loop of :func:`fit_units`: fit, score and collect every chunk of units."""

    def __init__(self, problem, layout, options, device, generator, pairs_per_batch):
        self.problem, self.layout, self.options = problem, layout, options
        self.device, self.dtype = device, options.torch_dtype
        self.pairs_per_batch = pairs_per_batch
        # Sampled steps refine a closed-form start: the batch whose feature correlations are
        # stable to 0.02 (the reference rule's 0.01 needs 4 times as many pairs) suffices.
        automatic = options.pairs_per_batch == "auto"
        self.pairs_per_step = max(256, pairs_per_batch // 4) if automatic else pairs_per_batch
        self.terms = problem.terms(layout).to(device, self.dtype)
        self.settings = TrainingSettings.from_options(options, layout)
        self.streams = RandomStreams(generator)
        self.side_by_side = chunks_side_by_side(device)
        self._thread = threading.local()  # each chunk fitted side by side has its buffers

    def run(self, folds, permutations, generalize, checkpoint, cross_validated):
        problem = self.problem
        self.fold_pairs = fold_pairs(folds, problem.first, problem.second, self.device)
        self.orders, self.pair_index = orders_and_pair_index(
            permutations, problem.n_stimuli, problem.first, problem.second, self.device
        )
        self.collector = ResultCollector(
            len(folds),
            problem.n_units,
            problem.feature_names,
            self.layout,
            len(self.orders) - 1,
            with_importances=self.options.n_repeats > 0,
        )
        tests = [test for _, test in self.fold_pairs]
        per_repeat = importance_pairs_for_precision(
            self.options.importance_precision, self.options.n_repeats
        )
        self.evaluations = [EvaluationPairs(self.terms[test], per_repeat) for test in tests]
        warn_about_degenerate_folds(
            [self.terms[test] for test in tests], self.collector.term_names, len(folds)
        )
        if cross_validated:
            warn_about_small_folds([len(test) for test in tests])
        self.mode = training_mode(
            self.terms[self.fold_pairs[0][0]], self.pairs_per_batch, self.pairs_per_step
        )
        plural = "s" if problem.n_units > 1 else ""
        logger.info("Fitting %d unit%s, %s.", problem.n_units, plural, self.mode)
        self.generalize = generalize
        if generalize:
            self.collector.keep_for_generalization([len(test) for test in tests], self.dtype)
        self._run_chunks(folds, checkpoint)
        warn_about_undefined_units(
            self.collector.flat, self.collector.directionless, self.options.distance
        )
        if generalize:
            self.collector.generalize(self.terms, tests, self.device)

    def _run_chunks(self, folds, checkpoint):
        self.distances = self.problem.neural_distances(
            self.options.distance, self.device, self.dtype
        )
        chunks = self._plan()
        store = None if checkpoint is None else self._checkpoint(checkpoint, chunks, folds)
        done = 0 if store is None else self._resume(store, chunks)
        progress = FitProgress(
            self.problem.n_units, len(folds), len(self.orders), self.options.verbose
        )
        progress.advance(sum(len(self._members(chunk)) for chunk in chunks[:done]) * len(folds))
        try:
            for index, members in self._fit_chunks(chunks, range(done, len(chunks)), progress):
                if store is not None:
                    store.save(index, self.collector.snapshot(members))
        finally:
            progress.close()

    def _fit_chunks(self, chunks, indices, progress):
        """Fit the chunks ``indices``; yield each index and its units, in order.

        Chunks run side by side (see :data:`CPU_CHUNKS_SIDE_BY_SIDE`) when
        there are several. Each draws its random numbers from its own
        generators (:class:`RandomStreams`) and writes only its own units'
        results, so the order they finish in changes nothing.
        """

        def fit(index):
            members, neural = self._distances(chunks[index])
            self._fit_chunk(members, neural, progress)
            return members

        side_by_side = min(self.side_by_side, len(indices))
        if side_by_side == 1:
            for index in indices:
                yield index, fit(index)
            return
        threads = max(1, torch.get_num_threads() // side_by_side)
        with _torch_threads(threads), ThreadPoolExecutor(side_by_side) as pool:
            futures = [pool.submit(fit, index) for index in indices]
            try:
                for index, future in zip(indices, futures):
                    yield index, future.result()
            finally:
                for future in futures:
                    future.cancel()

    def _plan(self):
        """The chunks of units; one chunk (None) for a precomputed distance matrix."""
        if self.problem.columns is None:
            return [None]
        return plan_chunks(
            self.problem.columns,
            len(self.problem.first),
            self.problem.n_stimuli,
            self.options.units_per_chunk,
            self.device,
            self.dtype,
            orders_per_unit=len(self.orders),
            side_by_side=self.side_by_side,
        )

    def importance_pairs(self):
        """Pairs each importance repeat is scored on: "all", or the size of its sample."""
        sampled = [pairs.sampled for pairs in self.evaluations]
        return self.evaluations[0].pairs_per_repeat if any(sampled) else "all"

    @staticmethod
    def _members(chunk):
        return np.array([0]) if chunk is None else chunk.members

    def _distances(self, chunk):
        if chunk is None:
            return self._members(chunk), self.distances.of_matrix()
        return chunk.members, self.distances.of_chunk(chunk)

    def _checkpoint(self, directory, chunks, folds):
        problem = self.problem
        key = fingerprint(
            options={k: v for k, v in self.options.to_dict().items() if k != "verbose"},
            device=self.device.type,
            Y=np.asarray(problem.Y),
            columns=problem.columns or [],
            pairs=[problem.first, problem.second],
            features=problem.feature_distances,
            folds=[index for fold in folds for index in fold],
            orders=self.orders,
            generalize=self.generalize,
            chunks=[self._members(chunk) for chunk in chunks],
        )
        return ChunkCheckpoint(directory, key)

    def _resume(self, store, chunks):
        """Restore the finished chunks; return how many there are."""
        done = store.finished()
        for index in range(done):
            self.collector.restore(self._members(chunks[index]), store.load(index))
        if done:
            logger.info("Resuming: %d of %d chunks of units already done.", done, len(chunks))
        return done

    def _fit_chunk(self, members, neural, progress):
        directionless = neural.isnan().any(dim=1)
        neural = neural.masked_fill(directionless[:, None], 0.0)  # fitted as flat, reported NaN
        self.collector.directionless[members] = directionless.cpu().numpy()
        self.collector.flat[members] = (neural.amax(dim=1) == neural.amin(dim=1)).cpu().numpy()
        ranker = SubsetRanks(neural, self._scratch)
        rows = rows_per_chunk(
            neural.shape[1], self.problem.n_stimuli, neural.dtype, self.device, self.side_by_side
        )
        block = max(1, min(len(self.orders), rows // len(members)))
        for start in range(0, len(self.orders), block):
            # Rows are unit-major: row u * n_orders_in_block + k is unit u under order k.
            block_index = self.pair_index[start : start + block]
            for fold, (train, test) in enumerate(self.fold_pairs):
                progress.start_fold(fold)
                self._fit_fold(ranker, members, start, block_index, fold, train, test, progress)
                progress.advance(len(members) * len(block_index))

    @property
    def _scratch(self):
        """The reused buffers of the calling thread (chunks fitted side by side need their own)."""
        if not hasattr(self._thread, "scratch"):
            self._thread.scratch = ScratchBuffers()
        return self._thread.scratch

    def _fit_fold(self, ranker, members, start, block_index, fold, train, test, progress):
        settings, collector = self.settings, self.collector
        shape = (len(members), len(block_index))
        # Rows are unit-major; each unit's first row of the first block is the real data.
        real = torch.arange(
            0, shape[0] * shape[1] if start == 0 else 0, shape[1], device=self.device
        )
        if self.options.method == "mlem":
            weights, best, unit_steps = fit_metrics(
                self.terms[train],
                ranker.standardised(self._pairs_under_orders(block_index, train)),
                settings,
                self.pairs_per_batch,
                self.streams.generator(fold, "training"),
                ranked=True,
                on_step=progress.step,
                pairs_per_step=self.pairs_per_step,
                scored_rows=real,
            )
        else:
            weights, best, unit_steps = self._regress(ranker, block_index, train)
        ranks = ranker.standardised(self._pairs_under_orders(block_index, test))
        baseline, importance, spread = self._score(
            weights, self.evaluations[fold], ranks, self.streams.generator(fold, "importance")
        )
        if start == 0:
            collector.store(
                fold,
                members,
                baseline[real],
                best[real],
                importance[real],
                weights[real],
                unit_steps[real],
                spread[real],
            )
            if self.generalize:
                collector.store_for_generalization(fold, members, weights[real], ranks[real])
        collector.store_null(
            fold, members, start, baseline.reshape(shape), importance.reshape(*shape, -1)
        )

    def _pairs_under_orders(self, block_index, pairs):
        """Pool positions whose distances ``pairs`` take under each order of the block.

        Long tensor of shape (n_orders_in_block, n_pairs), written into this
        thread's reused buffer (with 1,000 permutations it has millions of
        entries per fold): valid until the next call.
        """
        shape = (len(block_index), len(pairs))
        buffer = self._scratch.get("pairs", shape, torch.long, block_index.device)
        return torch.gather(block_index, 1, pairs.expand(shape), out=buffer)

    def _regress(self, ranker, block_index, train):
        """The least-squares baseline's metrics, their exact training scores, one step each."""
        options = self.options
        pairs = self._pairs_under_orders(block_index, train)
        neural = ranker.neural[:, pairs].reshape(-1, len(train))
        weights = fit_regression(
            self.terms[train],
            neural,
            self.layout,
            nonnegative=options.method == "nnls",
            squared=options.distance == "euclidean",
        )
        ranks = ranker.standardised(pairs)
        scores = EvaluationPairs(self.terms[train]).scores(weights, ranks)
        return weights, scores, torch.ones(len(weights), dtype=torch.long, device=weights.device)

    def _score(self, weights, pairs, ranks, generator):
        """Held-out scores, mean importance drops and their standard errors, of every row.

        Without repeats, importances and standard errors are NaN.
        """
        n_repeats = self.options.n_repeats
        scores, drops = score_weights(weights, pairs, ranks, n_repeats, generator)
        if not len(drops):
            missing = torch.full_like(weights, torch.nan)
            return scores, missing, missing
        spread = drops.std(dim=0) / math.sqrt(n_repeats) if n_repeats > 1 else drops[0] * torch.nan
        return scores, drops.mean(dim=0), spread
