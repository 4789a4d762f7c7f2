import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlem_neuro.datasets import haxby_features, load_haxby
from mlem_neuro.fmri import estimate_patterns, roi_analysis, searchlight
from mlem_neuro.units import label_units, searchlight_spheres

AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])
SHAPE = (7, 8, 9)
CENTRE = np.array([3, 4, 4])


@pytest.fixture(scope="module")
def planted_volume():
    """Feature 'a' is encoded only within 6 mm of CENTRE; 'b' nowhere."""
    rng = np.random.default_rng(0)
    n_stimuli = 40
    features = pd.DataFrame(
        {
            "a": rng.integers(0, 2, n_stimuli).astype(bool),
            "b": rng.integers(0, 2, n_stimuli).astype(bool),
        }
    )
    data = rng.standard_normal(SHAPE + (n_stimuli,))
    voxels = np.argwhere(np.ones(SHAPE, dtype=bool))
    distance = np.linalg.norm((voxels - CENTRE) * 3.0, axis=1).reshape(SHAPE)
    planted = distance <= 6.0
    code = rng.standard_normal(planted.sum())
    data[planted] += 1.5 * np.outer(code, features["a"].to_numpy(float))
    mask = np.ones(SHAPE, dtype=np.uint8)
    mask[0, 0, :] = 0  # an irregular mask
    return (
        nib.Nifti1Image(data.astype(np.float32), AFFINE),
        features,
        nib.Nifti1Image(mask, AFFINE),
        distance,
    )


def test_spheres_hold_the_mask_voxels_within_the_radius():
    mask = np.zeros((5, 6, 7), dtype=bool)
    mask[1:4, 1:5, 1:6] = True
    membership = searchlight_spheres(mask, np.diag([2.0, 2.0, 2.0, 1.0]), radius=2.0)
    assert membership.shape == (mask.sum(), mask.sum())
    sizes = np.asarray(membership.sum(axis=1)).ravel()
    voxels = np.argwhere(mask)
    interior = np.all((voxels > [1, 1, 1]) & (voxels < [3, 4, 5]), axis=1)
    assert set(sizes[interior]) == {7}  # centre + 6 face neighbours at 2 mm
    assert sizes.min() >= 4  # corners keep their in-mask neighbours only
    with pytest.raises(ValueError, match="radius=1.0 mm is smaller than the smallest voxel size"):
        searchlight_spheres(mask, np.diag([2.0, 2.0, 2.0, 1.0]), radius=1.0)
    with pytest.raises(ValueError, match="The mask is empty"):
        searchlight_spheres(np.zeros((3, 3, 3)), np.eye(4), radius=2.0)


def test_label_units():
    names, units = label_units(np.array([0, 2, 2, 5, 0, 5]))
    np.testing.assert_array_equal(names, [2, 5])
    np.testing.assert_array_equal(units[1], [3, 5])
    with pytest.raises(ValueError, match="no label other than the background"):
        label_units(np.zeros(4))


def test_searchlight_finds_the_planted_sphere(planted_volume):
    patterns, features, mask, distance = planted_volume
    result = searchlight(patterns, features, mask, radius=6.0, random_state=0, n_repeats=3)
    inside_mask = np.asarray(mask.dataobj).astype(bool)
    importance = np.asarray(result.importance_imgs["a"].dataobj)
    assert result.score_img.shape == SHAPE
    np.testing.assert_allclose(result.score_img.affine, AFFINE)
    assert np.isnan(importance[~inside_mask]).all()
    assert not np.isnan(importance[inside_mask]).any()
    # Spheres centred in the planted region against those that cannot reach it (centre
    # beyond 6 + 6 mm); spheres that overlap it partly are left out.
    near = distance[inside_mask] <= 6.0
    far = distance[inside_mask] > 12.0
    values = importance[inside_mask]
    keep = near | far
    assert roc_auc_score(near[keep], values[keep]) > 0.95
    assert np.nanmax(np.asarray(result.importance_imgs["b"].dataobj)) < values[near].max() / 3
    assert set(result.weight_imgs) == {"a", "b"}


def test_searchlight_saves_maps_with_interactions(planted_volume, tmp_path):
    patterns, features, mask, _ = planted_volume
    result = searchlight(
        patterns,
        features,
        mask,
        radius=4.0,
        interactions=True,
        random_state=0,
        n_repeats=1,
        max_steps=20,
    )
    result.save(tmp_path, {"note": "test"})
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "importance_a.nii.gz",
        "importance_a_x_b.nii.gz",
        "importance_b.nii.gz",
        "mask.nii.gz",
        "score.nii.gz",
        "searchlight.png",
        "summary.json",
        "units.npz",
        "weight_a.nii.gz",
        "weight_a_x_b.nii.gz",
        "weight_b.nii.gz",
    ]
    assert nib.load(tmp_path / "score.nii.gz").shape == SHAPE


