"""FitOptions: every setting of a fit, with its default, its check and its documentation."""

import dataclasses

from .validation import (
    DTYPES,
    check_device_name,
    check_option,
    check_positive_float,
    check_positive_int,
)

__all__ = ["FitOptions", "make_generator", "NEURAL_DISTANCES", "MISSING_POLICIES", "METHODS"]

#: Neural distances a unit's patterns can be compared with.
NEURAL_DISTANCES = ("euclidean", "sqeuclidean", "correlation", "cosine", "manhattan")
#: Policies for missing feature values (see :class:`~mlem_neuro.core.features.FeatureEncoder`).
MISSING_POLICIES = ("raise", "zero")
#: How a unit's metric is learned: MLEM, or a least-squares baseline.
METHODS = ("mlem", "nnls", "ols")
#: BFGS iterations in a row without a rise of ``tol`` after which a grouped fit stops
#: (``patience="auto"``). One: on the searchlight benchmark a second such iteration changed
#: held-out maps by r < 0.0004 and cost a fifth of the time (benchmarks/RESULTS.md).
GROUPED_PATIENCE = 1


@dataclasses.dataclass(frozen=True)
class FitOptions:
    """Settings of an MLEM fit, shared by every unit, pipeline and command.

    Build it once and pass it to :func:`mlem_neuro.fit_units`, to the fMRI,
    M/EEG and language-model pipelines, or to a study; every command-line
    fitting command offers each field as a flag (``--learning-rate`` for
    ``learning_rate``). Values are checked when the object is made.

    Parameters
    ----------
    method : str
        How each unit's metric is learned. "mlem": maximise the Spearman
        correlation between predicted and neural distances (this package's
        method). "nnls" and "ols": the FR-RSA-style baselines, least squares
        of the squared neural distances on the same terms, with non-negative
        ("nnls") or free ("ols") weights (see
        :mod:`mlem_neuro.core.regression`). Scores and importances are computed
        alike for all three, so they can be reported side by side.
    interactions : bool
        Learn a full metric (pairwise interactions of features) instead of a
        diagonal one.
    extra_terms : tuple of tuples of str
        Higher-order interactions to add as terms of their own, each the
        product of the distances on two or more features, e.g.
        ``(("animate", "size", "colour"),)``; each gets a free weight and a
        permutation importance.
    distance : str
        Neural distance within a unit: "euclidean", "sqeuclidean",
        "correlation", "cosine" or "manhattan"; "precomputed" when Y is a
        distance matrix of shape (n_stimuli, n_stimuli) (one unit).
    n_repeats : int
        Shuffles per term for the permutation importances; 0 skips them
        (they are then NaN).
    importance_precision : float
        Standard error asked of each importance where it is estimated on
        samples of pairs (continuous terms and many pairs): each repeat scores
        its shuffles on its own sample of about ``2 / (n_repeats *
        importance_precision**2)`` pairs. Importances over few pairs, or over
        terms with few distinct values, are exact over every pair.
    device : str
        Where to compute: "cpu", "cuda", "cuda:N" or "mps". Patterns stay in
        host memory and one chunk of units at a time is moved there.
    dtype : str
        "float32" or "float64" (twice the memory and time; for checks).
    random_state : int or None
        Seed for pair sampling, folds and permutations; None draws a fresh
        seed.
    units_per_chunk : int or None
        Units fitted together; None picks as many as fit in about 1 GiB of
        working memory on the CPU (shared by the two chunks a multi-core CPU
        fits side by side, each on half of torch's threads) and in a quarter
        of the free memory on a GPU. Lower it if memory runs out; results do
        not depend on it.
    pairs_per_batch : "auto" or int
        Pairs per optimisation step. "auto" grows the batch until
        correlations between feature distances are stable across draws (the
        reference rule). When the training pairs fall into no more distinct
        feature-distance patterns than this (categorical designs), every
        step uses every pair, exactly.
    max_pairs : int
        Largest pool of pairs of stimuli; beyond it a random subset is used.
    learning_rate : float
        AdamW step size of sampled fits (grouped fits use BFGS, whose line
        search sizes the steps).
    max_steps : int
        Budget of evaluations (grouped) or steps (sampled) of each fit.
    patience : "auto" or int
        Grouped (exact) fits: BFGS iterations in a row without an improvement
        of ``tol`` after which a unit stops ("auto": 1). Sampled fits: steps
        without improvement of the evaluation score ("auto": 30, i.e. 3
        evaluations, see :mod:`mlem_neuro.core.sampled`). The best
        parameters are kept.
    tol : float
        Smallest rise of the soft training score that counts as an
        improvement in grouped (exact) mode. Sampled mode judges progress on
        the exact score of a fixed sample of pairs, where any rise counts.
    regularization : float
        Soft-rank regularisation relative to the spread of the predictions
        (see :func:`mlem_neuro.core.ranking.scaled_soft_rank`).
    weight_decay : float
        Pull of the parameters towards 0 (equal weights): AdamW's decoupled
        weight decay in sampled fits, the penalty ``weight_decay / 2`` times
        the squared norm of the parameters in grouped fits.
    missing : str
        Policy for missing feature values: "raise" refuses them, "zero" gives
        a pair in which either stimulus lacks the feature distance 0 on it.
    precomputed_features : bool
        Features are given as distances of shape (n_stimuli, n_stimuli,
        n_features).
    correlation_warning : float
        Warn when two terms' distances correlate above this across pairs.
    verbose : bool
        Show progress and log messages.
    """

    method: str = "mlem"
    interactions: bool = False
    extra_terms: tuple = ()
    distance: str = "euclidean"
    n_repeats: int = 5
    importance_precision: float = 0.005
    device: str = "cpu"
    dtype: str = "float32"
    random_state: int | None = None
    units_per_chunk: int | None = None
    pairs_per_batch: int | str = "auto"
    max_pairs: int = 1_000_000
    learning_rate: float = 0.02
    max_steps: int = 1000
    patience: int | str = "auto"
    tol: float = 1e-4
    regularization: float = 1.0
    weight_decay: float = 0.0
    missing: str = "raise"
    precomputed_features: bool = False
    correlation_warning: float = 0.5
    verbose: bool = False

    def __post_init__(self):
        for name, check in _CHECKS.items():
            object.__setattr__(self, name, check(name, getattr(self, name)))

    @classmethod
    def resolve(cls, options=None, **settings):
        """Options from a base object (or the defaults) with some settings replaced.

        Parameters
        ----------
        options : FitOptions or None
        **settings
            Field names and values, e.g. ``random_state=0``.

        Returns
        -------
        FitOptions
        """
        if options is not None and not isinstance(options, cls):
            raise TypeError(f"options must be a FitOptions, got {type(options).__name__}.")
        unknown = sorted(set(settings) - set(cls.field_names()))
        if unknown:
            raise TypeError(
                f"Unknown fit setting(s) {unknown}; the settings are {cls.field_names()}."
            )
        return dataclasses.replace(options or cls(), **settings)

    @classmethod
    def field_names(cls):
        """Names of the settings, in declaration order."""
        return [field.name for field in dataclasses.fields(cls)]

    def to_dict(self):
        """Every setting as a JSON-ready dict (for summary.json).

        Returns
        -------
        dict
        """
        return dataclasses.asdict(self)

    @property
    def torch_dtype(self):
        """The torch dtype of ``dtype``."""
        import torch

        return getattr(torch, self.dtype)


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"'{name}' must be True or False, got {type(value).__name__} {value!r}.")
    return value


