"""Closed-form starting points: the metrics that best correlate (Pearson) with neural ranks.

As the soft-rank regularisation grows, the soft Spearman correlation tends to
the Pearson correlation between predicted distances and neural ranks, which
least squares maximise in closed form. Fits start there and the optimiser only
refines.
"""

import torch

__all__ = ["closed_form_start"]


def _least_squares(terms, targets, counts=None):
    """Weights maximising the Pearson correlation of ``terms @ w`` with each row of targets.

    ``counts`` (n_items,): items stand for that many pairs, and ``targets`` hold
    the sums over those pairs.
    """
    if counts is None:
        centred = terms - terms.mean(dim=0)
        gram = centred.T @ centred
    else:
        weights = counts.to(terms.dtype)
        centred = terms - (weights[:, None] * terms).sum(dim=0) / weights.sum()
        gram = centred.T @ (weights[:, None] * centred)
    ridge = 1e-6 * torch.trace(gram) / len(gram) + torch.finfo(gram.dtype).tiny
    identity = torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
    return torch.linalg.solve(gram + ridge * identity, (targets @ centred).T).T


def closed_form_start(terms, ranks, layout, floor=0.05, counts=None):
    """Parameters of the metric that best correlates (Pearson) with neural ranks.

    As the soft-rank regularisation grows, the soft Spearman correlation
    tends to the Pearson correlation between predicted distances and neural
    ranks, which (weighted) least squares maximise in closed form. Starting
    there, the optimiser only refines. Weights are scaled to a maximum of 1
    and a negative least-squares weight (which no metric can have) is raised
    to ``floor``.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
        Or, with ``counts``, the terms of groups of pairs: (n_groups, n_terms).
    ranks : tensor of shape (n_units, n_pairs)
        Standardised neural ranks; with ``counts``, their sums within each
        group: (n_units, n_groups).
    layout : TermLayout
    floor : float
        Smallest weight (diagonal) or eigenvalue (full metric), relative to
        the largest: a metric has none below zero.
    counts : tensor of shape (n_groups,), optional
        Pairs behind each group.

    Returns
    -------
    tensor of shape (n_units, n_params)
    """
    solution = _least_squares(terms.to(torch.float64), ranks.to(torch.float64), counts)
    tiny = torch.finfo(solution.dtype).tiny
    quadratic, extra = solution[:, : layout.n_quadratic], solution[:, layout.n_quadratic :]
    if not layout.interactions:
        largest = quadratic.max(dim=1, keepdim=True).values.clamp_min(tiny)
        scaled = (quadratic / largest).clamp(min=floor)
        parameters = [_diagonal_parameters(scaled, floor)]
        norm = scaled.norm(dim=1, keepdim=True)
    else:
        values, vectors = torch.linalg.eigh(layout.metrics(quadratic))
        largest = values.max(dim=1, keepdim=True).values.clamp_min(tiny)
        values = (values / largest).clamp(min=floor)
        norm = values.norm(dim=1, keepdim=True)
        # W = L L^T with L lower triangular, its diagonal through a softplus.
        factor = torch.linalg.cholesky(vectors @ torch.diag_embed(values) @ vectors.transpose(1, 2))
        rows, cols = torch.triu_indices(layout.n_features, layout.n_features, offset=1)
        diagonal = torch.log(torch.expm1(torch.diagonal(factor, dim1=1, dim2=2)))
        parameters = [diagonal, factor[:, cols, rows]]
    # Extra parameters are weights relative to the unit-norm metric (TermLayout.weights), so
    # the least-squares ratio of extra to metric weights is kept by dividing by its norm.
    parameters.append(extra / largest / norm)
    return torch.cat(parameters, dim=1).to(terms.dtype)


def _diagonal_parameters(weights, floor):
    """Softplus parameters of diagonal weights scaled to a maximum of 1, floored at ``floor``."""
    return torch.log(torch.expm1(weights.clamp(min=floor)))
