"""Geodesic discs: the vertices of a cortical mesh within a distance along the cortex.

A 3-D ball on a folded cortex reaches across a sulcus into the opposite bank,
millimetres away in space but centimetres away along the sheet. A disc follows
the sheet instead: it holds the vertices whose shortest path along the mesh's
edges from the centre is at most the radius. Paths along edges zig-zag a little,
so they are at least the true geodesic distance (a few per cent longer on
regular meshes): a disc never reaches further than the radius. Distances should
be measured on the midthickness surface (the mean of the white and pial ones),
never on an inflated or spherical mesh.

Each centre's search stops at the radius (Dijkstra's algorithm with a limit),
over the few vertices it could reach: a path along the mesh is never shorter
than the straight line, so a disc lies within the 3-D ball of the same radius,
and a batch of neighbouring centres only needs the mesh within their balls.
Time and memory thus grow with the discs, not with the square of the number of
vertices, and fsnative meshes (about 150,000 vertices per hemisphere) work.
"""

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..core import check_positive_float

__all__ = ["mesh_edges", "geodesic_discs"]

#: Centres searched together, over the mesh within their 3-D balls.
_BATCH_CENTRES = 128


def mesh_edges(coordinates, faces):
    """Every edge of a triangle mesh once, with its length.

    Parameters
    ----------
    coordinates : array of shape (n_vertices, 3)
        Vertex positions in mm.
    faces : int array of shape (n_faces, 3)
        Vertex indices of each triangle.

    Returns
    -------
    edges : int array of shape (n_edges, 2)
        The two vertices of each edge, smaller index first.
    lengths : array of shape (n_edges,)
    """
    coordinates, faces = _check_mesh(coordinates, faces)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    edges = edges[edges[:, 0] != edges[:, 1]]  # degenerate triangles
    lengths = np.linalg.norm(coordinates[edges[:, 0]] - coordinates[edges[:, 1]], axis=1)
    return edges, lengths


def geodesic_discs(coordinates, faces, radius, keep=None, sources=None):
    """One disc per kept vertex: the kept vertices within ``radius`` mm along the mesh.

    Parameters
    ----------
    coordinates : array of shape (n_vertices, 3)
        Vertex positions in mm, on the midthickness surface.
    faces : int array of shape (n_faces, 3)
        Vertex indices of each triangle.
    radius : float
        Disc radius in mm, along mesh edges; at least the mesh's median edge
        length, so that a disc can hold more than its centre.
    keep : bool array of shape (n_vertices,), optional
        Vertices to centre discs on and to take their members from (those with
        signal: not the medial wall). Paths never pass through the others.
        None keeps every vertex.
    sources : bool array of shape (n_vertices,), optional
        Only these vertices (among the kept ones) centre discs and are
        members, while paths run over every kept vertex: an M/EEG source
        space, a subset of a denser cortical mesh. ``radius`` must then be at
        least the source spacing (the median 3-D distance between
        neighbouring sources).

    Returns
    -------
    membership : sparse array of shape (n_kept, n_kept)
        Row ``k`` marks the members of the disc centred on the ``k``-th kept
        vertex; columns index kept vertices in order (``np.flatnonzero(keep)``).
        With ``sources``: shape (n_sources, n_sources), rows and columns in
        the order of ``np.flatnonzero(sources & keep)``.
    """
    edges, lengths = mesh_edges(coordinates, faces)
    coordinates = np.asarray(coordinates, dtype=float)
    n_vertices = len(coordinates)
    keep = _check_keep(keep, n_vertices)
    radius = check_positive_float("radius", radius)
    kept = np.flatnonzero(keep)
    position = np.full(n_vertices, -1)
    position[kept] = np.arange(len(kept))
    inside = keep[edges].all(axis=1)
    edges, lengths = position[edges[inside]], lengths[inside]
    typical = float(np.median(lengths)) if len(lengths) else np.inf
    if radius < typical:
        raise ValueError(
            f"radius={radius} mm is below the mesh's median edge length ({typical:.3g} mm): "
            "most discs would hold only their centre."
        )
    # csgraph reads stored zeros as missing edges: coincident vertices get a tiny length.
    lengths = np.maximum(lengths, np.finfo(float).tiny)
    graph = scipy.sparse.csr_array(
        (lengths, (edges[:, 0], edges[:, 1])), shape=(len(kept), len(kept))
    )
    limit = radius * (1 + 1e-9)  # keep vertices exactly at the radius despite rounding
    if sources is None:
        rows, columns = _discs_by_neighbourhood(coordinates[kept], graph, limit)
        data = np.ones(len(rows), dtype=bool)
        return scipy.sparse.csr_array((data, (rows, columns)), shape=(len(kept), len(kept)))
    centres = np.flatnonzero(_check_keep(sources, n_vertices, "sources")[kept])
    _check_source_spacing(coordinates[kept][centres], radius)
    rows, columns = _discs_by_neighbourhood(coordinates[kept], graph, limit, centres)
    source_of = np.full(len(kept), -1)
    source_of[centres] = np.arange(len(centres))
    rows, columns = source_of[rows], source_of[columns]
    members = columns >= 0
    data = np.ones(int(members.sum()), dtype=bool)
    shape = (len(centres), len(centres))
    return scipy.sparse.csr_array((data, (rows[members], columns[members])), shape=shape)


