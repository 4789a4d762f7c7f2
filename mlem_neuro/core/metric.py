"""The learned metric: terms of the predicted distance and their parametrisation.

For a pair with feature-distance vector ``d`` (n_features,), MLEM predicts
the neural distance as ``d^T W d`` with ``W`` symmetric positive
(semi-)definite and of unit Frobenius norm. Written as a sum of *terms*:

- without interactions ``W`` is diagonal: terms ``d_f**2``, weights ``W_ff``;
- with interactions: terms ``d_f**2`` then ``d_a * d_b`` for a < b, weights
  ``W_ff`` then ``2 * W_ab``;
- chosen higher-order products (``d_a * d_b * d_c``), as extra terms with free
  weights (:class:`TermLayout`).

Every function is batched over units: parameters of shape (n_units, n_params).
"""

import dataclasses

import torch
import torch.nn.functional as F

__all__ = [
    "term_names",
    "pair_terms",
    "n_parameters",
    "initial_parameters",
    "metric_from_parameters",
    "term_weights",
    "constant_terms",
    "TermLayout",
]

INTERACTION_SEPARATOR = ":"


def _upper_pairs(n_features, device=None):
    return torch.triu_indices(n_features, n_features, offset=1, device=device)


def term_names(feature_names, interactions):
    """Names of the terms: the features, then "a:b" for each interaction.

    Returns
    -------
    list of str
    """
    names = list(feature_names)
    if interactions:
        rows, cols = _upper_pairs(len(names))
        names += [
            f"{names[a]}{INTERACTION_SEPARATOR}{names[b]}"
            for a, b in zip(rows.tolist(), cols.tolist())
        ]
    return names


def pair_terms(feature_distances, interactions):
    """Terms of the predicted distance for each pair.

    Parameters
    ----------
    feature_distances : tensor of shape (n_pairs, n_features)
    interactions : bool

    Returns
    -------
    terms : tensor of shape (n_pairs, n_terms)
    """
    squares = feature_distances**2
    if not interactions:
        return squares
    rows, cols = _upper_pairs(feature_distances.shape[1], feature_distances.device)
    return torch.cat([squares, feature_distances[:, rows] * feature_distances[:, cols]], dim=1)


def n_parameters(n_features, interactions):
    """Number of free parameters per unit."""
    return n_features * (n_features + 1) // 2 if interactions else n_features


# softplus(_ONE) == 1: the starting metric weighs every feature equally.
_ONE = torch.log(torch.expm1(torch.tensor(1.0))).item()


def initial_parameters(n_units, n_features, interactions, dtype=torch.float32, device=None):
    """Parameters of the identity metric (scaled to unit norm) for every unit.

    Returns
    -------
    parameters : tensor of shape (n_units, n_params)
    """
    parameters = torch.zeros(
        n_units, n_parameters(n_features, interactions), dtype=dtype, device=device
    )
    parameters[:, :n_features] = _ONE
    return parameters


def metric_from_parameters(parameters, n_features, interactions):
    """Unit-norm symmetric positive (semi-)definite metrics.

    Without interactions the parameters are the diagonal through a softplus;
    with interactions, the first ``n_features`` parameters are the diagonal of
    a Cholesky factor ``L`` (through a softplus) and the rest its entries
    below the diagonal, and ``W = L L^T``.

    Parameters
    ----------
    parameters : tensor of shape (n_units, n_params)

    Returns
    -------
    metrics : tensor of shape (n_units, n_features, n_features)
    """
    n_units = parameters.shape[0]
    diagonal = F.softplus(parameters[:, :n_features])
    if interactions:
        factor = parameters.new_zeros(n_units, n_features, n_features)
        rows, cols = _upper_pairs(n_features, parameters.device)
        factor[:, cols, rows] = parameters[:, n_features:]
        factor = factor + torch.diag_embed(diagonal)
        metrics = factor @ factor.transpose(1, 2)
    else:
        metrics = torch.diag_embed(diagonal)
    return metrics / torch.linalg.matrix_norm(metrics)[:, None, None]


