"""Training on sampled batches of pairs (continuous features, many stimuli), made to converge.

When the training pairs take too many distinct feature-distance patterns to be
grouped exactly, each step sees a random batch, and its soft Spearman score is
noisy: keeping the step with the best batch score keeps a lucky early step and
stops long before convergence. So:

- the fit starts at the closed-form optimum of the Pearson correlation between
  predicted distances and neural ranks, on a sample of pairs (for a full metric,
  projected onto the positive semi-definite cone), and refines from there;
- progress is judged every few steps by the exact Spearman correlation on a
  fixed evaluation sample of the training pairs, not on the noisy batch. That
  score has no sampling noise from one evaluation to the next, so any rise
  counts: the best parameters on the sample are kept, and a unit stops when it
  has not improved for ``patience`` steps (3 evaluations by default);
- each unit's step size halves whenever an evaluation finds no improvement;
- the whole runs in :data:`PHASES`: a smooth soft rank first, then a sharper
  one from the best parameters so far, closer to the exact Spearman optimum
  (which matters for full metrics and bent designs).
"""

import math

import torch

from .ranking import pearson_rows, rankdata, scaled_soft_rank, standardise_rows
from .start import closed_form_start

__all__ = [
    "fit_sampled",
    "START_PAIRS",
    "EVALUATION_PAIRS",
    "EVALUATE_EVERY",
    "SAMPLED_PATIENCE",
]

#: Pairs the closed-form start is computed on.
START_PAIRS = 200_000
#: Pairs of the fixed evaluation sample that progress is judged on.
EVALUATION_PAIRS = 50_000
#: Steps between two evaluations.
EVALUATE_EVERY = 10
#: Steps without improvement after which a unit stops, unless ``patience`` says otherwise.
SAMPLED_PATIENCE = 30
_DECAY = 0.5
#: Soft-rank regularisation of each phase, relative to ``regularization``: a
#: smooth objective first, then one closer to the exact Spearman correlation,
#: from the best parameters so far (bent designs, full metrics).
PHASES = (1.0, 0.3)


class _UnitAdam:
    """AdamW over the rows of a parameter tensor, each row (unit) with its own step size."""

    def __init__(self, parameters, learning_rate, weight_decay, betas=(0.9, 0.999), eps=1e-8):
        self.rate = torch.full_like(parameters[:, :1], learning_rate)
        self.weight_decay, self.betas, self.eps = weight_decay, betas, eps
        self.first = torch.zeros_like(parameters)
        self.second = torch.zeros_like(parameters)
        self.steps = torch.zeros_like(parameters[:, :1])

    def step(self, parameters, gradient, rows):
        """Update ``parameters[rows]`` (in place) from their ``gradient``."""
        beta1, beta2 = self.betas
        self.steps[rows] += 1
        steps = self.steps[rows]
        first = self.first[rows] * beta1 + (1 - beta1) * gradient
        second = self.second[rows] * beta2 + (1 - beta2) * gradient**2
        self.first[rows], self.second[rows] = first, second
        corrected = (first / (1 - beta1**steps)) / ((second / (1 - beta2**steps)).sqrt() + self.eps)
        rate = self.rate[rows]
        parameters[rows] -= rate * (corrected + self.weight_decay * parameters[rows])

    def slow_down(self, rows):
        """Halve the step size of the units ``rows``."""
        self.rate[rows] *= _DECAY


def _sample(n_pairs, size, generator, device):
    if n_pairs <= size:
        return torch.arange(n_pairs, device=device)
    return torch.randperm(n_pairs, generator=generator)[:size].to(device)


def _spearman(parameters, terms, ranks, settings):
    """Exact Spearman correlation of each unit's predictions with its (standardised) ranks."""
    weights = settings.layout.weights(parameters)
    return pearson_rows(standardise_rows(rankdata(weights @ terms.T)), ranks)


def fit_sampled(terms, ranks, settings, pairs_per_step, generator, on_step=None):
    """Learn every unit's metric from batches of sampled pairs.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
    ranks : tensor of shape (n_units, n_pairs)
        Standardised ranks of each unit's neural distances over the pairs.
    settings : TrainingSettings
    pairs_per_step : int
    generator : torch.Generator
    on_step : callable, optional
        ``on_step(n_steps, n_active)`` after every step.

    Returns
    -------
    weights : tensor of shape (n_units, n_terms)
        The term weights of each unit's best evaluation.
    scores : tensor of shape (n_units,)
        Its exact Spearman correlation on the evaluation sample.
    unit_steps : long tensor of shape (n_units,)
        The step (counted over all phases) at which each unit stopped
        improving in the last phase; ``max_steps`` where the budget ran out.
    """
    n_units, n_pairs = ranks.shape
    device = ranks.device
    start = _sample(n_pairs, START_PAIRS, generator, device)
    best = closed_form_start(terms[start], standardise_rows(ranks[:, start]), settings.layout)
    evaluation = _sample(n_pairs, EVALUATION_PAIRS, generator, device)
    evaluation_ranks = standardise_rows(rankdata(ranks[:, evaluation]))
    best_scores = _spearman(best, terms[evaluation], evaluation_ranks, settings)
    allowed = math.ceil((settings.patience or SAMPLED_PATIENCE) / EVALUATE_EVERY)
    # Each phase draws its batches from its own stream, and each unit spends its own step
    # budget: a unit's fit does not depend on how long the other units of its chunk took.
    phase_seeds = torch.randint(2**62, (len(PHASES),), generator=generator).tolist()
    spent = torch.zeros(n_units, dtype=torch.long, device=device)
    unit_steps = torch.full((n_units,), settings.max_steps, device=device)
    for sharpness, seed in zip(PHASES, phase_seeds):
        batches = torch.Generator().manual_seed(seed)
        parameters = best.clone()
        optimiser = _UnitAdam(parameters, settings.learning_rate, settings.weight_decay)
        regularization = settings.regularization * sharpness
        misses = torch.zeros(n_units, dtype=torch.long, device=device)
        active = torch.nonzero(spent < settings.max_steps).ravel()
        unit_steps = torch.full((n_units,), settings.max_steps, device=device)
        phase_step = 0
        while active.numel():
            phase_step += 1
            batch = torch.randint(n_pairs, (pairs_per_step,), generator=batches).to(device)
            rows = parameters[active].requires_grad_(True)
            weights = settings.layout.weights(rows)
            soft_ranks = scaled_soft_rank(weights @ terms[batch].T, regularization)
            score = pearson_rows(soft_ranks, standardise_rows(ranks[active[:, None], batch]))
            (gradient,) = torch.autograd.grad(-score.sum(), rows)
            with torch.no_grad():
                optimiser.step(parameters, gradient, active)
                spent[active] += 1
                if phase_step % EVALUATE_EVERY == 0:
                    scores = _spearman(
                        parameters[active], terms[evaluation], evaluation_ranks[active], settings
                    )
                    improved = scores > best_scores[active]
                    best_scores[active[improved]] = scores[improved]
                    best[active[improved]] = parameters[active[improved]]
                    misses[active] = torch.where(improved, 0, misses[active] + 1)
                    optimiser.slow_down(active[~improved])
                    done = misses[active] >= allowed
                    unit_steps[active[done]] = spent[active[done]]
                    active = active[~done]
                active = active[spent[active] < settings.max_steps]
            if on_step is not None:
                on_step(phase_step, active.numel())
    return settings.layout.weights(best), best_scores, unit_steps
