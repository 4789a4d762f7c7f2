"""Stimulus permutations as extra units, and exact ranks of any subset of pairs.

Permuting the stimuli of a unit's patterns (row ``i`` of Y replaced by row
``order[i]``) leaves the feature distances of every pair unchanged and moves
the neural distance of pair ``(order[i], order[j])`` to pair ``(i, j)``. When
the pool holds every pair, the permuted distances are a gather of the real
ones, and their ranks within any subset of pairs (a fold's training or test
pairs) follow from one sort of the real distances: the null fits of a
permutation test cost no more distance computations and no more sorts than
the real fit.
"""

import dataclasses
import functools
import math

import numpy as np
import torch

from .ranking import (
    rankdata,
    sort_rows,
    sorted_average_ranks,
    standardise_rows,
    tied_run_bounds,
)

__all__ = [
    "permutation_orders",
    "check_orders",
    "orders_and_pair_index",
    "permuted_pair_index",
    "SubsetRanks",
    "ScratchBuffers",
]


def permutation_orders(n_stimuli, n_permutations, groups=None, random_state=None):
    """Random stimulus orders, the identity first, shuffled within groups if given.

    Parameters
    ----------
    n_stimuli : int
    n_permutations : int
        Random orders besides the identity.
    groups : array of shape (n_stimuli,), optional
        Exchangeability blocks (runs, sessions): stimuli only move within
        their block.
    random_state : int or None

    Returns
    -------
    orders : long tensor of shape (1 + n_permutations, n_stimuli)
        Row 0 is the identity (the real data).
    """
    rng = np.random.default_rng(random_state)
    if groups is None:
        blocks = [np.arange(n_stimuli)]
    else:
        groups = np.asarray(groups)
        if groups.shape != (n_stimuli,):
            raise ValueError(
                f"groups must have one label per stimulus, shape ({n_stimuli},), got "
                f"{groups.shape}."
            )
        blocks = [np.flatnonzero(groups == label) for label in np.unique(groups)]
        single = [str(label) for label, block in zip(np.unique(groups), blocks) if len(block) < 2]
        if single:
            raise ValueError(
                f"Permutations within groups need at least 2 stimuli per group; group(s) "
                f"{single} have a single member."
            )
    # Distinct orders available, as a log to avoid overflowing with large groups.
    log_available = sum(math.lgamma(len(block) + 1) for block in blocks)
    if log_available < math.log(n_permutations + 1):
        available = round(math.exp(log_available))
        raise ValueError(
            f"n_permutations={n_permutations} needs more distinct orders than the "
            f"{n_stimuli} stimuli allow ({available}, the identity included"
            + (", permuting within groups" if groups is not None else "")
            + "); lower n_permutations or add stimuli."
        )
    orders = np.tile(np.arange(n_stimuli), (n_permutations + 1, 1))
    for block in blocks:
        orders[1:, block] = rng.permuted(np.tile(block, (n_permutations, 1)), axis=1)
    return torch.from_numpy(orders)


def check_orders(permutations, n_stimuli):
    """Stimulus orders as a long tensor of shape (n_permutations, n_stimuli), checked."""
    orders = torch.as_tensor(np.asarray(permutations), dtype=torch.long)
    if orders.ndim != 2 or orders.shape[1] != n_stimuli:
        raise ValueError(
            f"permutations must have shape (n_permutations, {n_stimuli}), one order of the "
            f"stimuli per row, got {tuple(orders.shape)}."
        )
    expected = torch.arange(n_stimuli)
    if not (orders.sort(dim=1).values == expected).all():
        raise ValueError("Every row of permutations must be a permutation of 0 ... n_stimuli - 1.")
    return orders


def orders_and_pair_index(permutations, n_stimuli, first, second, device):
    """Stimulus orders (identity first) and, per order, where each pair's distance comes from.

    Parameters
    ----------
    permutations : array of shape (n_permutations, n_stimuli) or None
    n_stimuli : int
    first, second : long tensors of shape (n_pairs,)
    device : torch.device

    Returns
    -------
    orders : long tensor of shape (1 + n_permutations, n_stimuli)
    pair_index : long tensor of shape (1 + n_permutations, n_pairs), on ``device``
    """
    identity = torch.arange(n_stimuli)[None]
    if permutations is None:
        return identity, torch.arange(len(first), device=device)[None]
    orders = torch.cat([identity, check_orders(permutations, n_stimuli)])
    return orders, permuted_pair_index(orders, first, second, n_stimuli).to(device)


