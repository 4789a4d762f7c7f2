"""Fit one metric per unit, every unit at once, by gradient ascent on a soft Spearman.

The units share the feature terms of the pairs; only their neural distances
differ. Each step computes the predicted distances of every unit with one
matrix product, soft-ranks them row-wise and correlates them with the ranks
of the neural distances. The units' losses are independent, so summing them
and running AdamW on the stacked parameters is the same as fitting each unit
alone, only faster.

Two ways to go over the pairs:

- *grouped* (exact): pairs with the same term vector have the same predicted
  distance in every unit, so the Spearman correlation over all pairs only
  needs, per unit, the sum of the neural ranks within each group and a
  weighted soft rank over groups. Used when the groups are few (categorical
  designs): each step then costs O(n_groups), with no sampling noise.
- *sampled*: each step draws a batch of pairs (continuous features, many
  stimuli).
"""

import dataclasses

import torch

from .grouping import group_pairs, group_sums
from .metric import initial_parameters, metric_from_parameters, term_weights
from .ranking import pearson_rows, rankdata, scaled_soft_rank, standardise_rows

__all__ = [
    "TrainingSettings",
    "fit_metrics",
    "training_mode",
    "pearson_start",
    "PATIENCE",
    "REFINE_PATIENCE",
]

PATIENCE = 50
# From the closed-form optimum the optimiser only refines: on a 16,680-sphere searchlight,
# 20 steps instead of 50 gave score maps correlating at r = 0.99999 (benchmarks/RESULTS.md).
REFINE_PATIENCE = 20


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Optimisation settings shared by every unit (see :func:`mlem_neuro.fit_units`).

    ``patience`` None picks :data:`REFINE_PATIENCE` after a closed-form start
    and :data:`PATIENCE` otherwise.
    """

    n_features: int
    interactions: bool
    learning_rate: float = 0.02
    weight_decay: float = 0.0
    max_steps: int = 1000
    patience: int | None = None
    tol: float = 1e-4
    regularization: float = 1.0

    @classmethod
    def from_options(cls, options, n_features):
        """The training part of a :class:`~mlem_neuro.core.options.FitOptions`."""
        return cls(
            n_features=n_features,
            interactions=options.interactions,
            learning_rate=options.learning_rate,
            weight_decay=options.weight_decay,
            max_steps=options.max_steps,
            patience=None if options.patience == "auto" else options.patience,
            tol=options.tol,
            regularization=options.regularization,
        )


def pearson_start(group_terms, counts, targets, floor=0.05):
    """Diagonal parameters that maximise the Pearson correlation with neural ranks.

    As the soft-rank regularisation grows, the soft Spearman correlation
    tends to the Pearson correlation between predicted distances and neural
    ranks, which weighted least squares maximise in closed form. Starting
    there, the optimiser only refines: on whole-brain searchlights it cuts
    the steps several-fold with the same held-out scores. Weights are scaled
    to a maximum of 1 and floored at ``floor`` (a negative least-squares
    weight cannot be a metric weight).

    Parameters
    ----------
    group_terms : tensor of shape (n_groups, n_features)
    counts : tensor of shape (n_groups,)
    targets : tensor of shape (n_units, n_groups)
        Sums of the standardised neural ranks within each group.
    floor : float

    Returns
    -------
    parameters : tensor of shape (n_units, n_features)
        Softplus parameters of the starting diagonal metrics.
    """
    weights = counts.to(group_terms.dtype)
    centred = group_terms - (weights[:, None] * group_terms).sum(dim=0) / weights.sum()
    gram = centred.T @ (weights[:, None] * centred)
    ridge = 1e-6 * torch.trace(gram) / len(gram) + torch.finfo(gram.dtype).tiny
    identity = torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
    solution = torch.linalg.solve(gram + ridge * identity, (targets @ centred).T).T
    largest = solution.max(dim=1, keepdim=True).values.clamp_min(torch.finfo(solution.dtype).tiny)
    return torch.log(torch.expm1((solution / largest).clamp(min=floor)))


def training_mode(terms, pairs_per_batch):
    """How :func:`fit_metrics` goes over these training pairs, in words."""
    n_groups = group_pairs(terms)[0].shape[0]
    if n_groups <= pairs_per_batch:
        return f"exact over {len(terms)} pairs in {n_groups} groups"
    return f"{pairs_per_batch} of {len(terms)} pairs per step"


def fit_metrics(terms, neural, settings, pairs_per_batch, generator, ranked=False, on_step=None):
    """Learn a metric for every unit.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
        Terms of the predicted distance for the training pairs.
    neural : tensor of shape (n_units, n_pairs)
        Neural distances of the training pairs in each unit.
    settings : TrainingSettings
    pairs_per_batch : int
        Pairs per step in sampled mode. When the pairs form no more groups
        than this, every step uses every pair, grouped (exact).
    generator : torch.Generator
        CPU generator for the batches.
    ranked : bool
        ``neural`` already holds standardised ranks (row-wise, as
        :func:`mlem_neuro.core.evaluation.standardised_ranks` gives); ranks
        are the same as the distances to every rank-based step.
    on_step : callable, optional
        Called as ``on_step(n_steps, n_active)`` after every step, with the
        number of units still improving.

    Returns
    -------
    metrics : tensor of shape (n_units, n_features, n_features)
        The metric of the step with the best training score, per unit.
    train_scores : tensor of shape (n_units,)
        That best soft Spearman correlation.
    unit_steps : long tensor of shape (n_units,)
        Steps each unit ran before it stopped improving (``max_steps`` for a
        unit that never stopped).
    """
    n_units, n_pairs = neural.shape
    group_terms, group_of_pair, counts = group_pairs(terms)
    grouped = group_terms.shape[0] <= pairs_per_batch
    if grouped:
        ranks = neural if ranked else standardise_rows(rankdata(neural))
        targets = group_sums(ranks, group_of_pair, len(counts))

    refining = grouped and not settings.interactions
    patience = settings.patience or (REFINE_PATIENCE if refining else PATIENCE)
    if refining:
        parameters = pearson_start(group_terms, counts, targets)
    else:
        parameters = initial_parameters(
            n_units, settings.n_features, settings.interactions, neural.dtype, neural.device
        )
    parameters.requires_grad_(True)
    optimiser = torch.optim.AdamW(
        [parameters], lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    best_scores = torch.full((n_units,), -torch.inf, dtype=neural.dtype, device=neural.device)
    best_parameters = parameters.detach().clone()
    steps_since_best = torch.zeros(n_units, dtype=torch.long, device=neural.device)
    # Units that stopped improving leave the computation; the others go on.
    active = torch.arange(n_units, device=neural.device)
    unit_steps = torch.full((n_units,), settings.max_steps, device=neural.device)
    for n_steps in range(1, settings.max_steps + 1):
        active_parameters = parameters[active]
        weights = term_weights(
            metric_from_parameters(active_parameters, settings.n_features, settings.interactions),
            settings.interactions,
        )
        if grouped:
            predicted = weights @ group_terms.T
            soft_ranks = scaled_soft_rank(predicted, settings.regularization, counts)
            scores = pearson_rows(soft_ranks, targets[active], counts)
        else:
            batch = torch.randint(n_pairs, (pairs_per_batch,), generator=generator)
            batch = batch.to(neural.device)
            predicted = weights @ terms[batch].T
            soft_ranks = scaled_soft_rank(predicted, settings.regularization)
            batch_ranks = standardise_rows(rankdata(neural[:, batch][active]))
            scores = pearson_rows(soft_ranks, batch_ranks)
        with torch.no_grad():
            improved = scores > best_scores[active] + settings.tol
            best_scores[active] = torch.where(improved, scores, best_scores[active])
            best_parameters[active[improved]] = active_parameters[improved]
            since = torch.where(improved, 0, steps_since_best[active] + 1)
            steps_since_best[active] = since
        optimiser.zero_grad(set_to_none=True)
        (-scores.sum()).backward()
        optimiser.step()
        unit_steps[active[since >= patience]] = n_steps
        active = active[since < patience]
        if on_step is not None:
            on_step(n_steps, active.numel())
        if active.numel() == 0:
            break
    with torch.no_grad():
        metrics = metric_from_parameters(
            best_parameters, settings.n_features, settings.interactions
        )
    return metrics, best_scores, unit_steps
