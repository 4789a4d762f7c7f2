"""MLEM, the scikit-learn style estimator for one representation."""

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .core.distances import check_patterns, check_precomputed_neural_distances
from .core.evaluation import permutation_importances, spearman_scores, standardised_ranks
from .core.features import FeatureEncoder
from .core.fit import (
    count_stimuli,
    feature_distances_of_pairs,
    fit_units,
    make_generator,
    neural_distance_chunks,
)
from .core.metric import pair_terms, term_weights
from .core.pairs import pair_pool
from .core.validation import check_device, check_dtype, check_positive_int

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
    interactions : bool
        Learn a full metric with pairwise feature interactions.
    distance : str
        "euclidean", "sqeuclidean", "correlation", "cosine", "manhattan" or
        "precomputed" (then Y is a distance matrix of shape (n_stimuli,
        n_stimuli)).
    device : str
        "cpu" or "cuda[:N]".
    random_state : int or None
    n_repeats : int
        Default number of permutations per term in
        :meth:`permutation_importance`.
    pairs_per_batch, max_pairs, learning_rate, max_steps, patience, tol, \
regularization, weight_decay, missing, precomputed_features, dtype, \
correlation_warning, verbose
        As in :func:`mlem_neuro.fit_units`.

    Attributes
    ----------
    metric_ : DataFrame of shape (n_features, n_features)
        The learned symmetric metric, unit Frobenius norm, indexed by feature
        names (diagonal when ``interactions`` is False).
    feature_names_in_ : ndarray of shape (n_features,)
    term_names_ : list of str
        Features, then "a:b" interactions.
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
        interactions=False,
        distance="euclidean",
        device="cpu",
        random_state=None,
        n_repeats=5,
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
        dtype="float32",
        correlation_warning=0.5,
        verbose=False,
    ):
        self.interactions = interactions
        self.distance = distance
        self.device = device
        self.random_state = random_state
        self.n_repeats = n_repeats
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
        self.dtype = dtype
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
        results = fit_units(
            features,
            Y,
            interactions=self.interactions,
            distance=self.distance,
            n_repeats=0,
            device=self.device,
            dtype=self.dtype,
            random_state=self.random_state,
            pairs_per_batch=self.pairs_per_batch,
            max_pairs=self.max_pairs,
            learning_rate=self.learning_rate,
            max_steps=self.max_steps,
            patience=self.patience,
            tol=self.tol,
            regularization=self.regularization,
            weight_decay=self.weight_decay,
            missing=self.missing,
            precomputed_features=self.precomputed_features,
            correlation_warning=self.correlation_warning,
            verbose=self.verbose,
        )
        self.metric_ = results.metric_frame(0)
        self.feature_names_in_ = np.array(results.feature_names, dtype=object)
        self.n_features_in_ = len(results.feature_names)
        self.term_names_ = results.term_names
        self.train_score_ = float(results.train_scores[0])
        self.pairs_per_batch_ = results.info["pairs_per_batch"]
        self.n_steps_ = results.info["max_steps_run"]
        if not self.precomputed_features:
            self.encoder_ = FeatureEncoder(missing=self.missing).fit(features)
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
        weights, terms, ranks = self._evaluation_inputs(features, Y, make_generator(0))
        return float(spearman_scores(weights, terms, ranks)[0])

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
        weights, terms, ranks = self._evaluation_inputs(features, Y, generator)
        _, drops = permutation_importances(weights, terms, ranks, n_repeats, generator)
        return pd.DataFrame(drops[:, 0].double().cpu().numpy(), columns=self.term_names_)

    def _evaluation_inputs(self, features, Y, generator):
        check_is_fitted(self)
        device, dtype = check_device(self.device), check_dtype(self.dtype)
        n_stimuli = count_stimuli(features, self.precomputed_features)
        if n_stimuli < 3:
            raise ValueError(f"Scoring needs at least 3 stimuli, got {n_stimuli}.")
        first, second, all_pairs = pair_pool(n_stimuli, self.max_pairs, generator)
        distances, _, _ = feature_distances_of_pairs(
            features,
            self.precomputed_features,
            self.missing,
            first,
            second,
            encoder=getattr(self, "encoder_", None),
        )
        if distances.shape[1] != self.n_features_in_:
            raise ValueError(
                f"features has {distances.shape[1]} features, but the model was fitted on "
                f"{self.n_features_in_}."
            )
        if self.distance == "precomputed":
            Y = check_precomputed_neural_distances(Y, n_stimuli)
            columns = None
        else:
            Y = check_patterns(Y, n_stimuli)
            columns = [np.arange(Y.shape[1])]
        _, neural = next(
            neural_distance_chunks(
                Y, columns, self.distance, first, second, all_pairs, 1, device, dtype, False
            )
        )
        metric = torch.tensor(self.metric_.to_numpy(), dtype=dtype, device=device)[None]
        weights = term_weights(metric, self.interactions)
        terms = pair_terms(distances.to(device, dtype), self.interactions)
        return weights, terms, standardised_ranks(neural)
