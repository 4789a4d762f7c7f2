"""Chunks of units sized to a memory budget, and the neural distances of each chunk.

Patterns stay in host memory; a chunk's columns are gathered, moved to the
device and turned into the distance of every pair within each of its units.
Peak memory grows with the chunk, not with the number of units.
"""

import dataclasses

import numpy as np
import torch

from .distances import PAIRS_PER_DIFFERENCE, standardise_for_distance, unit_pair_distances
from .evaluation import standardised_ranks
from .membership import size_sorted_chunks

__all__ = [
    "BYTES_PER_CHUNK",
    "chunk_budget",
    "rows_per_chunk",
    "UnitChunk",
    "plan_chunks",
    "NeuralDistances",
    "unit_distance_ranks",
]

BYTES_PER_CHUNK = 1 << 30


def chunk_budget(device, side_by_side=1):
    """Working memory for one chunk of units, in bytes.

    1 GiB on the CPU, shared by the chunks fitted side by side; on a GPU a
    quarter of the memory free when the fit starts (at least 256 MiB). GPU
    steps cost about the same for few or many units, so fewer, larger chunks
    are faster there.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return BYTES_PER_CHUNK // side_by_side
    free, _ = torch.cuda.mem_get_info(device)
    return max(BYTES_PER_CHUNK // 4, free // 4)


def _bytes_per_row(n_pairs, n_stimuli, widest, dtype):
    """Working memory of one unit (or one permuted copy of it) in a chunk."""
    element_bytes = torch.finfo(dtype).bits // 8
    # Distances between patterns come from a Gram matrix when every pair is used,
    # else from the differences of a few thousand pairs at a time (and a million
    # stimuli need no n**2 of anything).
    if n_pairs == n_stimuli * (n_stimuli - 1) // 2:
        between_patterns = 2 * n_stimuli**2
    else:
        between_patterns = 3 * PAIRS_PER_DIFFERENCE * widest
    # Distances, soft ranks, gradients and SubsetRanks' counted ranks; patterns. Then
    # SubsetRanks' int64 sort order and positions, its member counts (int16 or int32,
    # twice) and the int64 sorted positions of a subset's members.
    elements = 13 * n_pairs + between_patterns + n_stimuli * widest
    return element_bytes * elements + 36 * n_pairs


def rows_per_chunk(n_pairs, n_stimuli, dtype, device, side_by_side=1):
    """How many unit-rows (units times permuted orders) fit in one chunk's budget."""
    budget = chunk_budget(device, side_by_side)
    return max(1, budget // _bytes_per_row(n_pairs, n_stimuli, 0, dtype))


@dataclasses.dataclass
class UnitChunk:
    """Units fitted together.

    Attributes
    ----------
    members : int array of shape (chunk_units,)
        Indices of the units.
    padded : int array of shape (chunk_units, width)
        Their columns, zero-padded.
    mask : bool array of shape (chunk_units, width)
        True on real columns.
    """

    members: np.ndarray
    padded: np.ndarray
    mask: np.ndarray


def plan_chunks(
    columns, n_pairs, n_stimuli, units_per_chunk, device, dtype, orders_per_unit=1, side_by_side=1
):
    """Split the units into chunks of similar size that fit the memory budget.

    Parameters
    ----------
    columns : list of int arrays
        Columns of each unit.
    n_pairs, n_stimuli : int
    units_per_chunk : int or None
        None: as many as fit :func:`chunk_budget`.
    device : torch.device
    dtype : torch dtype
    orders_per_unit : int
        1 + permutations: every unit is fitted once per order of the stimuli.
    side_by_side : int
        Chunks fitted at the same time, which share the budget.

    Returns
    -------
    list of UnitChunk
    """
    widest = max(len(unit) for unit in columns)
    if units_per_chunk is None:
        per_unit = _bytes_per_row(n_pairs, n_stimuli, widest, dtype) * orders_per_unit
        units_per_chunk = max(1, chunk_budget(device, side_by_side) // per_unit)
    chunks = size_sorted_chunks(columns, units_per_chunk * widest)
    return [UnitChunk(*chunk) for chunk in chunks]


class NeuralDistances:
    """Distances between the patterns of every pair of the pool, unit by unit.

    Parameters
    ----------
    Y : array of shape (n_stimuli, n_columns) or (n_stimuli, n_stimuli)
        Patterns, or a distance matrix with ``distance="precomputed"``.
    distance : str
    first, second : long tensors of shape (n_pairs,)
        The pool of pairs.
    all_pairs : bool
        The pool holds every pair in row-major order.
    device : torch.device
    dtype : torch dtype
    """

    def __init__(self, Y, distance, first, second, all_pairs, device, dtype):
        self.distance = distance
        self.first, self.second = first, second
        self.all_pairs = all_pairs
        self.device, self.dtype = device, dtype
        if distance == "precomputed":
            self.matrix = Y
        else:
            self.patterns = torch.from_numpy(standardise_for_distance(Y, distance)).to(dtype)

    def of_matrix(self):
        """Distances of a precomputed matrix: tensor of shape (1, n_pairs) on the device."""
        values = self.matrix[self.first.numpy(), self.second.numpy()][None]
        return torch.as_tensor(values).to(self.device, self.dtype)

    def of_units(self, columns):
        """Distances within a few units, all at once: tensor of shape (n_units, n_pairs).

        Without memory planning, for a handful of units; a precomputed
        matrix is its own single unit.
        """
        if self.distance == "precomputed":
            return self.of_matrix()
        chunk = UnitChunk(*size_sorted_chunks(columns, np.inf)[0])
        in_order = torch.from_numpy(np.argsort(chunk.members)).to(self.device)
        return self.of_chunk(chunk)[in_order]

    def of_chunk(self, chunk):
        """Distances within every unit of a chunk: tensor of shape (chunk_units, n_pairs)."""
        mask = torch.from_numpy(chunk.mask)
        columns = self.patterns[:, torch.from_numpy(chunk.padded)].permute(1, 0, 2)
        return unit_pair_distances(
            (columns * mask[:, None, :]).to(self.device),
            mask.to(self.device),
            self.first.to(self.device),
            self.second.to(self.device),
            self.distance,
            self.all_pairs,
        )


def unit_distance_ranks(Y, columns, distance):
    """Standardised ranks of every unit's neural distances over every pair of stimuli.

    Parameters
    ----------
    Y : array of shape (n_stimuli, n_columns)
    columns : list of int arrays
        Columns of each unit.
    distance : str

    Returns
    -------
    array of shape (n_units, n_pairs), float64
        Rows centred and of unit norm, so that the dot product of two rows is
        the Spearman correlation of the two units' distances; NaN rows for
        units whose distances are undefined (correlation or cosine distance
        to a constant pattern).
    """
    first, second = torch.triu_indices(len(Y), len(Y), offset=1)
    cpu = torch.device("cpu")
    distances = NeuralDistances(Y, distance, first, second, True, cpu, torch.float64)
    ranks = np.empty((len(columns), len(first)))
    for chunk in plan_chunks(columns, len(first), len(Y), None, cpu, torch.float64):
        values = distances.of_chunk(chunk)
        undefined = values.isnan().any(dim=1, keepdim=True)
        ranks[chunk.members] = standardised_ranks(values.nan_to_num()).masked_fill(
            undefined, torch.nan
        )
    return ranks