def term_weights(metrics, interactions):
    """Weight of each term in the predicted distance.

    Parameters
    ----------
    metrics : tensor of shape (n_units, n_features, n_features)

    Returns
    -------
    weights : tensor of shape (n_units, n_terms)
    """
    diagonal = torch.diagonal(metrics, dim1=1, dim2=2)
    if not interactions:
        return diagonal
    rows, cols = _upper_pairs(metrics.shape[1], metrics.device)
    return torch.cat([diagonal, 2 * metrics[:, rows, cols]], dim=1)


def constant_terms(terms):
    """Which terms take a single value over the given pairs (all of them when there is none).

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)

    Returns
    -------
    bool tensor of shape (n_terms,)
    """
    if terms.shape[0] == 0:
        return terms.new_ones(terms.shape[1], dtype=bool)
    return terms.amax(dim=0) == terms.amin(dim=0)


@dataclasses.dataclass(frozen=True)
class TermLayout:
    """Which terms the predicted distance sums, and how their weights are parametrised.

    The quadratic form ``d^T W d`` gives the squares ``d_f**2`` (and, with
    interactions, the products ``d_a * d_b``); chosen higher-order products
    (``d_a * d_b * d_c``...) can be added as *extra* terms, each with a free
    weight ``v_k``. The weights are normalised together:
    ``||W||_F**2 + sum(v_k**2) = 1`` (without extra terms, ``W`` has unit
    Frobenius norm as before).

    Parameters
    ----------
    n_features : int
    interactions : bool
    extra : tuple of tuples of int
        Feature indices of each extra product term.
    """

    n_features: int
    interactions: bool = False
    extra: tuple = ()

    @property
    def n_quadratic(self):
        """Number of terms of the quadratic form (as many as its parameters)."""
        return n_parameters(self.n_features, self.interactions)

    @property
    def n_terms(self):
        """Number of terms in all."""
        return self.n_quadratic + len(self.extra)

    def names(self, feature_names):
        """Term names: features, "a:b" interactions, then "a:b:c" extra terms."""
        extra = [INTERACTION_SEPARATOR.join(feature_names[i] for i in term) for term in self.extra]
        return term_names(feature_names, self.interactions) + extra

    def values(self, feature_distances):
        """Terms of every pair: tensor of shape (n_pairs, n_terms)."""
        terms = pair_terms(feature_distances, self.interactions)
        if not self.extra:
            return terms
        products = [feature_distances[:, list(term)].prod(dim=1) for term in self.extra]
        return torch.cat([terms, torch.stack(products, dim=1)], dim=1)

    def initial(self, n_units, dtype=torch.float32, device=None):
        """Parameters of the identity metric, extra weights 0: shape (n_units, n_params)."""
        quadratic = initial_parameters(n_units, self.n_features, self.interactions, dtype, device)
        return torch.cat([quadratic, quadratic.new_zeros(n_units, len(self.extra))], dim=1)

    def weights(self, parameters):
        """Normalised term weights of parameters: shape (n_units, n_terms)."""
        size = self.n_quadratic
        metrics = metric_from_parameters(parameters[:, :size], self.n_features, self.interactions)
        weights = term_weights(metrics, self.interactions)
        if not self.extra:
            return weights
        extra = parameters[:, size:]
        scale = (1 + (extra**2).sum(dim=1, keepdim=True)).sqrt()
        return torch.cat([weights, extra], dim=1) / scale

    def normalised(self, weights):
        """Term weights scaled so that ``||W||_F**2 + sum(v_k**2) = 1``."""
        f, quadratic = self.n_features, self.n_quadratic
        squared = weights**2
        norm = squared[:, :f].sum(dim=1) + squared[:, f:quadratic].sum(dim=1) / 2
        norm = (norm + squared[:, quadratic:].sum(dim=1)).sqrt()
        return weights / norm.clamp_min(torch.finfo(weights.dtype).tiny)[:, None]

    def metrics(self, weights):
        """The quadratic form ``W`` of term weights: shape (n_units, n_features, n_features)."""
        f = self.n_features
        metrics = torch.diag_embed(weights[:, :f])
        if self.interactions:
            rows, cols = _upper_pairs(f, weights.device)
            metrics[:, rows, cols] = metrics[:, cols, rows] = weights[:, f : self.n_quadratic] / 2
        return metrics

    def extra_weights(self, weights):
        """Weights of the extra terms: shape (n_units, n_extra)."""
        return weights[:, self.n_quadratic :]