def source_spacing(positions):
    """Median 3-D distance from each source to its nearest neighbour (inf for one source).

    Parameters
    ----------
    positions : array of shape (n_sources, 3)

    Returns
    -------
    float
    """
    positions = np.asarray(positions, dtype=float)
    if len(positions) < 2:
        return np.inf
    return float(np.median(cKDTree(positions).query(positions, k=2)[0][:, 1]))


def _check_source_spacing(positions, radius):
    """Refuse a radius below the spacing of sources: every disc would hold its centre alone."""
    spacing = source_spacing(positions)
    if radius < spacing:
        raise ValueError(
            f"radius={radius} mm is below the source spacing ({spacing:.3g} mm at the median "
            "between neighbouring sources): most discs would hold only their centre."
        )


def _discs_by_neighbourhood(coordinates, graph, limit, centres=None):
    """Members of every disc, as (centre, member) index pairs, batch by batch of neighbours.

    Centres (every vertex, or those given) are sorted by the cube of side
    ``limit`` they fall in, so that a batch of consecutive centres is compact
    and the union of their balls small.
    """
    centres = np.arange(len(coordinates)) if centres is None else np.asarray(centres)
    cells = np.floor((coordinates[centres] - coordinates.min(axis=0)) / limit).astype(np.int64)
    order = centres[np.lexsort(cells.T[::-1])]
    tree = cKDTree(coordinates)
    rows, columns = [], []
    for start in range(0, len(order), _BATCH_CENTRES):
        centres = order[start : start + _BATCH_CENTRES]
        balls = tree.query_ball_point(coordinates[centres], limit)
        local = np.unique(np.concatenate([np.asarray(ball, dtype=np.int64) for ball in balls]))
        within = graph[local][:, local]
        distances = dijkstra(
            within, directed=False, indices=np.searchsorted(local, centres), limit=limit
        )
        row, column = np.nonzero(np.isfinite(distances))
        rows.append(centres[row].astype(np.int32))  # int32 halves the memory of big meshes
        columns.append(local[column].astype(np.int32))
    return np.concatenate(rows), np.concatenate(columns)


def _check_mesh(coordinates, faces):
    coordinates = np.asarray(coordinates, dtype=float)
    faces = np.asarray(faces)
    if coordinates.ndim != 2 or coordinates.shape[1] != 3:
        raise ValueError(
            f"coordinates must have shape (n_vertices, 3), got shape {coordinates.shape}."
        )
    if not np.isfinite(coordinates).all():
        raise ValueError("coordinates hold NaN or infinite values.")
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(
            f"faces must be an integer array of shape (n_faces, 3), got {faces.dtype} of "
            f"shape {faces.shape}."
        )
    if faces.size and (faces.min() < 0 or faces.max() >= len(coordinates)):
        raise ValueError(
            f"faces refer to vertices {faces.min()} to {faces.max()}, but the mesh has "
            f"{len(coordinates)} vertices (0 to {len(coordinates) - 1})."
        )
    return coordinates, faces


def _check_keep(keep, n_vertices, name="keep"):
    if keep is None:
        return np.ones(n_vertices, dtype=bool)
    keep = np.asarray(keep)
    if keep.shape != (n_vertices,) or keep.dtype != bool:
        raise ValueError(
            f"{name} must be a bool array of shape ({n_vertices},), one value per vertex, got "
            f"{keep.dtype} of shape {keep.shape}."
        )
    if not keep.any():
        raise ValueError(f"{name} is False everywhere: no vertex to centre a disc on.")
    return keep
