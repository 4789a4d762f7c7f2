"""The problem a fit or a score solves: stimuli, their pairs, the feature terms and the units.

:func:`mlem_neuro.fit_units` and :class:`mlem_neuro.MLEM` build it the same
way, so that an estimator scores new stimuli exactly as the batched fit
scores its test folds.
"""

import dataclasses

import numpy as np
import torch

from .chunks import NeuralDistances
from .distances import check_patterns, check_precomputed_neural_distances
from .features import FeatureEncoder, check_precomputed_feature_distances, pair_feature_distances
from .membership import unit_columns
from .metric import INTERACTION_SEPARATOR, TermLayout, constant_terms
from .pairs import (
    estimate_pairs_per_batch,
    pair_pool,
    pairs_within,
    term_correlations,
    warn_if_correlated,
)

__all__ = ["Problem", "count_stimuli"]


def count_stimuli(features, precomputed_features):
    """Number of stimuli described by a feature table or feature-distance array."""
    if precomputed_features:
        return np.shape(features)[0]
    if hasattr(features, "shape"):
        return features.shape[0]
    return len(features)


@dataclasses.dataclass
class Problem:
    """Checked inputs of a fit, shared by every unit.

    Attributes
    ----------
    n_stimuli : int
    Y : array of shape (n_stimuli, n_columns) or (n_stimuli, n_stimuli)
        Patterns, or a distance matrix with ``distance="precomputed"``.
    columns : list of int arrays or None
        Columns of Y in each unit (None for a distance matrix: one unit).
    first, second : long tensors of shape (n_pairs,)
        The pool of pairs of stimuli.
    all_pairs : bool
        Whether the pool holds every pair (in row-major order).
    feature_distances : tensor of shape (n_pairs, n_features), float64
    feature_names : list of str
    encoder : FeatureEncoder or None
        How features were coded (None for precomputed feature distances).
    """

    n_stimuli: int
    Y: np.ndarray
    columns: list | None
    first: torch.Tensor
    second: torch.Tensor
    all_pairs: bool
    feature_distances: torch.Tensor
    feature_names: list
    encoder: FeatureEncoder | None

    @classmethod
    def build(cls, features, Y, units, options, generator, feature_names=None, encoder=None):
        """Check the inputs, draw the pool of pairs and compute their feature distances.

        Parameters
        ----------
        features : DataFrame or array of shape (n_stimuli, n_features)
            Or feature distances of shape (n_stimuli, n_stimuli, n_features)
            with ``options.precomputed_features``.
        Y : array of shape (n_stimuli, n_columns) or (n_stimuli, n_stimuli)
        units : sparse matrix, list of int arrays or None
        options : FitOptions
        generator : torch.Generator
        feature_names : list of str, optional
            Names for features given as an array.
        encoder : FeatureEncoder, optional
            A fitted encoding to code ``features`` with (scoring new stimuli);
            fitted on ``features`` when None.

        Returns
        -------
        Problem
        """
        n_stimuli = count_stimuli(features, options.precomputed_features)
        if n_stimuli < 3:
            raise ValueError(f"MLEM needs at least 3 stimuli to rank pairs, got {n_stimuli}.")
        Y, columns = _checked_patterns(Y, units, n_stimuli, options.distance)
        first, second, all_pairs = pair_pool(n_stimuli, options.max_pairs, generator)
        distances, names, encoder = _feature_distances(features, options, first, second, encoder)
        names = _named(names, feature_names, distances.shape[1])
        return cls(n_stimuli, Y, columns, first, second, all_pairs, distances, names, encoder)

    @property
    def n_units(self):
        """Number of units (1 for a precomputed distance matrix)."""
        return 1 if self.columns is None else len(self.columns)

    def check_design(self, correlation_warning):
        """Refuse features with one distance for every pair; warn on correlated ones."""
        constant = [
            name
            for name, column in zip(self.feature_names, self.feature_distances.T)
            if column.max() == column.min()
        ]
        if constant:
            raise ValueError(
                f"Feature(s) {constant} have the same distance for every pair of stimuli."
            )
        warn_if_correlated(self.feature_distances, self.feature_names, correlation_warning)

    def describe_design(self):
        """The design as summary.json and reports show it.

        Returns
        -------
        dict
            ``features`` (name, kind, levels or range of each),
            ``distance_correlations`` (between features' distances across
            pairs, n_features x n_features) and ``pairs_differing`` (fraction
            of pairs whose two stimuli differ on each feature).
        """
        if self.encoder is None:
            features = [{"name": name, "kind": "precomputed"} for name in self.feature_names]
        else:
            features = self.encoder.describe()
        distances = self.feature_distances
        return {
            "features": features,
            "distance_correlations": term_correlations(distances).tolist(),
            "pairs_differing": (distances > 0).double().mean(dim=0).tolist(),
        }

    def layout(self, interactions, extra_terms=()):
        """The :class:`TermLayout` of the fit, extra terms given by feature names.

        Parameters
        ----------
        interactions : bool
        extra_terms : sequence of sequences of str
            Each a product of at least two of the features.

        Returns
        -------
        TermLayout
        """
        extra = []
        for term in extra_terms:
            unknown = [name for name in term if name not in self.feature_names]
            if unknown:
                raise ValueError(
                    f"extra_terms {tuple(term)} names unknown feature(s) {unknown}; the "
                    f"features are {self.feature_names}."
                )
            if interactions and len(term) == 2:
                raise ValueError(
                    f"extra_terms {tuple(term)} is already the interaction "
                    f"'{INTERACTION_SEPARATOR.join(term)}' of interactions=True; extra terms "
                    "are for products of three or more features there."
                )
            extra.append(tuple(self.feature_names.index(name) for name in term))
        return TermLayout(len(self.feature_names), bool(interactions), tuple(extra))

    def constant_term_names(self, stimuli, layout):
        """Terms that take a single value over the pairs of some stimuli (a test fold)."""
        pairs = pairs_within(self.first, self.second, stimuli)
        flat = constant_terms(self.terms(layout)[pairs]).tolist()
        return [name for name, single in zip(self.term_names(layout), flat) if single]

    def terms(self, layout):
        """The terms of every pair: tensor of shape (n_pairs, n_terms)."""
        return layout.values(self.feature_distances)

    def term_names(self, layout):
        """Names of the terms: the features, "a:b" interactions, "a:b:c" extra terms."""
        return layout.names(self.feature_names)

    def neural_distances(self, distance, device, dtype):
        """The :class:`~mlem_neuro.core.chunks.NeuralDistances` of the pool's pairs."""
        return NeuralDistances(
            self.Y, distance, self.first, self.second, self.all_pairs, device, dtype
        )

    def pairs_per_batch(self, setting, generator):
        """The batch size of sampled steps: ``setting``, or the reference rule for "auto"."""
        if setting == "auto":
            return estimate_pairs_per_batch(self.feature_distances, generator)
        return setting


