"""MLEM, the scikit-learn style estimator for one representation."""

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .core import FitOptions, Problem, check_device, check_positive_int, fit_units, make_generator
from .core.evaluation import score_weights, standardised_ranks

__all__ = ["MLEM"]


class MLEM(BaseEstimator):
    """Metric Learning Encoding Model of one neural representation.

    Learns a metric ``W`` over theoretical features such that the predicted
    distance ``d^T W d`` between two stimuli, with ``d`` their feature
    distances, ranks pairs of stimuli like their neural distances do
    (Jalouzot et al., 2024). This is the one-unit case of
    :func:`mlem_neuro.fit_units`: see it for the meaning of each parameter.

    Parameters
    ----------
    method, interactions, extra_terms, distance, n_repeats, importance_precision, \
device, dtype, random_state, units_per_chunk, pairs_per_batch, max_pairs, \
learning_rate, max_steps, patience, tol, regularization, weight_decay, missing, \
precomputed_features, correlation_warning, verbose
        The fit settings, documented once in :class:`mlem_neuro.FitOptions`
        (``n_repeats`` is the default number of shuffles per term of
        :meth:`permutation_importance`; the fit itself computes none).

    Attributes
    ----------
    metric_ : DataFrame of shape (n_features, n_features)
        The learned symmetric metric, unit Frobenius norm, indexed by feature
        names (diagonal when ``interactions`` is False).
    feature_names_in_ : ndarray of shape (n_features,)
    term_names_ : list of str
        Features, then "a:b" interactions, then extra terms.
    weights_ : Series of shape (n_terms,)
        Weight of each term in the predicted distance (``W_ff``, ``2 W_ab``,
        then the extra terms' weights).
    train_score_ : float
        Best soft Spearman correlation on the training pairs.
    pairs_per_batch_ : int
    n_steps_ : int

    Examples
    --------
    >>> from mlem_neuro import MLEM
    >>> from mlem_neuro.core.simulation import make_metric_data
    >>> features, Y, truth = make_metric_data(n_stimuli=100, n_features=4, random_state=0)
    >>> model = MLEM(random_state=0).fit(features, Y)
    >>> model.metric_.shape
    (4, 4)
    """

    def __init__(
        self,
        method="mlem",
        interactions=False,
        extra_terms=(),
        distance="euclidean",
        n_repeats=5,
        importance_precision=0.005,
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
        verbose=False,
    ):
        self.method = method
        self.interactions = interactions
        self.extra_terms = extra_terms
        self.distance = distance
        self.n_repeats = n_repeats
        self.importance_precision = importance_precision
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.units_per_chunk = units_per_chunk
        self.pairs_per_batch = pairs_per_batch
        self.max_pairs = max_pairs
        self.learning_rate = learning_rate
        self.max_steps = max_steps
        self.patience = patience
        self.tol = tol
        self.regularization = regularization
        self.weight_decay = weight_decay
        self.missing = missing
        self.precomputed_features = precomputed_features
        self.correlation_warning = correlation_warning
        self.verbose = verbose

    def fit(self, features, Y):
        """Learn the metric.

        Parameters
        ----------
        features : DataFrame or array of shape (n_stimuli, n_features)
            Or feature distances (n_stimuli, n_stimuli, n_features) with
            ``precomputed_features=True``.
        Y : array of shape (n_stimuli, n_dims)
            Neural patterns, or distances (n_stimuli, n_stimuli) with
            ``distance="precomputed"``.

        Returns
        -------
        self
        """
        results = fit_units(features, Y, options=self._options(n_repeats=0))
        self.metric_ = results.metric_frame(0)
        self.feature_names_in_ = np.array(results.feature_names, dtype=object)
        self.n_features_in_ = len(results.feature_names)
        self.term_names_ = results.term_names
        self.weights_ = results.term_weights().iloc[0]
        self.train_score_ = float(results.train_scores[0])
        self.pairs_per_batch_ = results.info["pairs_per_batch"]
        self.n_steps_ = results.info["max_steps_run"]
        self.encoder_ = results.encoder
        return self

    def score(self, features, Y):
        """Spearman correlation between predicted and neural distances.

        Computed over every pair of the given stimuli (up to ``max_pairs``),
        with average ranks for ties. Pass held-out stimuli for an unbiased
        estimate.

        Parameters
        ----------
        features : DataFrame or array of shape (n_stimuli, n_features)
            Same columns as in :meth:`fit`.
        Y : array of shape (n_stimuli, n_dims)

        Returns
        -------
        float
        """
        scores, _ = self._score(features, Y, 0, make_generator(0))
        return float(scores[0])

    def permutation_importance(self, features, Y, n_repeats=None):
        """Drop in score when each term is shuffled across pairs.

        Parameters
        ----------
        features : DataFrame or array of shape (n_stimuli, n_features)
        Y : array of shape (n_stimuli, n_dims)
        n_repeats : int, optional
            Permutations per term; defaults to the ``n_repeats`` parameter.

        Returns
        -------
        DataFrame of shape (n_repeats, n_terms)
            One row per repeat, one column per feature (then per "a:b"
            interaction when ``interactions`` is True).
        """
        n_repeats = check_positive_int(
            "n_repeats", self.n_repeats if n_repeats is None else n_repeats
        )
        generator = make_generator(self.random_state)
        _, drops = self._score(features, Y, n_repeats, generator)
        return pd.DataFrame(drops[:, 0].double().cpu().numpy(), columns=self.term_names_)

    def _options(self, **settings):
        return FitOptions(**(self.get_params(deep=False) | settings))

    def _score(self, features, Y, n_repeats, generator):
        """Scores (and importance drops) of the fitted metric, as fit_units scores a fold."""
        check_is_fitted(self)
        options = self._options()
        device = check_device(options.device)
        problem = Problem.build(
            features, Y, None, options, generator, encoder=getattr(self, "encoder_", None)
        )
        if len(problem.feature_names) != self.n_features_in_:
            raise ValueError(
                f"features has {len(problem.feature_names)} features, but the model was "
                f"fitted on {self.n_features_in_}."
            )
        neural = problem.neural_distances(options.distance, device, options.torch_dtype)
        ranks = standardised_ranks(neural.of_units(problem.columns))
        weights = torch.tensor(self.weights_.to_numpy(), dtype=options.torch_dtype, device=device)
        layout = problem.layout(options.interactions, options.extra_terms)
        terms = problem.terms(layout).to(device, options.torch_dtype)
        weights = weights[None]
        return score_weights(weights, terms, ranks, n_repeats, generator)
