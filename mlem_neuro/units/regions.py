"""Units from a label image: one unit per region of an atlas."""

import numpy as np

__all__ = ["label_units"]


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
