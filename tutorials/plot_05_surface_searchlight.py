"""
Along the cortex, not across a sulcus: a surface searchlight on fsaverage5
==========================================================================

A 3-D sphere on a folded cortex reaches across a sulcus into the opposite bank, a few
millimetres away in space but centimetres away along the sheet, and smears effects onto
cortex that does not carry them. A surface searchlight measures its discs along the
cortex instead, on the midthickness (the mean of the white and pial surfaces).

We simulate patterns on nilearn's bundled fsaverage5 mesh (nothing is downloaded): noise
everywhere, and one feature planted in a disc on one bank of a sulcus. The searchlight
finds it there, and not on the opposite bank 4 mm away, where a 3-D ball of the same
radius would pick it up. Last, a group of subjects' maps is tested over the mesh.
"""

# %%
import numpy as np
import pandas as pd
import scipy.sparse
from nilearn.datasets import load_fsaverage
from nilearn.surface import SurfaceImage
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from mlem_neuro.surface import load_midthickness, plot_surface_map, searchlight
from mlem_neuro.units import geodesic_discs, mesh_edges

meshes = load_midthickness("fsaverage5")
coordinates, faces = meshes["left"]
print(f"{len(coordinates)} vertices per hemisphere")

# %%
# 1. Two banks of a sulcus: a vertex, and another less than 4 mm away in space but more
# than 25 mm away along the cortex.
edges, lengths = mesh_edges(coordinates, faces)
graph = scipy.sparse.csr_array((lengths, edges.T), shape=(len(coordinates),) * 2)
neighbours = cKDTree(coordinates).query_ball_point(coordinates, 4.0)
for vertex in range(0, len(coordinates), 7):
    along = dijkstra(graph, directed=False, indices=vertex, limit=25.0)
    across = [other for other in neighbours[vertex] if not np.isfinite(along[other])]
    if across:
        other_bank = across[0]
        break
gap = np.linalg.norm(coordinates[vertex] - coordinates[other_bank])
print(f"vertex {vertex} and vertex {other_bank}: {gap:.1f} mm apart in space")

# %%
# 2. Patterns: 60 stimuli with one binary feature, Gaussian noise on every vertex of both
# hemispheres, and the feature's geometry planted in a 10 mm disc around the first vertex.
rng = np.random.default_rng(0)
features = pd.DataFrame({"animate": rng.integers(0, 2, 60).astype(bool)})
data = {hemisphere: rng.standard_normal((len(coordinates), 60)) for hemisphere in meshes}
planted = geodesic_discs(coordinates, faces, 10.0)[[vertex]].indices
data["left"][planted] += 1.5 * np.outer(rng.standard_normal(len(planted)), features["animate"])
patterns = SurfaceImage(mesh=load_fsaverage("fsaverage5")["pial"], data=data)

# %%
# 3. The searchlight: a 6 mm disc around every vertex of both hemispheres (20,484
# discs), 3-fold cross-validated scores and importances. With fMRIPrep outputs, give
# the two GIFTI files of a run instead: ``[..._hemi-L_..._bold.func.gii,
# ..._hemi-R_..._bold.func.gii]``.
result = searchlight(patterns, features, radius=6.0, cv=3, random_state=0)
print(result.parameters["disc_vertices"])
scores = np.asarray(result.score_img.data.parts["left"])
print(f"score at the planted bank {scores[vertex]:.2f}, opposite bank {scores[other_bank]:.2f}")

# %%
# A 3-D ball of the same radius around the opposite bank's vertex holds vertices of the
# planted bank; the disc holds none.
ball = cKDTree(coordinates).query_ball_point(coordinates[other_bank], 6.0)
disc = geodesic_discs(coordinates, faces, 6.0)[[other_bank]].indices
print(
    f"planted vertices in the ball: {np.isin(ball, planted).sum()} of {len(ball)}; "
    f"in the disc: {np.isin(disc, planted).sum()} of {len(disc)}"
)

# %%
# 4. The maps go to one GIFTI file per hemisphere (``score_hemi-L.func.gii``...), with a
# figure of the score on the inflated cortex: ``result.save("surface_searchlight/")``.
# Here we draw that figure directly.
plot_surface_map(result.score_img, "fsaverage5", title="held-out score")

# %%
# 5. From subjects to a group. Each subject's surface searchlight gives one map on
# fsaverage5; ``mlem_neuro.stats.group_surface_test`` tests them across subjects, with
# family-wise error over vertices (max-t) and over clusters formed along each
# hemisphere's mesh. Here eight stand-in subjects share this subject's scores in the
# planted disc, with independent noise everywhere (a real study,
# ``mlem-neuro bids ... --space fsaverage5``, makes their maps and its group stage runs
# this test).
from mlem_neuro.stats import group_surface_test
from mlem_neuro.surface import surface_image

effect = {"left": np.zeros(len(coordinates)), "right": np.zeros(len(coordinates))}
effect["left"][planted] = scores[planted]
subjects = [
    surface_image(
        meshes,
        {h: effect[h] + 0.1 * rng.standard_normal(len(coordinates)) for h in meshes},
    )
    for _ in range(8)
]
group = group_surface_test(subjects, "fsaverage5", n_permutations=255, random_state=0)
print(group.clusters.head(3))
plot_surface_map(
    group.logp_imgs["cluster_mass"],
    "fsaverage5",
    title="-log10 p (cluster mass), p < 0.05",
    cmap="YlOrRd",
    threshold=-np.log10(0.05),
)
