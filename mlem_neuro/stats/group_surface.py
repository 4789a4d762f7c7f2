"""Group tests of surface maps: sign flips over vertices, clusters and TFCE along the mesh.

Vertex-wise family-wise error by the maximum t over vertices (our sign-flip
test, one-sided unless asked otherwise); clusters and threshold-free cluster
enhancement by MNE's ``permutation_cluster_1samp_test`` over the mesh
adjacency of each hemisphere, so that a cluster never jumps a sulcus or the
midline.
"""

import dataclasses

import numpy as np
import pandas as pd
import scipy.sparse
from scipy import stats

from ..core import check_positive_int
from ..surface import HEMISPHERES, load_midthickness, surface_image
from ..units import mesh_edges
from .sign_flip import sign_flip_max_t, sign_flips_run

__all__ = ["GroupSurfaceResult", "group_surface_test"]

#: TFCE integrates the t map in this many steps between 0 and its largest value.
TFCE_STEPS = 50


@dataclasses.dataclass
class GroupSurfaceResult:
    """Second-level surface maps of a one-sample sign-flip permutation test.

    Attributes
    ----------
    t_img : nilearn.surface.SurfaceImage
        One-sample t statistic per vertex (NaN where not tested).
    logp_imgs : dict of str to SurfaceImage
        -log10 family-wise corrected p-values: ``"vertex"`` (max-t),
        ``"cluster_mass"`` (each vertex gets its cluster's p; 0 outside
        clusters) and, when asked, ``"tfce"``.
    clusters : DataFrame
        One row per cluster: hemisphere, n_vertices, peak_vertex, peak_t,
        mass (sum of t), pvalue_fwer; by decreasing mass.
    n_permutations : int
    exact : bool
        Whether every sign flip was evaluated.
    """

    t_img: object
    logp_imgs: dict
    clusters: pd.DataFrame
    n_permutations: int
    exact: bool


def group_surface_test(
    imgs,
    mesh="fsaverage5",
    *,
    n_permutations=5000,
    cluster_threshold=0.001,
    tfce=False,
    two_sided=False,
    random_state=None,
):
    """One-sample permutation test of subjects' surface maps, corrected over vertices.

    Parameters
    ----------
    imgs : list of nilearn.surface.SurfaceImage
        One map per subject (one value per vertex), all on ``mesh``.
    mesh : str or dict
        The common mesh (an fsaverage name), for the adjacency of vertices.
    n_permutations : int
        Random sign flips; all ``2**n_subjects`` of them when that is fewer.
    cluster_threshold : float
        Uncorrected p-value that forms clusters.
    tfce : bool
        Also threshold-free cluster enhancement (slower).
    two_sided : bool
    random_state : int or None

    Returns
    -------
    GroupSurfaceResult
        Vertices tested are those finite and non-zero in every map.
    """
    n_permutations = check_positive_int("n_permutations", n_permutations)
    if len(imgs) < 2:
        raise ValueError(f"imgs needs at least 2 subjects' maps, got {len(imgs)}.")
    meshes = load_midthickness(mesh)
    values, tested = _stacked_values(imgs, meshes)
    exact, n_flips = sign_flips_run(len(imgs), n_permutations)
    vertex = sign_flip_max_t(values, n_flips, two_sided=two_sided, exact=exact, rng=random_state)
    adjacency = _tested_adjacency(meshes, tested)
    cluster_options = dict(
        adjacency=adjacency,
        tail=0 if two_sided else 1,
        n_permutations=2 ** len(imgs) if exact else n_flips + 1,
        rng=random_state,
        out_type="indices",
        verbose="error",
    )
    degrees = len(imgs) - 1
    threshold = stats.t.isf(cluster_threshold / (2 if two_sided else 1), degrees)
    clusters, cluster_logp = _clusters(values, threshold, tested, meshes, cluster_options)
    maps = {"vertex": _logp(vertex.pvalues_fwer), "cluster_mass": cluster_logp}
    if tfce:
        maps["tfce"] = _tfce_logp(values, vertex.t, cluster_options)

    def image(tested_values, fill=np.nan):
        data, start = {}, 0
        for hemisphere in HEMISPHERES:
            data[hemisphere] = np.full(len(tested[hemisphere]), fill, dtype=np.float32)
            stop = start + int(tested[hemisphere].sum())
            data[hemisphere][tested[hemisphere]] = tested_values[start:stop]
            start = stop
        return surface_image(meshes, data)

    return GroupSurfaceResult(
        t_img=image(vertex.t),
        logp_imgs={name: image(logp, 0.0) for name, logp in maps.items()},
        clusters=clusters,
        n_permutations=n_permutations,
        exact=exact,
    )