def _check_auto_or_int(minimum):
    def check(name, value):
        return value if value == "auto" else check_positive_int(name, value, minimum=minimum)

    return check


def _check_optional_int(minimum):
    def check(name, value):
        return None if value is None else check_positive_int(name, value, minimum=minimum)

    return check


def _check_extra_terms(name, value):
    """A tuple of tuples of at least two distinct feature names."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(
            f"'{name}' must be a sequence of feature-name tuples such as (('a', 'b', 'c'),), "
            f"got {value!r}."
        )
    terms = []
    for term in value:
        if isinstance(term, str) or len(term) < 2 or len(set(term)) != len(term):
            raise ValueError(
                f"Each of '{name}' must hold at least two distinct feature names, got {term!r}."
            )
        terms.append(tuple(str(feature) for feature in term))
    if len(set(terms)) != len(terms):
        raise ValueError(f"'{name}' lists a term twice: {value!r}.")
    return tuple(terms)


def _check_dtype(name, value):
    if not isinstance(value, str):
        import torch

        if isinstance(value, torch.dtype):
            value = str(value).removeprefix("torch.")
    return check_option(name, value, DTYPES)


_CHECKS = {
    "method": lambda name, value: check_option(name, value, METHODS),
    "interactions": _check_bool,
    "extra_terms": _check_extra_terms,
    "distance": lambda name, value: check_option(name, value, NEURAL_DISTANCES + ("precomputed",)),
    "n_repeats": lambda name, value: check_positive_int(name, value, minimum=0),
    "importance_precision": check_positive_float,
    "device": check_device_name,
    "dtype": _check_dtype,
    "random_state": _check_optional_int(0),
    "units_per_chunk": _check_optional_int(1),
    "pairs_per_batch": _check_auto_or_int(3),
    "max_pairs": lambda name, value: check_positive_int(name, value, minimum=3),
    "learning_rate": check_positive_float,
    "max_steps": check_positive_int,
    "patience": _check_auto_or_int(1),
    "tol": lambda name, value: check_positive_float(name, value, allow_zero=True),
    "regularization": check_positive_float,
    "weight_decay": lambda name, value: check_positive_float(name, value, allow_zero=True),
    "missing": lambda name, value: check_option(name, value, MISSING_POLICIES),
    "precomputed_features": _check_bool,
    "correlation_warning": check_positive_float,
    "verbose": _check_bool,
}


def make_generator(random_state):
    """A CPU torch.Generator seeded with ``random_state`` (a fresh seed when None)."""
    import torch

    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(check_positive_int("random_state", random_state, minimum=0))
    return generator
