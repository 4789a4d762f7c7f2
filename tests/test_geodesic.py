import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from mlem_neuro import fit_units
from mlem_neuro.units.geodesic import geodesic_discs, mesh_edges


def grid_mesh(n=7, spacing=1.0):
    """A flat n x n grid of vertices, each square split along one diagonal."""
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    coordinates = np.column_stack([x.ravel(), y.ravel(), np.zeros(n * n)]) * spacing
    index = np.arange(n * n).reshape(n, n)
    a, b = index[:-1, :-1].ravel(), index[1:, :-1].ravel()
    c, d = index[:-1, 1:].ravel(), index[1:, 1:].ravel()
    faces = np.concatenate([np.column_stack([a, b, d]), np.column_stack([a, d, c])])
    return coordinates, faces, index


@pytest.fixture(scope="module")
def midthickness():
    """nilearn's bundled fsaverage5, left hemisphere: the mean of white and pial surfaces."""
    from nilearn.datasets import load_fsaverage

    mesh = load_fsaverage("fsaverage5")
    pial, white = mesh["pial"].parts["left"], mesh["white_matter"].parts["left"]
    return (pial.coordinates + white.coordinates) / 2, np.asarray(pial.faces)


def opposite_banks(coordinates, faces, near=4.0, far=25.0):
    """A vertex and another within ``near`` mm in space but over ``far`` mm along the mesh."""
    edges, lengths = mesh_edges(coordinates, faces)
    graph = scipy.sparse.csr_array((lengths, edges.T), shape=(len(coordinates),) * 2)
    neighbours = cKDTree(coordinates).query_ball_point(coordinates, near)
    for vertex in range(0, len(coordinates), 7):
        along = dijkstra(graph, directed=False, indices=vertex, limit=far)
        across = [other for other in neighbours[vertex] if not np.isfinite(along[other])]
        if across:
            return vertex, across[0]
    raise AssertionError("no two banks of a sulcus found")


def test_discs_on_a_flat_grid_are_the_vertices_within_the_radius_along_edges():
    coordinates, faces, index = grid_mesh()
    centre = index[3, 3]
    discs = geodesic_discs(coordinates, faces, 1.0)
    members = set(discs[[centre]].indices.tolist())
    assert members == {centre, index[2, 3], index[4, 3], index[3, 2], index[3, 4]}
    discs = geodesic_discs(coordinates, faces, 1.5)  # adds the two diagonal edges (1.41 mm)
    members = set(discs[[centre]].indices.tolist())
    assert members == {
        centre,
        index[2, 3],
        index[4, 3],
        index[3, 2],
        index[3, 4],
        index[4, 4],
        index[2, 2],
    }
    # Paths along edges are never shorter than straight lines: discs lie within balls.
    rows, columns = discs.nonzero()
    assert (np.linalg.norm(coordinates[rows] - coordinates[columns], axis=1) <= 1.5).all()


def test_discs_never_cross_left_out_vertices_and_index_the_kept_ones():
    coordinates, faces, index = grid_mesh()
    keep = np.ones(len(coordinates), dtype=bool)
    keep[index[:, 3]] = False  # a column of vertices without signal splits the sheet
    discs = geodesic_discs(coordinates, faces, 5.0, keep=keep)
    kept = np.flatnonzero(keep)
    assert discs.shape == (len(kept), len(kept))
    left_side = np.isin(kept, index[:, :3].ravel())
    rows, columns = discs.nonzero()
    assert (left_side[rows] == left_side[columns]).all()
    assert discs[[np.flatnonzero(kept == index[3, 2])[0]]].nnz > 10


def test_discs_follow_the_cortex_not_the_space_across_a_sulcus(midthickness):
    coordinates, faces = midthickness
    vertex, other_bank = opposite_banks(coordinates, faces)
    discs = geodesic_discs(coordinates, faces, 10.0)
    assert other_bank not in discs[[vertex]].indices
    assert other_bank in cKDTree(coordinates).query_ball_point(coordinates[vertex], 10.0)
    sizes = discs.sum(axis=1)
    assert 15 <= np.median(sizes) <= 60  # 10 mm discs of a 3 mm mesh


def test_an_effect_planted_on_one_bank_is_found_there_and_not_on_the_opposite_bank(
    midthickness,
):
    coordinates, faces = midthickness
    vertex, other_bank = opposite_banks(coordinates, faces)
    planted = geodesic_discs(coordinates, faces, 8.0)[[vertex]].indices
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"animate": rng.integers(0, 2, 60).astype(bool)})
    Y = rng.standard_normal((60, len(coordinates)))
    Y[:, planted] += 1.5 * np.outer(features["animate"], rng.standard_normal(len(planted)))
    centres = [vertex, other_bank]
    discs = geodesic_discs(coordinates, faces, 6.0)[centres]
    tree = cKDTree(coordinates)
    balls = [np.asarray(tree.query_ball_point(coordinates[c], 6.0)) for c in centres]
    by_disc = fit_units(features, Y, [discs[[k]].indices for k in range(2)], random_state=0, cv=3)
    by_ball = fit_units(features, Y, balls, random_state=0, cv=3)
    assert by_disc.scores[0] > 0.3 and by_disc.scores[1] < 0.1
    assert by_ball.scores[1] > by_disc.scores[1] + 0.1  # a 3-D ball smears across the sulcus


def test_bad_meshes_and_radii_get_one_line_errors():
    coordinates, faces, _ = grid_mesh()
    with pytest.raises(ValueError, match=r"radius=0.5 mm is below the mesh's median edge length"):
        geodesic_discs(coordinates, faces, 0.5)
    with pytest.raises(ValueError, match=r"faces refer to vertices 0 to 49, but the mesh has 49"):
        geodesic_discs(coordinates, np.where(faces == 48, 49, faces), 2.0)
    with pytest.raises(ValueError, match=r"coordinates must have shape \(n_vertices, 3\)"):
        geodesic_discs(coordinates[:, :2], faces, 2.0)
    with pytest.raises(ValueError, match=r"keep must be a bool array of shape \(49,\)"):
        geodesic_discs(coordinates, faces, 2.0, keep=np.ones(48, dtype=bool))
    with pytest.raises(ValueError, match="'radius' must be a finite positive number, got -1.0"):
        geodesic_discs(coordinates, faces, -1.0)


def test_source_discs_take_paths_over_the_whole_mesh_and_members_among_sources():
    """ico-4 sources are the first 2,562 vertices of fsaverage5: discs follow the full mesh."""
    from mlem_neuro.surface import load_midthickness

    coordinates, faces = load_midthickness("fsaverage5")["left"]
    sources = np.zeros(len(coordinates), bool)
    sources[:2562] = True
    discs = geodesic_discs(coordinates, faces, 12.0, sources=sources)
    full = geodesic_discs(coordinates, faces, 12.0)
    assert discs.shape == (2562, 2562)
    assert (discs != full[:2562][:, :2562]).nnz == 0
    sizes = np.diff(discs.indptr)
    assert np.median(sizes) > 3 and np.median(sizes) < np.median(np.diff(full.indptr))
    with pytest.raises(ValueError, match=r"below the source spacing \(\d\.\d+ mm at the median"):
        geodesic_discs(coordinates, faces, 3.0, sources=sources)
