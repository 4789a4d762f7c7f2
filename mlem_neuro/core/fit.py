"""fit_units: one MLEM metric per unit, all units batched, with optional cross-validation."""

import dataclasses
import logging
import time

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupKFold, KFold
from tqdm.auto import tqdm

from .distances import (
    NEURAL_DISTANCES,
    check_patterns,
    check_precomputed_neural_distances,
    standardise_for_distance,
    unit_pair_distances,
)
from .evaluation import (
    cross_spearman_scores,
    permutation_importances,
    spearman_scores,
    standardised_ranks,
)
from .features import FeatureEncoder, check_precomputed_feature_distances, pair_feature_distances
from .membership import size_sorted_chunks, unit_columns
from .metric import pair_terms, term_names, term_weights
from .pairs import estimate_pairs_per_batch, pair_pool, pairs_within, warn_if_correlated
from .permutation import SubsetRanks, permuted_pair_index
from .training import TrainingSettings, fit_metrics
from .validation import (
    check_device,
    check_dtype,
    check_option,
    check_positive_float,
    check_positive_int,
)

__all__ = [
    "fit_units",
    "UnitResults",
    "make_generator",
    "count_stimuli",
    "feature_distances_of_pairs",
    "neural_distance_chunks",
    "unit_distance_ranks",
]

logger = logging.getLogger("mlem_neuro")

BYTES_PER_CHUNK = 1 << 30


def chunk_budget(device):
    """Working memory for one chunk of units, in bytes.

    1 GiB on the CPU; on a GPU a quarter of the memory free when the fit
    starts (at least 256 MiB). GPU steps cost about the same for few or many
    units, so fewer, larger chunks are faster there.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return BYTES_PER_CHUNK
    free, _ = torch.cuda.mem_get_info(device)
    return max(BYTES_PER_CHUNK // 4, free // 4)


@dataclasses.dataclass
class UnitResults:
    """What :func:`fit_units` learned for every unit.

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
        Best soft Spearman correlation reached on the training pairs (mean
        over folds).
    generalization : array of shape (n_units, n_units) or None
        With ``generalize=True``: entry ``[i, j]`` scores the metric learned
        on unit ``i`` against the neural distances of unit ``j`` (held-out
        pairs under cross-validation, mean over folds). Its diagonal is
        ``scores``.
    info : dict
        How the fit ran: pairs per batch, mode, steps, seconds.
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
        interactions = len(self.term_names) > len(self.feature_names)
        weights = term_weights(torch.from_numpy(self.metrics), interactions)
        return pd.DataFrame(weights.numpy(), columns=self.term_names)

    def metric_frame(self, unit):
        """The metric of one unit as a DataFrame indexed by feature names."""
        return pd.DataFrame(
            self.metrics[unit], index=self.feature_names, columns=self.feature_names
        )


def make_generator(random_state):
    """A CPU torch.Generator seeded with random_state (a fresh seed when None)."""
    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(check_positive_int("random_state", random_state, minimum=0))
    return generator


def _folds(cv, groups, n_stimuli, random_state):
    """List of (train, test) stimulus index arrays; one (all, all) fold without cv."""
    everything = np.arange(n_stimuli)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n_stimuli,):
            raise ValueError(
                f"groups must have shape ({n_stimuli},), one label per stimulus, got "
                f"{groups.shape}."
            )
    if cv is None:
        return [(everything, everything)]
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        n_splits = check_positive_int("cv", int(cv), minimum=2)
        if groups is not None:
            if len(np.unique(groups)) < n_splits:
                raise ValueError(
                    f"cv={n_splits} folds need at least {n_splits} distinct groups, got "
                    f"{len(np.unique(groups))}."
                )
            cv = GroupKFold(n_splits=n_splits)
        else:
            cv = KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    if hasattr(cv, "split"):
        splits = list(cv.split(everything, groups=groups))
    else:
        splits = list(cv)
    folds = []
    for index, (train, test) in enumerate(splits):
        train, test = np.asarray(train), np.asarray(test)
        if np.intersect1d(train, test).size:
            raise ValueError(f"cv fold {index} has stimuli in both its train and test sets.")
        if train.size < 3 or test.size < 3:
            raise ValueError(
                f"cv fold {index} has {train.size} training and {test.size} test stimuli; each "
                "needs at least 3 to rank pairs."
            )
        folds.append((train, test))
    if not folds:
        raise ValueError("cv produced no fold.")
    return folds


