"""Fit one metric per unit, every unit at once, by maximising a soft Spearman correlation.

The units share the feature terms of the pairs; only their neural distances
differ. Each evaluation computes the predicted distances of every unit with
one matrix product, soft-ranks them row-wise and correlates them with the
ranks of the neural distances. The units' objectives are independent, so
they are optimised side by side, each at its own pace.

Two ways to go over the pairs:

- *grouped* (exact): pairs with the same term vector have the same predicted
  distance in every unit, so the Spearman correlation over all pairs only
  needs, per unit, the sum of the neural ranks within each group and a
  weighted soft rank over groups. Used when the groups are few (categorical
  designs): each evaluation then costs O(n_groups), with no sampling noise,
  and batched BFGS (:mod:`mlem_neuro.core.quasi_newton`) refines the
  closed-form start in tens of evaluations.
- *sampled*: each step draws a batch of pairs (continuous features, many
  stimuli) for AdamW, from a closed-form start, judged on a fixed evaluation
  sample (:mod:`mlem_neuro.core.sampled`).
"""

import dataclasses

import torch

from .grouping import group_pairs, group_sums
from .metric import TermLayout
from .options import GROUPED_PATIENCE
from .quasi_newton import maximise
from .ranking import pearson_rows, rankdata, scaled_soft_rank, standardise_rows
from .sampled import fit_sampled
from .start import closed_form_start

__all__ = [
    "TrainingSettings",
    "fit_metrics",
    "training_mode",
]


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Optimisation settings shared by every unit (see :func:`mlem_neuro.fit_units`).

    ``patience`` None picks :data:`~mlem_neuro.core.options.GROUPED_PATIENCE`
    for grouped (BFGS) fits and the sampled mode's own default otherwise.
    ``learning_rate`` is the sampled mode's AdamW step size; ``weight_decay``
    is AdamW's decay there and an l2 penalty
    ``weight_decay / 2 * ||parameters||**2`` on the grouped objective.
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
    scored_rows=None,
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
    scored_rows : long tensor, optional
        The rows whose training score is wanted. A grouped fit without steps
        (``max_steps=1``, the closed-form start) scores only these and gives
        the others NaN: the null copies of a permutation test need no training
        score. Default: every row.

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
    return _fit_grouped(group_terms, counts, targets, settings, on_step, scored_rows)


def _fit_grouped(group_terms, counts, targets, settings, on_step, scored_rows):
    """Every step over every pair, through the groups of pairs that share their terms.

    Starts at the closed-form Pearson optimum and refines by batched BFGS
    (:func:`mlem_neuro.core.quasi_newton.maximise`): every step is exact, so a
    quasi-Newton method converges in tens of steps.
    """
    layout = settings.layout
    start = closed_form_start(group_terms, targets, layout, counts=counts)
    decay = settings.weight_decay

    def soft_spearman(parameters, rows):
        predicted = layout.weights(parameters) @ group_terms.T
        soft_ranks = scaled_soft_rank(predicted, settings.regularization, counts)
        return pearson_rows(soft_ranks, targets[rows], counts)

    if settings.max_steps == 1 and scored_rows is not None:
        scores = start.new_full((len(start),), torch.nan)
        if len(scored_rows):
            scores[scored_rows] = soft_spearman(start[scored_rows], scored_rows)
        unit_steps = torch.ones(len(start), dtype=torch.long, device=start.device)
        return layout.weights(start), scores, unit_steps

    def objective(parameters, rows):
        with torch.enable_grad():
            parameters = parameters.detach().requires_grad_(True)
            scores = soft_spearman(parameters, rows)
            if decay:
                scores = scores - decay / 2 * (parameters**2).sum(dim=1)
            (gradient,) = torch.autograd.grad(scores.sum(), parameters)
        return scores.detach(), gradient

    parameters, values, unit_steps = maximise(
        objective,
        start,
        settings.max_steps,
        settings.tol,
        settings.patience or GROUPED_PATIENCE,
        on_step=on_step,
    )
    scores = values + decay / 2 * (parameters**2).sum(dim=1)  # the soft Spearman itself
    return layout.weights(parameters), scores, unit_steps
