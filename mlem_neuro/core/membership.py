"""Units: subsets of the columns of one pattern matrix.

A set of units is given as a scipy.sparse membership matrix of shape
(n_units, n_columns) (non-zero where a column belongs to a unit) or as a
list of column-index arrays. Internally units are processed in chunks of
similar size, each as a padded index array.
"""

import numpy as np
import scipy.sparse

__all__ = ["unit_columns", "size_sorted_chunks"]


def unit_columns(units, n_columns):
    """Column indices of every unit.

    Parameters
    ----------
    units : sparse matrix of shape (n_units, n_columns) or list of arrays
        Membership of columns in units.
    n_columns : int
        Number of columns of the pattern matrix.

    Returns
    -------
    list of int arrays
        Sorted, unique column indices of each unit; none is empty.
    """
    if scipy.sparse.issparse(units):
        if units.ndim != 2 or units.shape[1] != n_columns:
            raise ValueError(
                f"units as a sparse matrix must have shape (n_units, {n_columns}) to match the "
                f"columns of Y, got {units.shape}."
            )
        csr = scipy.sparse.csr_array(units)
        csr.eliminate_zeros()
        columns = np.split(csr.indices.astype(np.int64), csr.indptr[1:-1])
        columns = [np.unique(unit) for unit in columns]
    elif isinstance(units, (list, tuple)):
        columns = []
        for index, unit in enumerate(units):
            array = np.asarray(unit)
            if array.dtype == bool:
                raise TypeError(
                    f"units[{index}] is a boolean mask; give column indices "
                    "(np.flatnonzero(mask)) or a sparse membership matrix."
                )
            if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
                raise TypeError(
                    f"units[{index}] must be a 1D array of integer column indices, got "
                    f"dtype {array.dtype} and shape {array.shape}."
                )
            columns.append(np.unique(array.astype(np.int64)))
    else:
        raise TypeError(
            "units must be a scipy.sparse matrix of shape (n_units, n_columns) or a list of "
            f"column-index arrays, got {type(units).__name__}."
        )
    if not columns:
        raise ValueError("units is empty: at least one unit is needed.")
    for index, unit in enumerate(columns):
        if unit.size == 0:
            raise ValueError(f"Unit {index} has no column.")
        if unit[0] < 0 or unit[-1] >= n_columns:
            raise ValueError(
                f"Unit {index} refers to column {unit[0] if unit[0] < 0 else unit[-1]}, outside "
                f"the {n_columns} columns of Y."
            )
    return columns


def size_sorted_chunks(columns, max_elements):
    """Group units of similar size into chunks of bounded padded size.

    Parameters
    ----------
    columns : list of int arrays
        Column indices of each unit.
    max_elements : int
        Upper bound on ``chunk_units * largest_unit_size`` per chunk (a chunk
        holds at least one unit).

    Returns
    -------
    list of (unit_indices, padded_columns, mask)
        ``unit_indices`` of shape (chunk_units,) indexes the input units;
        ``padded_columns`` of shape (chunk_units, width) holds their columns,
        padded with 0 where ``mask`` (same shape) is False.
    """
    sizes = np.array([unit.size for unit in columns])
    order = np.argsort(sizes, kind="stable")
    chunks = []
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and (stop - start + 1) * sizes[order[stop]] <= max_elements:
            stop += 1
        members = order[start:stop]
        width = sizes[members].max()
        padded = np.zeros((len(members), width), dtype=np.int64)
        mask = np.zeros((len(members), width), dtype=bool)
        for row, unit in enumerate(members):
            padded[row, : sizes[unit]] = columns[unit]
            mask[row, : sizes[unit]] = True
        chunks.append((members, padded, mask))
        start = stop
    return chunks
