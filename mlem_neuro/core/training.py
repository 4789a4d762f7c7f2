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
  stimuli), from a closed-form start, judged on a fixed evaluation sample
  (:mod:`mlem_neuro.core.sampled`).
"""

import dataclasses

import torch

from .grouping import group_pairs, group_sums
from .metric import TermLayout
from .ranking import pearson_rows, rankdata, scaled_soft_rank, standardise_rows
from .sampled import fit_sampled
from .start import pearson_start

__all__ = [
    "TrainingSettings",
    "fit_metrics",
    "training_mode",
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

    layout: TermLayout
    learning_rate: float = 0.02
    weight_decay: float = 0.0
    max_steps: int = 1000
    patience: int | None = None
    tol: float = 1e-4
    regularization: float = 1.0

    @classmethod
    def from_options(cls, options, layout):
        """The training part of a :class:`~mlem_neuro.core.options.FitOptions`."""
        return cls(
            layout=layout,
            learning_rate=options.learning_rate,
            weight_decay=options.weight_decay,
            max_steps=options.max_steps,
            patience=None if options.patience == "auto" else options.patience,
            tol=options.tol,
            regularization=options.regularization,
        )


def training_mode(terms, pairs_per_batch, pairs_per_step=None):
    """How :func:`fit_metrics` goes over these training pairs, in words."""
    grouping = group_pairs(terms, at_most=pairs_per_batch)
    if grouping is not None:
        return f"exact over {len(terms)} pairs in {len(grouping[2])} groups"
    return f"sampled: {pairs_per_step or pairs_per_batch} of {len(terms)} pairs per step"


def fit_metrics(
    terms,
    neural,
    settings,
    pairs_per_batch,
    generator,
    ranked=False,
    on_step=None,
    pairs_per_step=None,
):
    """Learn a metric for every unit.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
        Terms of the predicted distance for the training pairs.
    neural : tensor of shape (n_units, n_pairs)
        Neural distances of the training pairs in each unit.
    settings : TrainingSettings
    pairs_per_batch : int
        When the pairs form no more groups than this, every step uses every
        pair, grouped (exact); otherwise steps sample pairs
        (:func:`mlem_neuro.core.sampled.fit_sampled`).
    generator : torch.Generator
        CPU generator for the batches.
    ranked : bool
        ``neural`` already holds standardised ranks (row-wise, as
        :func:`mlem_neuro.core.evaluation.standardised_ranks` gives); ranks
        are the same as the distances to every rank-based step.
    on_step : callable, optional
        Called as ``on_step(n_steps, n_active)`` after every step, with the
        number of units still improving.
    pairs_per_step : int, optional
        Pairs of each sampled step (default ``pairs_per_batch``).

    Returns
    -------
    weights : tensor of shape (n_units, n_terms)
        The normalised term weights of the step with the best training
        score, per unit (:meth:`TermLayout.metrics` gives the metric).
    train_scores : tensor of shape (n_units,)
        That best training score: the soft Spearman correlation over every
        pair (grouped), or the exact one on a fixed sample of them (sampled).
    unit_steps : long tensor of shape (n_units,)
        Steps each unit ran before it stopped improving (``max_steps`` for a
        unit that never stopped).
    """
    grouping = group_pairs(terms, at_most=pairs_per_batch)
    ranks = neural if ranked else standardise_rows(rankdata(neural))
    if grouping is None:
        step = pairs_per_step or pairs_per_batch
        return fit_sampled(terms, ranks, settings, step, generator, on_step)
    group_terms, group_of_pair, counts = grouping
    targets = group_sums(ranks, group_of_pair, len(counts))
    return _fit_grouped(group_terms, counts, targets, settings, on_step)


def _fit_grouped(group_terms, counts, targets, settings, on_step):
    """Every step over every pair, through the groups of pairs that share their terms."""
    n_units = targets.shape[0]
    layout = settings.layout
    refining = not layout.interactions and not layout.extra
    patience = settings.patience or (REFINE_PATIENCE if refining else PATIENCE)
    if refining:
        parameters = pearson_start(group_terms, counts, targets)
    else:
        parameters = layout.initial(n_units, targets.dtype, targets.device)
    parameters.requires_grad_(True)
    optimiser = torch.optim.AdamW(
        [parameters], lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    best_scores = torch.full((n_units,), -torch.inf, dtype=targets.dtype, device=targets.device)
    best_parameters = parameters.detach().clone()
    steps_since_best = torch.zeros(n_units, dtype=torch.long, device=targets.device)
    # Units that stopped improving leave the computation; the others go on.
    active = torch.arange(n_units, device=targets.device)
    unit_steps = torch.full((n_units,), settings.max_steps, device=targets.device)
    for n_steps in range(1, settings.max_steps + 1):
        active_parameters = parameters[active]
        weights = layout.weights(active_parameters)
        predicted = weights @ group_terms.T
        soft_ranks = scaled_soft_rank(predicted, settings.regularization, counts)
        scores = pearson_rows(soft_ranks, targets[active], counts)
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
        return layout.weights(best_parameters), best_scores, unit_steps