def test_roi_analysis_separates_planted_and_empty_regions(planted_volume):
    patterns, features, mask, distance = planted_volume
    atlas = np.where(distance <= 6.0, 1, 2).astype(np.int16)
    atlas[0, :, :] = 0
    table = roi_analysis(
        patterns, features, nib.Nifti1Image(atlas, AFFINE), mask, random_state=0, cv=4
    ).to_dataframe()
    assert list(table["label"]) == [1, 2]
    assert table.loc[0, "score"] > 0.5
    assert abs(table.loc[1, "score"]) < 0.15  # 2 folds of 190 test pairs: SD about 0.05
    assert table.loc[0, "importance_a"] > 10 * abs(table.loc[0, "importance_b"])
    assert {"n_voxels", "weight_a", "weight_b"} <= set(table.columns)


def test_fmri_bad_input(planted_volume):
    patterns, features, mask, _ = planted_volume
    with pytest.raises(ValueError, match="patterns must be a 4D image .* got a 3D image"):
        searchlight(mask, features, mask, radius=6.0)
    with pytest.raises(ValueError, match="features has 39 rows but the patterns have 40 volumes"):
        searchlight(patterns, features.iloc[:39], mask, radius=6.0)
    shifted = nib.Nifti1Image(
        np.asarray(mask.dataobj), AFFINE + np.diag([0, 0, 0, 0]) + np.eye(4) * 0
    )
    shifted.affine[0, 3] = 10.0
    moved = nib.Nifti1Image(np.asarray(mask.dataobj), shifted.affine)
    with pytest.raises(ValueError, match="mask is not in the space of patterns"):
        searchlight(patterns, features, moved, radius=6.0)
    with pytest.raises(ValueError, match="mask is not in the space of patterns"):
        searchlight(
            patterns, features, nib.Nifti1Image(np.ones((7, 8, 8), np.uint8), AFFINE), radius=6.0
        )
    with pytest.raises(ValueError, match="mask is empty"):
        searchlight(
            patterns, features, nib.Nifti1Image(np.zeros(SHAPE, np.uint8), AFFINE), radius=6.0
        )
    with pytest.raises(ValueError, match="smaller than the smallest voxel size"):
        searchlight(patterns, features, mask, radius=2.0)
    with pytest.raises(ValueError, match="list of patterns must hold 3D images"):
        searchlight([patterns, patterns], features, mask, radius=6.0)


@pytest.fixture(scope="module")
def haxby_patterns():
    haxby = load_haxby()
    return estimate_patterns(haxby.bold, haxby.events, haxby.t_r, mask_img=haxby.mask_brain)


def test_estimate_patterns_on_haxby(haxby_patterns):
    patterns, stimuli = haxby_patterns
    assert patterns.shape == (6, 10, 10, 96)
    assert list(stimuli.columns) == ["trial_type", "run"]
    assert stimuli.groupby("run").size().eq(8).all()
    assert set(stimuli["trial_type"]) == {
        "house",
        "scrambledpix",
        "cat",
        "shoe",
        "bottle",
        "scissors",
        "chair",
        "face",
    }
    features = haxby_features(stimuli["trial_type"])
    assert features.loc[stimuli["trial_type"].eq("face").to_numpy(), "face"].all()


def test_least_squares_separate_gives_one_pattern_per_event():
    haxby = load_haxby()
    patterns, stimuli = estimate_patterns(
        haxby.bold[0], haxby.events[0], haxby.t_r, method="lss", mask_img=haxby.mask_brain
    )
    events = pd.read_csv(haxby.events[0], sep="\t")
    assert patterns.shape[3] == len(events) == len(stimuli)
    np.testing.assert_allclose(stimuli["onset"], events["onset"])


def test_estimate_patterns_bad_input():
    haxby = load_haxby()
    with pytest.raises(ValueError, match=r"one table per run: got 1 table\(s\) for 2 run\(s\)"):
        estimate_patterns(haxby.bold[:2], haxby.events[:1], 2.5)
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['trial_type'\]"):
        estimate_patterns(haxby.bold[0], pd.DataFrame({"onset": [0.0], "duration": [1.0]}), 2.5)
    with pytest.raises(ValueError, match=r"bold_imgs\[0\] must be a 4D BOLD run"):
        estimate_patterns(haxby.mask_brain, haxby.events[0], 2.5)
