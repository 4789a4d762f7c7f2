"""Searchlight spheres from voxel coordinates, with a KD-tree."""

import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

from ..core import check_positive_float

__all__ = ["searchlight_spheres"]


def searchlight_spheres(mask, affine, radius):
    """One sphere per voxel of a mask, made of the mask voxels within ``radius`` mm.

    Parameters
    ----------
    mask : bool array of shape (nx, ny, nz)
        Voxels to centre spheres on and to take their members from.
    affine : array of shape (4, 4)
        Voxel to world (mm) transform.
    radius : float
        Sphere radius in mm; at least the smallest voxel size, so that a sphere
        can hold more than its centre.

    Returns
    -------
    membership : sparse array of shape (n_mask_voxels, n_mask_voxels)
        Row ``k`` marks the members of the sphere centred on the ``k``-th mask
        voxel; columns index mask voxels in C order (``np.flatnonzero(mask)``),
        the order of :func:`nilearn.masking.apply_mask`.
    """
    mask = np.asarray(mask)
    if mask.ndim != 3:
        raise ValueError(f"mask must be a 3D array, got shape {mask.shape}.")
    mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("The mask is empty: no voxel to centre a searchlight on.")
    radius = check_positive_float("radius", radius)
    voxel_sizes = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    if radius < voxel_sizes.min():
        raise ValueError(
            f"radius={radius} mm is smaller than the smallest voxel size "
            f"({voxel_sizes.min():.3g} mm): every sphere would hold only its centre."
        )
    voxels = np.argwhere(mask)
    world = voxels @ np.asarray(affine)[:3, :3].T + np.asarray(affine)[:3, 3]
    tree = cKDTree(world)
    # A tiny tolerance keeps voxels exactly at the radius despite rounding.
    members = tree.query_ball_point(world, r=radius * (1 + 1e-9), workers=-1)
    lengths = np.fromiter((len(unit) for unit in members), dtype=np.int64, count=len(members))
    rows = np.repeat(np.arange(len(members)), lengths)
    columns = np.concatenate([np.asarray(unit, dtype=np.int64) for unit in members])
    data = np.ones(len(columns), dtype=bool)
    return scipy.sparse.csr_array((data, (rows, columns)), shape=(len(members), len(members)))
