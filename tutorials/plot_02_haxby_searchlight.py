"""
Where does object-category geometry live? A searchlight on Haxby et al. (2001)
==============================================================================

Subject 1 of Haxby et al. (2001) viewed pictures of 8 categories (faces, cats, houses,
chairs, shoes, bottles, scissors and scrambled pictures) in 12 runs. We ask which
theoretical features of the categories shape the geometry of the BOLD patterns, and
where. The bundled copy has 25 mm voxels (129 brain voxels), so maps are coarse, but
every step is the one you would run at full resolution.
"""

# %%
import nibabel as nib
import numpy as np
from nilearn import plotting

from mlem_neuro.datasets import haxby_features, load_haxby
from mlem_neuro.fmri import estimate_patterns, roi_analysis, searchlight

haxby = load_haxby()

# %%
# 1. Patterns: one beta map per category and run, from nilearn's first-level GLM
# (least-squares-all: every category of a run is a regressor of one model).
patterns, stimuli = estimate_patterns(
    haxby.bold, haxby.events, haxby.t_r, mask_img=haxby.mask_brain
)
print(patterns.shape)
print(stimuli.head(8))

# %%
# 2. Features. These are our documented choices, not the only possible ones:
#
# - ``animate``: faces and cats;
# - ``face``: faces only (they have their own cortical patches);
# - ``manmade``: houses, chairs, shoes, bottles, scissors;
# - ``large``: houses and chairs (real-world size);
#
# scrambled pictures are False on all four (the low-level control). ``animate`` and
# ``manmade`` are correlated across pairs (only scrambled pictures are neither), and
# mlem_neuro warns about it: their importances share credit.
features = haxby_features(stimuli["trial_type"])
print(features.drop_duplicates().assign(category=stimuli["trial_type"]).set_index("category"))

# %%
# 3. The searchlight: a sphere of 30 mm (a voxel and its 6 neighbours at this
# resolution) around every brain voxel, all spheres fitted at once, scored
# across runs (4 folds of 3 runs) so that no pair of patterns mixes training and test runs.
runs = stimuli["run"].to_numpy()
result = searchlight(
    patterns, features, haxby.mask_brain, radius=30.0, cv=4, groups=runs, random_state=0
)
print("best held-out score:", round(float(np.nanmax(result.results.scores)), 3))
plotting.plot_stat_map(result.score_img, bg_img=None, display_mode="z", cut_coords=5, title="score")

# %%
# Importance maps, one per feature.
for feature in ["face", "animate"]:
    plotting.plot_stat_map(
        result.importance_imgs[feature], bg_img=None, display_mode="z", cut_coords=5, title=feature
    )

# %%
# 4. Ventral temporal cortex. The VT mask holds a single voxel at 25 mm, so we take it
# with its in-brain neighbours.
from scipy.ndimage import binary_dilation

brain = nib.load(haxby.mask_brain)
vt = binary_dilation(nib.load(haxby.mask_vt).get_fdata() > 0) & (brain.get_fdata() > 0)
table = roi_analysis(
    patterns,
    features,
    nib.Nifti1Image(vt.astype(np.uint8), brain.affine),
    cv=4,
    groups=runs,
    random_state=0,
).to_dataframe()
print(table.round(3).T)

# %%
# What we find, honestly: at 25 mm the effect is modest. The best spheres, in the
# posterior and inferior part of the volume, reach a held-out Spearman correlation of
# about 0.16, and the ventral temporal ROI about 0.08, with most of its importance on
# real-world size (houses and chairs against the rest); faces do not stand out at this
# resolution, where a 25 mm voxel averages the face-selective patches with their
# surroundings. Every number here is cross-validated across runs; whether it is
# significant is a question for permutation statistics. Run the same code on
# full-resolution data to ask *where* more precisely.