def _checked_patterns(Y, units, n_stimuli, distance):
    if distance == "precomputed":
        if units is not None:
            raise ValueError("units cannot be given with distance='precomputed'.")
        return check_precomputed_neural_distances(Y, n_stimuli), None
    Y = check_patterns(Y, n_stimuli)
    columns = unit_columns(units, Y.shape[1]) if units is not None else [np.arange(Y.shape[1])]
    return Y, columns


def _feature_distances(features, options, first, second, encoder):
    """Feature distances of the pairs, the feature names and the fitted encoder."""
    if options.precomputed_features:
        array = check_precomputed_feature_distances(features)
        distances = torch.from_numpy(array[first.numpy(), second.numpy()])
        return distances, [f"feature_{index}" for index in range(array.shape[2])], None
    if encoder is None:
        encoder = FeatureEncoder(missing=options.missing).fit(features)
    codes = torch.from_numpy(encoder.transform(features))
    categorical = torch.from_numpy(encoder.categorical_)
    scales = torch.from_numpy(encoder.scales_)
    distances = pair_feature_distances(codes, categorical, scales, first, second)
    return distances, encoder.feature_names_, encoder


def _named(names, feature_names, n_features):
    if feature_names is None:
        return names
    if len(feature_names) != n_features:
        raise ValueError(f"feature_names has {len(feature_names)} names for {n_features} features.")
    return [str(name) for name in feature_names]
