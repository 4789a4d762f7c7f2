"""The learned metric: terms of the predicted distance and their parametrisation.

For a pair with feature-distance vector ``d`` (n_features,), MLEM predicts
the neural distance as ``d^T W d`` with ``W`` symmetric positive
(semi-)definite and of unit Frobenius norm. Written as a sum of *terms*:

- without interactions ``W`` is diagonal: terms ``d_f**2``, weights ``W_ff``;
- with interactions: terms ``d_f**2`` then ``d_a * d_b`` for a < b, weights
  ``W_ff`` then ``2 * W_ab``.

Every function is batched over units: parameters of shape (n_units, n_params).
"""

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
