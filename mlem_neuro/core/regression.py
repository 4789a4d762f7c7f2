"""Least-squares baselines: regress neural distances on the terms, as FR-RSA does.

Feature-reweighted RSA (Kaniuth & Hebart, 2022) regresses the neural
dissimilarities of pairs of stimuli on per-feature model dissimilarities with
non-negative least squares. Here the dissimilarities are the squared neural
distances (for the Euclidean distance; other distances as they are) and the
regressors the same terms MLEM weighs (``d_f**2``, then ``d_a * d_b`` with
interactions), so that a regression gives a metric MLEM's scoring and
importances apply to unchanged. On designs where neural distances grow
linearly with ``d^T W d`` least squares is the consistent estimator; where they
bend (saturate), it is biased while MLEM's rank objective is not.
"""

import numpy as np
import scipy.linalg
import scipy.optimize
import torch

from .options import METHODS

__all__ = ["METHODS", "fit_regression"]


def _normal_equations(terms, targets):
    """Gram matrix of the centred terms and their products with each centred target row."""
    centred = terms - terms.mean(dim=0)
    gram = centred.T @ centred
    return gram, (targets - targets.mean(dim=1, keepdim=True)) @ centred


def _nonnegative(gram, products):
    """Non-negative least squares of every row, through the Cholesky factor of the Gram matrix."""
    ridge = 1e-10 * np.trace(gram) / len(gram)
    factor = scipy.linalg.cholesky(gram + ridge * np.eye(len(gram)), lower=True)
    design = factor.T
    solutions = [
        scipy.optimize.nnls(design, scipy.linalg.solve_triangular(factor, row, lower=True))[0]
        for row in products
    ]
    return np.array(solutions)


def fit_regression(terms, neural, layout, nonnegative, squared):
    """Least-squares weights of the terms for every unit.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
    neural : tensor of shape (n_units, n_pairs)
        Neural distances of the pairs.
    layout : TermLayout
    nonnegative : bool
        Non-negative least squares (FR-RSA); else ordinary least squares.
    squared : bool
        Regress the squared distances (Euclidean distances).

    Returns
    -------
    weights : tensor of shape (n_units, n_terms)
        Scaled to unit norm (the quadratic form's at unit Frobenius norm; it
        need not be positive definite with ordinary least squares).
    """
    targets = (neural.double() ** 2) if squared else neural.double()
    gram, products = _normal_equations(terms.double(), targets)
    if nonnegative:
        weights = _nonnegative(gram.cpu().numpy(), products.cpu().numpy())
        weights = torch.from_numpy(weights).to(terms.device)
    else:
        ridge = 1e-10 * torch.trace(gram) / len(gram)
        identity = torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
        weights = torch.linalg.solve(gram + ridge * identity, products.T).T
    return layout.normalised(weights).to(terms.dtype)