def _stacked_values(imgs, meshes):
    """Subjects' values at the vertices finite and non-zero in every map: (n_subjects, n_tested)."""
    parts, tested = {}, {}
    for hemisphere in HEMISPHERES:
        n_vertices = len(meshes[hemisphere][0])
        stacked = []
        for index, img in enumerate(imgs):
            data = np.asarray(img.data.parts[hemisphere], dtype=float).ravel()
            if data.shape != (n_vertices,):
                raise ValueError(
                    f"Map {index} has {data.size} values on the {hemisphere} hemisphere, but "
                    f"the mesh has {n_vertices} vertices; every map must be on the same mesh."
                )
            stacked.append(data)
        parts[hemisphere] = np.stack(stacked)
        tested[hemisphere] = (np.isfinite(parts[hemisphere]) & (parts[hemisphere] != 0)).all(0)
    if not any(mask.any() for mask in tested.values()):
        raise ValueError("No vertex is finite and non-zero in every map.")
    values = np.hstack([parts[h][:, tested[h]] for h in HEMISPHERES])
    return values, tested


def _tested_adjacency(meshes, tested):
    """Edges of each hemisphere's mesh between tested vertices, hemispheres kept apart."""
    blocks = []
    for hemisphere in HEMISPHERES:
        coordinates, faces = meshes[hemisphere]
        edges, _ = mesh_edges(coordinates, faces)
        n = len(coordinates)
        ones = np.ones(len(edges))
        full = scipy.sparse.coo_matrix((ones, (edges[:, 0], edges[:, 1])), shape=(n, n))
        kept = np.flatnonzero(tested[hemisphere])
        blocks.append((full + full.T).tocsr()[kept][:, kept])
    return scipy.sparse.block_diag(blocks, format="coo")


def _clusters(values, threshold, tested, meshes, options):
    """Cluster-mass test: the cluster table and each tested vertex's -log10 cluster p."""
    from mne.stats import permutation_cluster_1samp_test

    t, clusters, pvalues, _ = permutation_cluster_1samp_test(values, threshold, **options)
    hemisphere_of = np.repeat(np.array(HEMISPHERES), [int(tested[h].sum()) for h in HEMISPHERES])
    vertex_of = np.concatenate([np.flatnonzero(tested[h]) for h in HEMISPHERES])
    logp = np.zeros(values.shape[1])
    rows = []
    for (members,), pvalue in zip(clusters, pvalues):
        logp[members] = -np.log10(pvalue)
        peak = members[np.argmax(np.abs(t[members]))]
        rows.append(
            {
                "hemisphere": hemisphere_of[peak],
                "n_vertices": len(members),
                "peak_vertex": int(vertex_of[peak]),
                "peak_t": float(t[peak]),
                "mass": float(t[members].sum()),
                "pvalue_fwer": float(pvalue),
            }
        )
    columns = ["hemisphere", "n_vertices", "peak_vertex", "peak_t", "mass", "pvalue_fwer"]
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values("mass", key=np.abs, ascending=False, ignore_index=True)
    return table, logp


def _tfce_logp(values, t, options):
    """-log10 of each vertex's TFCE p-value, family-wise over vertices."""
    from mne.stats import permutation_cluster_1samp_test

    step = max(float(np.nanmax(np.abs(t))), 1e-6) / TFCE_STEPS
    _, _, pvalues, _ = permutation_cluster_1samp_test(values, dict(start=0, step=step), **options)
    return -np.log10(pvalues)


def _logp(pvalues):
    return -np.log10(np.asarray(pvalues, dtype=float))
