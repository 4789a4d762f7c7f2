"""Units from a label image: one unit per region of an atlas."""

import numpy as np

from ..core import warn

__all__ = ["label_units", "warn_about_small_regions"]


def label_units(labels, background=0):
    """Columns belonging to each label.

    Parameters
    ----------
    labels : int array of shape (n_columns,)
        Label of each column (for example an atlas sampled at the mask's
        voxels).
    background : int
        Label that belongs to no unit.

    Returns
    -------
    names : array of shape (n_units,)
        The labels, sorted, background excluded.
    units : list of n_units int arrays
        Column indices of each label.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1D (one label per column), got shape {labels.shape}.")
    if not np.all(np.isfinite(labels.astype(float))) or np.any(labels != np.round(labels)):
        raise ValueError("labels must be integers; got non-integer values in the atlas.")
    labels = labels.astype(np.int64)
    names = np.unique(labels[labels != background])
    if names.size == 0:
        raise ValueError("The atlas has no label other than the background inside the mask.")
    return names, [np.flatnonzero(labels == name) for name in names]


def warn_about_small_regions(names, units, n_features, element="voxel"):
    """Warn about regions with fewer columns (voxels, vertices) than features.

    Parameters
    ----------
    names : sequence of n_units labels
    units : list of n_units int arrays
    n_features : int
    element : str
        What a column is, for the message.
    """
    small = [
        (name, len(unit)) for name, unit in zip(names, units) if len(unit) < max(2, n_features)
    ]
    if small:
        listed = ", ".join(
            f"{name} ({size} {element}{'s' if size > 1 else ''})" for name, size in small[:5]
        )
        warn(
            f"{len(small)} region(s) have fewer {element}s than features ({n_features}): {listed}"
            f"{'...' if len(small) > 5 else ''}. Their patterns have too few dimensions to "
            "reflect every feature; merge them or use a coarser atlas."
        )