def permuted_pair_index(orders, first, second, n_stimuli):
    """Pool position of the pair each pair takes its neural distance from.

    Parameters
    ----------
    orders : long tensor of shape (n_orders, n_stimuli)
    first, second : long tensors of shape (n_pairs,)
        The pool: every pair ``i < j`` of the stimuli.
    n_stimuli : int

    Returns
    -------
    long tensor of shape (n_orders, n_pairs)
    """
    lookup = torch.full((n_stimuli, n_stimuli), -1, dtype=torch.long)
    positions = torch.arange(len(first))
    lookup[first, second] = positions
    lookup[second, first] = positions
    index = lookup[orders[:, first], orders[:, second]]
    if (index < 0).any():
        raise ValueError(
            "permutations need every pair of stimuli in the pool; raise max_pairs to at least "
            f"{n_stimuli * (n_stimuli - 1) // 2}."
        )
    return index


class SubsetRanks:
    """Standardised average ranks of any subset of a unit's pairs, from one sort.

    Parameters
    ----------
    neural : tensor of shape (n_units, n_pairs)
        Neural distances of the pool's pairs, one row per unit.
    scratch : ScratchBuffers, optional
        Where the counting keeps its large temporaries; share one between the
        chunks a thread fits.
    """

    def __init__(self, neural, scratch=None):
        self.neural = neural
        self.scratch = scratch or ScratchBuffers()
        sorted_values, order = sort_rows(neural)
        self.order = order
        self.dtype = neural.dtype
        self.position = torch.empty_like(order)
        self.position.scatter_(
            1, order, torch.arange(order.shape[1], device=order.device).expand_as(order)
        )
        # Units whose distances tie, and the runs of equal values in their sorted rows.
        self.tied, self.run_first, self.run_last = tied_run_bounds(sorted_values)
        # Every pool pair that ties with another: its unit, sorted position and run.
        row, at = (self.run_first != self.run_last).nonzero(as_tuple=True)
        self.ties = _PoolTies(
            unit=self.tied[row],
            at=at,
            first=self.run_first[row, at],
            last=self.run_last[row, at],
        )

    @functools.cached_property
    def all_ranks(self):
        """Standardised average ranks over the whole pool, shape (n_units, n_pairs)."""
        runs = (self.tied, self.run_first, self.run_last)
        sorted_ranks = sorted_average_ranks(self.position.shape, *runs, self.dtype)
        return standardise_rows(sorted_ranks.gather(1, self.position))

    def standardised(self, pairs):
        """Ranks within each subset, centred and of unit norm.

        Parameters
        ----------
        pairs : long tensor of shape (n_subsets, n_chosen)
            Distinct pool positions making up each subset (the same for every
            unit), for example a fold's test pairs seen through a
            permutation. A subset of every pair is a reordering of the
            pool's ranks: a gather, with no counting.

        Returns
        -------
        tensor of shape (n_units * n_subsets, n_chosen)
            Unit-major rows: row ``u * n_subsets + s`` ranks unit ``u`` over
            subset ``s``, as :func:`scipy.stats.rankdata` would.
        """
        n_units, n_pairs = self.position.shape
        n_subsets, n_chosen = pairs.shape
        if n_chosen == n_pairs:
            return self.all_ranks[:, pairs].reshape(n_units * n_subsets, n_pairs)
        if n_chosen * math.log2(n_chosen) < 2 * n_pairs:
            # Small subsets (test folds): sorting them costs less than counting over the pool.
            chosen_values = self.neural[:, pairs].reshape(n_units * n_subsets, n_chosen)
            return standardise_rows(rankdata(chosen_values))
        # Walk each unit's pool in sorted order, counting the members of each subset met so far:
        # a member's count when it is met is its rank within the subset.
        counter = torch.int16 if n_pairs < 2**15 else torch.int32
        device, scratch = pairs.device, self.scratch
        sorted_shape = (n_units, n_subsets, n_pairs)
        inside = scratch.get("inside", (n_subsets, n_pairs), counter, device).zero_()
        inside.scatter_(1, pairs, 1)
        member = torch.gather(
            inside.expand(sorted_shape),
            2,
            self.order[:, None].expand(sorted_shape),
            out=scratch.get("member", sorted_shape, counter, device),
        )
        count = torch.cumsum(
            member, dim=2, dtype=counter, out=scratch.get("count", sorted_shape, counter, device)
        )
        sorted_ranks = scratch.get("sorted_ranks", sorted_shape, self.dtype, device).copy_(count)
        # The ranks within a subset have mean (n + 1) / 2 and, without ties, sum of squared
        # deviations n (n^2 - 1) / 12; each run of t tied members lowers it by (t^3 - t) / 12.
        squares = torch.full(
            (n_units, n_subsets), n_chosen * (n_chosen**2 - 1), dtype=torch.float64, device=device
        )
        if len(self.tied):
            self._average_tied_members(sorted_ranks, member, count, squares)
        chosen = torch.gather(
            self.position[:, None].expand(n_units, n_subsets, n_pairs),
            2,
            pairs.expand(n_units, n_subsets, n_chosen),
            out=scratch.get("chosen", (n_units, n_subsets, n_chosen), torch.long, device),
        )  # sorted position of each member, per unit
        ranks = sorted_ranks.gather(2, chosen)
        ranks -= (n_chosen + 1) / 2
        ranks /= (
            (squares / 12).sqrt().clamp_min(torch.finfo(self.dtype).tiny).to(self.dtype)[:, :, None]
        )
        return ranks.reshape(n_units * n_subsets, n_chosen)

    def _average_tied_members(self, sorted_ranks, member, count, squares):
        """Give the members that tie within a subset their average rank, in place.

        Float32 distances over thousands of pairs tie in most units, but only
        in a few pairs each: only those positions of the sorted pool are
        recounted, and the sums of squared deviations of their subsets
        corrected.

        Parameters
        ----------
        sorted_ranks, member, count : tensors of shape (n_units, n_subsets, n_pairs)
            In each unit's sorted order: the ranks to correct, whether the pair
            is in the subset, and how many members come up to it.
        squares : float64 tensor of shape (n_units, n_subsets)
        """
        ties = self.ties
        before = count[ties.unit, :, ties.first] - member[ties.unit, :, ties.first]
        tied_with = (count[ties.unit, :, ties.last] - before).to(torch.float64)
        sorted_ranks[ties.unit, :, ties.at] = (before + (tied_with + 1) / 2).to(self.dtype)
        # A run of t members holds t of these terms, t (t^2 - 1) in all.
        in_subset = member[ties.unit, :, ties.at].to(torch.float64)
        squares.index_add_(0, ties.unit, -in_subset * (tied_with**2 - 1))


@dataclasses.dataclass(frozen=True)
class _PoolTies:
    """The pool pairs that tie with another pair of their unit, one entry per (unit, pair).

    ``at`` is the pair's position in its unit's sorted order; ``first`` and
    ``last`` bound the run of equal distances it belongs to.
    """

    unit: torch.Tensor
    at: torch.Tensor
    first: torch.Tensor
    last: torch.Tensor


class ScratchBuffers:
    """Large temporaries kept from one call to the next.

    A fresh tensor of tens of MiB is mapped anew by the allocator and its pages
    faulted in on first write; for the counting passes of a permutation test,
    which fill such tensors once per fold and block of permuted copies, that
    took about a third of the time. Reused buffers are faulted in once.
    """

    def __init__(self):
        self._buffers = {}

    def get(self, name, shape, dtype, device):
        """A tensor of ``shape``, ``dtype`` and ``device`` to overwrite."""
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or (buffer.dtype, buffer.device) != (dtype, device) or len(buffer) < size:
            buffer = self._buffers[name] = torch.empty(size, dtype=dtype, device=device)
        return buffer[:size].view(shape)
