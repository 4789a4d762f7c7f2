"""Batched BFGS: many small, independent maximisations run as one.

Each unit's metric has a handful of parameters (8 for 8 features, 36 with
their interactions), and every step of the grouped fit already sees every
pair: the objective is deterministic and smooth almost everywhere, the setting
in which a quasi-Newton method converges in tens of steps where a first-order
one needs hundreds. Every unit keeps its own inverse-Hessian estimate
(``n_params x n_params``), its own backtracking line search (Armijo's
condition) and its own stopping rule.

Units advance independently: each round evaluates, for every unit still
running, its next trial point, whether that is a new iteration's first step or
a shorter step of its line search. So a round costs one call of the objective
for all units, the number of rounds is the largest number of evaluations any
unit needs, and units that have converged leave the batch.
"""

import torch

__all__ = ["maximise"]

#: Armijo's sufficient-increase constant.
_ARMIJO = 1e-4
#: Halvings of a step before the line search gives up (the unit has converged).
_MAX_HALVINGS = 8


def maximise(objective, start, max_steps, tol, patience, first_step=0.1, on_step=None):
    """Maximise a batch of independent objectives by BFGS with backtracking line searches.

    Parameters
    ----------
    objective : callable
        ``objective(parameters, rows)`` with parameters of shape
        (n_rows, n_params) for the units ``rows`` (long tensor of shape
        (n_rows,)) returns their values (n_rows,) and gradients (n_rows,
        n_params), without graph.
    start : tensor of shape (n_units, n_params)
    max_steps : int
        Evaluations of the objective per unit, at most (the start included).
    tol : float
        An iteration that raises a unit's value by less than this counts as no
        progress.
    patience : int
        A unit stops after this many iterations in a row without progress, or
        when its line search finds no rise at all.
    first_step : float
        Length of the first step, along the gradient, in parameter units.
    on_step : callable, optional
        Called as ``on_step(n_steps, n_active)`` after each round.

    Returns
    -------
    parameters : tensor of shape (n_units, n_params)
        The best parameters found (the line search only accepts rises).
    values : tensor of shape (n_units,)
    unit_steps : long tensor of shape (n_units,)
        Evaluations each unit used.
    """
    n_units = len(start)
    device = start.device
    everyone = torch.arange(n_units, device=device)
    x = start.clone()
    value, gradient = objective(x, everyone)
    unit_steps = torch.ones(n_units, dtype=torch.long, device=device)
    search = _LineSearch(x, gradient, first_step)
    stalls = torch.zeros(n_units, dtype=torch.long, device=device)
    active = everyone[value.isfinite()]
    search.aim(active, gradient[active])
    n_steps = 1
    while active.numel() and n_steps < max_steps:
        trial = x[active] + search.step[active, None] * search.direction[active]
        trial_value, trial_gradient = objective(trial, active)
        n_steps += 1
        unit_steps[active] += 1
        rise = trial_value - value[active]
        accepted = rise >= _ARMIJO * search.step[active] * search.slope[active]
        moved = active[accepted]
        search.learn(moved, trial[accepted] - x[moved], gradient[moved] - trial_gradient[accepted])
        x[moved] = trial[accepted]
        value[moved] = trial_value[accepted]
        gradient[moved] = trial_gradient[accepted]
        stalls[moved] = torch.where(rise[accepted] < tol, stalls[moved] + 1, 0)
        search.aim(moved, gradient[moved])
        failed = active[~accepted]
        search.shorten(failed)
        going = torch.ones(n_units, dtype=torch.bool, device=device)
        going[moved[stalls[moved] >= patience]] = False
        going[failed[search.halvings[failed] > _MAX_HALVINGS]] = False
        active = active[going[active]]
        if on_step is not None:
            on_step(n_steps, active.numel())
    return x, value, unit_steps


class _LineSearch:
    """Per-unit BFGS directions and backtracking steps, for a minimisation of ``-value``.

    Parameters
    ----------
    x : tensor of shape (n_units, n_params)
    gradient : tensor of shape (n_units, n_params)
        Gradient of the maximised value at ``x``.
    first_step : float
    """

    def __init__(self, x, gradient, first_step):
        n_units, n_params = x.shape
        self.first_step = first_step
        self.identity = torch.eye(n_params, dtype=x.dtype, device=x.device)
        self.inverse_hessian = self._scaled_identity(gradient)
        self.fresh = torch.ones(n_units, dtype=torch.bool, device=x.device)
        self.direction = torch.zeros_like(x)
        self.slope = torch.zeros(n_units, dtype=x.dtype, device=x.device)
        self.step = torch.ones_like(self.slope)
        self.halvings = torch.zeros(n_units, dtype=torch.long, device=x.device)

    def _scaled_identity(self, gradient):
        tiny = torch.finfo(gradient.dtype).tiny
        scale = self.first_step / gradient.norm(dim=1).clamp_min(tiny)
        return scale[:, None, None] * self.identity

    def aim(self, units, gradient):
        """New directions for ``units`` from their gradients; a full step first."""
        H = self.inverse_hessian[units]
        direction = (H @ gradient[:, :, None])[:, :, 0]
        slope = (direction * gradient).sum(dim=1)
        lost = ~(slope > 0)  # the estimate no longer points uphill: start it again
        if lost.any():
            H[lost] = self._scaled_identity(gradient[lost])
            direction[lost] = (H[lost] @ gradient[lost][:, :, None])[:, :, 0]
            slope[lost] = (direction[lost] * gradient[lost]).sum(dim=1)
            self.inverse_hessian[units] = H
            self.fresh[units[lost]] = True
        self.direction[units] = direction
        self.slope[units] = slope
        self.step[units] = 1.0
        self.halvings[units] = 0

    def shorten(self, units):
        """Halve the steps of ``units`` whose trial was refused."""
        self.step[units] /= 2
        self.halvings[units] += 1

    def learn(self, units, s, y):
        """BFGS update of the inverse Hessians of ``units`` after steps ``s``.

        ``y`` is the change in the gradient of ``-value``; an update whose
        ``s.y`` is not positive is skipped. A fresh estimate is first rescaled
        by ``s.y / y.y`` (Shanno and Phua), which sizes the next steps from the
        curvature just seen.
        """
        H = self.inverse_hessian[units]
        sy = (s * y).sum(dim=1)
        curved = sy > 1e-10 * s.norm(dim=1) * y.norm(dim=1)
        tiny = torch.finfo(s.dtype).tiny
        scale = sy / (y * y).sum(dim=1).clamp_min(tiny)
        rescale = self.fresh[units] & curved
        H = torch.where(rescale[:, None, None], scale[:, None, None] * self.identity, H)
        rho = torch.where(curved, 1 / sy.clamp_min(tiny), 0.0)[:, None, None]
        Hy = (H @ y[:, :, None])[:, :, 0]
        yHy = (y * Hy).sum(dim=1)[:, None, None]
        ss = s[:, :, None] * s[:, None, :]
        cross = Hy[:, :, None] * s[:, None, :]
        self.inverse_hessian[units] = H + (1 + rho * yHy) * rho * ss - rho * (cross + cross.mT)
        self.fresh[units] = self.fresh[units] & ~curved