def feature_distances_of_pairs(
    features, precomputed_features, missing, first, second, encoder=None
):
    """Feature distances of the pairs, the feature names and the fitted encoder.

    Parameters
    ----------
    encoder : FeatureEncoder, optional
        Already fitted (to score new stimuli with the training encoding);
        fitted on ``features`` when None. None is returned for precomputed
        feature distances.

    Returns
    -------
    distances : tensor of shape (n_pairs, n_features), float64
    names : list of str
    encoder : FeatureEncoder or None
    """
    if precomputed_features:
        array = check_precomputed_feature_distances(features)
        distances = torch.from_numpy(array[first.numpy(), second.numpy()])
        return distances, [f"feature_{index}" for index in range(array.shape[2])], None
    if encoder is None:
        encoder = FeatureEncoder(missing=missing).fit(features)
    codes = torch.from_numpy(encoder.transform(features))
    categorical = torch.from_numpy(encoder.categorical_)
    distances = pair_feature_distances(codes, categorical, first, second)
    return distances, encoder.feature_names_, encoder


def count_stimuli(features, precomputed_features):
    """Number of stimuli described by a feature table or feature-distance array."""
    if precomputed_features:
        return np.shape(features)[0]
    if hasattr(features, "shape"):
        return features.shape[0]
    return len(features)


