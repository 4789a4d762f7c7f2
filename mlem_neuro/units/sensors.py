"""Sensor neighbourhoods from positions or an adjacency matrix (arrays only)."""

import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

from ..core import check_positive_float

__all__ = ["radius_neighbourhoods", "adjacency_neighbourhoods", "neighbourhood_adjacency"]


def radius_neighbourhoods(positions, radius):
    """One neighbourhood per sensor: every sensor within ``radius`` of it.

    Parameters
    ----------
    positions : array of shape (n_sensors, 3)
        Sensor positions.
    radius : float
        In the unit of ``positions``.

    Returns
    -------
    list of n_sensors int arrays
        Sensor indices of each neighbourhood, centre included, sorted.
    """
    radius = check_positive_float("radius", radius)
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions must have shape (n_sensors, 3), got {positions.shape}.")
    tree = cKDTree(positions)
    # A tiny tolerance keeps sensors exactly at the radius despite rounding.
    members = tree.query_ball_point(positions, r=radius * (1 + 1e-9))
    return [np.array(sorted(unit)) for unit in members]


def adjacency_neighbourhoods(adjacency):
    """One neighbourhood per sensor: the sensor and those adjacent to it.

    Parameters
    ----------
    adjacency : sparse matrix of shape (n_sensors, n_sensors)

    Returns
    -------
    list of n_sensors int arrays
        Sorted sensor indices, centre included.
    """
    adjacency = scipy.sparse.csr_array(adjacency)
    return [
        np.union1d([row], adjacency.indices[adjacency.indptr[row] : adjacency.indptr[row + 1]])
        for row in range(adjacency.shape[0])
    ]


def neighbourhood_adjacency(neighbourhoods):
    """The sparse adjacency matrix of neighbourhoods (sensor i adjacent to the members of its).

    Parameters
    ----------
    neighbourhoods : list of n_sensors int arrays

    Returns
    -------
    sparse array of shape (n_sensors, n_sensors)
    """
    rows = np.repeat(np.arange(len(neighbourhoods)), [len(unit) for unit in neighbourhoods])
    columns = np.concatenate(neighbourhoods)
    n = len(neighbourhoods)
    return scipy.sparse.coo_array((np.ones(len(rows)), (rows, columns)), shape=(n, n))