def fit_units(
    features,
    Y,
    units=None,
    *,
    interactions=False,
    distance="euclidean",
    cv=None,
    groups=None,
    n_repeats=5,
    device="cpu",
    dtype="float32",
    random_state=None,
    units_per_chunk=None,
    pairs_per_batch="auto",
    max_pairs=1_000_000,
    learning_rate=0.02,
    max_steps=1000,
    patience="auto",
    tol=1e-4,
    regularization=1.0,
    weight_decay=0.0,
    missing="raise",
    precomputed_features=False,
    correlation_warning=0.5,
    feature_names=None,
    generalize=False,
    permutations=None,
    verbose=False,
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
        Neural patterns, one row per stimulus.
    units : sparse matrix of shape (n_units, n_columns) or list of int arrays
        Columns of Y that make up each unit (searchlight sphere, window,
        layer...). None: a single unit with every column.
    interactions : bool
        Learn a full metric (pairwise interactions of features) instead of a
        diagonal one.
    distance : str
        Neural distance within a unit: "euclidean", "sqeuclidean",
        "correlation", "cosine" or "manhattan"; or "precomputed", when Y is
        a distance matrix of shape (n_stimuli, n_stimuli) (one unit).
    cv : None, int, scikit-learn splitter or iterable of (train, test)
        Cross-validation over stimuli. An int is a shuffled KFold, or a
        GroupKFold when ``groups`` is given. Only pairs within the training
        stimuli are fitted and only pairs within the test stimuli scored:
        no pair straddles the two.
    groups : array of shape (n_stimuli,), optional
        Group label of each stimulus (run, session) for group-aware splits.
    n_repeats : int
        Permutations per term for the importances; 0 skips them (they are
        then NaN).
    device : str or torch.device
        Where to compute ("cpu", "cuda", "cuda:1"). Y stays in host memory
        and one chunk of units at a time is moved to the device.
    dtype : {"float32", "float64"}
    random_state : int or None
        Seed for pair sampling and permutations; None draws a fresh seed.
    units_per_chunk : int or None
        Units fitted together; None picks as many as fit in about 1 GiB of
        working memory on the CPU, and in a quarter of the free memory on a
        GPU. Lower it if memory runs out.
    pairs_per_batch : "auto" or int
        Pairs per optimisation step. "auto" grows the batch until
        correlations between feature distances are stable across draws (the
        reference rule). When the training pairs fall into no more distinct
        feature-distance patterns than this (categorical designs), every step
        uses every pair, exactly.
    max_pairs : int
        Largest pool of pairs of stimuli; beyond it a random subset is used.
    learning_rate, max_steps, patience, tol, weight_decay
        AdamW step size, step budget, and early stopping: a unit stops
        improving when its training score has not risen by ``tol`` for
        ``patience`` steps; its best step is kept. ``patience="auto"``: 20
        steps when the fit starts from the closed-form optimum (diagonal
        metric, grouped exact mode), where it only refines, else 50.
    regularization : float
        Soft-rank regularisation relative to the spread of the predictions
        (see :func:`mlem_neuro.core.ranking.scaled_soft_rank`).
    missing : {"raise", "zero"}
        Policy for missing feature values.
    precomputed_features : bool
        ``features`` are feature distances of shape (n_stimuli, n_stimuli,
        n_features).
    correlation_warning : float
        Warn when two features' distances correlate above this across pairs.
    feature_names : list of str, optional
        Names for features given as an array.
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
    verbose : bool
        Log progress and show progress bars.

    Returns
    -------
    UnitResults
    """
    started = time.perf_counter()
    check_option("distance", distance, NEURAL_DISTANCES + ("precomputed",))
    device = check_device(device)
    torch_dtype = check_dtype(dtype)
    n_repeats = check_positive_int("n_repeats", n_repeats, minimum=0)
    max_pairs = check_positive_int("max_pairs", max_pairs, minimum=3)
    settings = TrainingSettings(
        n_features=0,
        interactions=bool(interactions),
        learning_rate=check_positive_float("learning_rate", learning_rate),
        weight_decay=check_positive_float("weight_decay", weight_decay, allow_zero=True),
        max_steps=check_positive_int("max_steps", max_steps),
        patience=None if patience == "auto" else check_positive_int("patience", patience),
        tol=check_positive_float("tol", tol, allow_zero=True),
        regularization=check_positive_float("regularization", regularization),
        verbose=verbose,
    )
    generator = make_generator(random_state)

    n_stimuli = count_stimuli(features, precomputed_features)
    if n_stimuli < 3:
        raise ValueError(f"MLEM needs at least 3 stimuli to rank pairs, got {n_stimuli}.")
    if distance == "precomputed":
        Y = check_precomputed_neural_distances(Y, n_stimuli)
        if units is not None:
            raise ValueError("units cannot be given with distance='precomputed'.")
        columns = None
    else:
        Y = check_patterns(Y, n_stimuli)
        columns = unit_columns(units, Y.shape[1]) if units is not None else [np.arange(Y.shape[1])]
    folds = _folds(cv, groups, n_stimuli, random_state)

    first, second, all_pairs = pair_pool(n_stimuli, max_pairs, generator)
    feature_distances, names, _ = feature_distances_of_pairs(
        features, precomputed_features, missing, first, second
    )
    if feature_names is not None:
        if len(feature_names) != feature_distances.shape[1]:
            raise ValueError(
                f"feature_names has {len(feature_names)} names for "
                f"{feature_distances.shape[1]} features."
            )
        names = [str(name) for name in feature_names]
    constant = [
        name for name, column in zip(names, feature_distances.T) if column.max() == column.min()
    ]
    if constant:
        raise ValueError(f"Feature(s) {constant} have the same distance for every pair of stimuli.")
    warn_if_correlated(feature_distances, names, correlation_warning)
    settings = dataclasses.replace(settings, n_features=len(names))

    if pairs_per_batch == "auto":
        pairs_per_batch = estimate_pairs_per_batch(feature_distances, generator)
    else:
        pairs_per_batch = check_positive_int("pairs_per_batch", pairs_per_batch, minimum=3)
    terms = pair_terms(feature_distances, settings.interactions).to(device, torch_dtype)
    names_of_terms = term_names(names, settings.interactions)
    fold_pairs = [
        (
            pairs_within(first, second, train).to(device),
            pairs_within(first, second, test).to(device),
        )
        for train, test in folds
    ]

    n_units = 1 if distance == "precomputed" else len(columns)
    orders, pair_index = _orders_and_pair_index(permutations, n_stimuli, first, second, device)
    outputs = _Outputs(
        len(folds), n_units, names, names_of_terms, len(orders) - 1, with_importances=n_repeats > 0
    )
    if generalize:
        outputs.keep_for_generalization([len(test) for _, test in fold_pairs], torch_dtype)
    for members, neural in neural_distance_chunks(
        Y,
        columns,
        distance,
        first,
        second,
        all_pairs,
        units_per_chunk,
        device,
        torch_dtype,
        verbose,
        orders_per_unit=len(orders),
    ):
        ranker = SubsetRanks(neural)
        block = max(1, min(len(orders), _rows_per_chunk(neural, Y, device) // len(members)))
        for start in range(0, len(orders), block):
            # Rows are unit-major: row u * n_orders_in_block + k is unit u under order k.
            block_index = pair_index[start : start + block]
            rows = (len(members), len(block_index))
            for fold, (train, test) in enumerate(fold_pairs):
                learned, best, n_steps = fit_metrics(
                    terms[train],
                    ranker.standardised(block_index[:, train]),
                    settings,
                    pairs_per_batch,
                    generator,
                    ranked=True,
                )
                weights = term_weights(learned, settings.interactions)
                ranks = ranker.standardised(block_index[:, test])
                baseline, importance = _score(weights, terms[test], ranks, n_repeats, generator)
                if start == 0:
                    real = torch.arange(0, rows[0] * rows[1], rows[1], device=weights.device)
                    outputs.store(
                        fold,
                        members,
                        baseline[real],
                        best[real],
                        importance[real],
                        learned[real],
                        n_steps,
                    )
                    if generalize:
                        outputs.store_for_generalization(fold, members, weights[real], ranks[real])
                outputs.store_null(
                    fold, members, start, baseline.reshape(rows), importance.reshape(*rows, -1)
                )
    if generalize:
        outputs.generalize(terms, [test for _, test in fold_pairs], device)
    info = {
        "n_pairs": len(first),
        "all_pairs": all_pairs,
        "pairs_per_batch": pairs_per_batch,
        "max_steps_run": max(outputs.steps),
        "seconds": time.perf_counter() - started,
        "device": str(device),
    }
    return outputs.results(cross_validated=cv is not None, info=info)


def _orders_and_pair_index(permutations, n_stimuli, first, second, device):
    """Stimulus orders (identity first) and, per order, where each pair's distance comes from."""
    identity = torch.arange(n_stimuli)[None]
    if permutations is None:
        return identity, torch.arange(len(first), device=device)[None]
    orders = torch.cat([identity, _check_orders(permutations, n_stimuli)])
    return orders, permuted_pair_index(orders, first, second, n_stimuli).to(device)


def _score(weights, terms, ranks, n_repeats, generator):
    """Held-out scores and mean importance drops (NaN without repeats) of every row."""
    if n_repeats:
        baseline, drops = permutation_importances(weights, terms, ranks, n_repeats, generator)
        return baseline, drops.mean(dim=0)
    baseline = spearman_scores(weights, terms, ranks)
    return baseline, torch.full_like(weights, torch.nan)


class _Outputs:
    """Per-fold, per-unit results as they come, chunk by chunk."""

    def __init__(
        self,
        n_folds,
        n_units,
        feature_names,
        names_of_terms,
        n_permutations=0,
        with_importances=True,
    ):
        self.n_folds = n_folds
        self.null_scores = np.zeros((n_permutations, n_units), dtype=np.float32)
        # Without importances (n_repeats=0) they are NaN: no null to keep.
        self.null_importances = None
        if n_permutations and with_importances:
            self.null_importances = np.zeros(
                (n_permutations, n_units, len(names_of_terms)), dtype=np.float32
            )
        self.feature_names = feature_names
        self.term_names = names_of_terms
        self.scores = np.zeros((n_folds, n_units))
        self.train_scores = np.zeros((n_folds, n_units))
        self.importances = np.zeros((n_folds, n_units, len(names_of_terms)))
        n_features = len(feature_names)
        self.metrics = np.zeros((n_folds, n_units, n_features, n_features))
        self.steps = []
        self.generalization = None

    def store(self, fold, members, scores, train_scores, importances, metrics, n_steps):
        def host(tensor):
            return tensor.detach().double().cpu().numpy()

        self.scores[fold, members] = host(scores)
        self.train_scores[fold, members] = host(train_scores)
        self.importances[fold, members] = host(importances)
        self.metrics[fold, members] = host(metrics)
        self.steps.append(n_steps)

    def keep_for_generalization(self, test_sizes, dtype):
        """Start keeping every unit's weights and held-out ranks, per fold."""
        n_units, n_terms = self.importances.shape[1:]
        self._fold_weights = [torch.zeros(n_units, n_terms, dtype=dtype) for _ in test_sizes]
        self._fold_ranks = [torch.zeros(n_units, size, dtype=dtype) for size in test_sizes]

    def store_for_generalization(self, fold, members, weights, ranks):
        self._fold_weights[fold][members] = weights.detach().cpu()
        self._fold_ranks[fold][members] = ranks.cpu()

    def generalize(self, terms, tests, device):
        """Every unit's metric scored on every unit's held-out distances, mean over folds."""
        self.generalization = np.mean(
            [
                cross_spearman_scores(weights.to(device), terms[test], ranks.to(device))
                .double()
                .cpu()
                .numpy()
                for weights, ranks, test in zip(self._fold_weights, self._fold_ranks, tests)
            ],
            axis=0,
        )

    def store_null(self, fold, members, start, scores, importances):
        """Add one fold's share of the permuted orders ``start``... (order 0 is the real data)."""
        if not len(self.null_scores):
            return
        skip = 1 if start == 0 else 0
        orders = slice(start + skip - 1, start + scores.shape[1] - 1)
        scores = scores[:, skip:].detach().float().cpu().numpy()
        self.null_scores[orders, members] += scores.T / self.n_folds
        if self.null_importances is not None:
            importances = importances[:, skip:].detach().float().cpu().numpy()
            self.null_importances[orders, members] += importances.transpose(1, 0, 2) / self.n_folds

    def results(self, cross_validated, info):
        metrics = self.metrics.mean(axis=0)
        metrics /= np.linalg.norm(metrics, axis=(1, 2), keepdims=True)
        return UnitResults(
            scores=self.scores.mean(axis=0),
            fold_scores=self.scores if cross_validated else None,
            importances=pd.DataFrame(self.importances.mean(axis=0), columns=self.term_names),
            metrics=metrics,
            feature_names=self.feature_names,
            term_names=self.term_names,
            train_scores=self.train_scores.mean(axis=0),
            info=info,
            generalization=self.generalization,
            null_scores=self.null_scores if len(self.null_scores) else None,
            null_importances=self.null_importances,
        )


def _check_orders(permutations, n_stimuli):
    orders = torch.as_tensor(np.asarray(permutations), dtype=torch.long)
    if orders.ndim != 2 or orders.shape[1] != n_stimuli:
        raise ValueError(
            f"permutations must have shape (n_permutations, {n_stimuli}), one order of the "
            f"stimuli per row, got {tuple(orders.shape)}."
        )
    expected = torch.arange(n_stimuli)
    if not (orders.sort(dim=1).values == expected).all():
        raise ValueError("Every row of permutations must be a permutation of 0 ... n_stimuli - 1.")
    return orders


def _bytes_per_row(n_pairs, n_stimuli, widest, dtype):
    """Working memory of one unit (or one permuted copy of it) in a chunk."""
    element_bytes = torch.finfo(dtype).bits // 8
    # Distances, soft ranks and gradients; Gram matrix and patterns; the int64
    # sort positions and int32 counts behind SubsetRanks.
    return element_bytes * (12 * n_pairs + 2 * n_stimuli**2 + n_stimuli * widest) + 36 * n_pairs


def _rows_per_chunk(neural, Y, device):
    per_row = _bytes_per_row(neural.shape[1], Y.shape[0], 0, neural.dtype)
    return max(1, chunk_budget(device) // per_row)


def neural_distance_chunks(
    Y,
    columns,
    distance,
    first,
    second,
    all_pairs,
    units_per_chunk,
    device,
    dtype,
    verbose,
    orders_per_unit=1,
):
    """Yield (unit indices, neural distances of shape (chunk_units, n_pairs)) on the device.

    ``orders_per_unit`` (1 + permutations) divides the automatic chunk size,
    since every unit is fitted once per order.
    """
    if distance == "precomputed":
        yield (
            np.array([0]),
            torch.as_tensor(Y[first.numpy(), second.numpy()][None]).to(device, dtype),
        )
        return
    patterns = torch.from_numpy(standardise_for_distance(Y, distance)).to(dtype)
    widest = max(len(unit) for unit in columns)
    if units_per_chunk is None:
        per_unit = _bytes_per_row(len(first), Y.shape[0], widest, dtype) * orders_per_unit
        units_per_chunk = max(1, chunk_budget(device) // per_unit)
    else:
        units_per_chunk = check_positive_int("units_per_chunk", units_per_chunk)
    chunks = size_sorted_chunks(columns, units_per_chunk * widest)
    first, second = first.to(device), second.to(device)
    for members, padded, mask in tqdm(
        chunks, desc="Chunks of units", disable=not verbose or len(chunks) == 1
    ):
        mask = torch.from_numpy(mask)
        chunk = patterns[:, torch.from_numpy(padded)].permute(1, 0, 2) * mask[:, None, :]
        yield (
            members,
            unit_pair_distances(
                chunk.to(device), mask.to(device), first, second, distance, all_pairs
            ),
        )


def unit_distance_ranks(Y, columns, distance):
    """Standardised ranks of every unit's neural distances over every pair of stimuli.

    Parameters
    ----------
    Y : array of shape (n_stimuli, n_columns)
    columns : list of int arrays
        Columns of each unit.
    distance : str

    Returns
    -------
    array of shape (n_units, n_pairs), float64
        Rows centred and of unit norm, so that the dot product of two rows is
        the Spearman correlation of the two units' distances.
    """
    first, second = torch.triu_indices(len(Y), len(Y), offset=1)
    ranks = np.empty((len(columns), len(first)))
    for members, neural in neural_distance_chunks(
        Y, columns, distance, first, second, True, None, "cpu", torch.float64, False
    ):
        ranks[members] = standardised_ranks(neural).numpy()
    return ranks
