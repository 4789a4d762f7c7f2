"""Designs that cannot be scored are named, never silently scored as 0."""

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import LeaveOneGroupOut

from mlem_neuro import fit_units
from mlem_neuro.datasets import load_haxby
from mlem_neuro.fmri import estimate_patterns, roi_analysis, searchlight
from mlem_neuro.fmri.patterns import repetition_time


@pytest.fixture(scope="module")
def one_exemplar_per_category_and_run():
    """8 categories x 6 runs, one pattern each, with a planted category geometry."""
    rng = np.random.default_rng(0)
    categories = np.tile(np.arange(8), 6)
    runs = np.repeat(np.arange(6), 8)
    centres = rng.standard_normal((8, 20))
    Y = centres[categories] + 0.5 * rng.standard_normal((48, 20))
    features = pd.DataFrame({"trial_type": [f"c{c}" for c in categories]})
    return features, Y, runs


def test_leave_one_run_out_with_one_exemplar_per_category_warns_and_is_nan(
    one_exemplar_per_category_and_run,
):
    features, Y, runs = one_exemplar_per_category_and_run
    with pytest.warns(UserWarning) as caught:
        results = fit_units(features, Y, cv=LeaveOneGroupOut(), groups=runs, random_state=0)
    messages = [str(item.message) for item in caught]
    assert any(
        message.startswith("cv fold 0: term(s) ['trial_type'] take a single value over its 28")
        and "score is NaN" in message
        and "Use fewer, larger folds" in message
        for message in messages
    )
    assert sum(message.startswith("cv fold") for message in messages) == 6
    assert np.isnan(results.fold_scores).all()
    assert np.isnan(results.scores).all()
    assert results.importances.isna().all().all()


def test_automatic_folds_avoid_degenerate_test_folds(one_exemplar_per_category_and_run):
    features, Y, runs = one_exemplar_per_category_and_run
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = fit_units(features, Y, cv="auto", groups=runs, random_state=0)
    assert results.fold_scores.shape == (3, 1)  # 3 folds of 2 runs: 6 runs, no fold of one
    assert results.scores[0] > 0.3  # every same-category pair ranked first: near the maximum


def test_a_fold_where_one_term_is_flat_gives_nan_importance_for_it():
    rng = np.random.default_rng(1)
    a = np.tile([0, 1], 20)
    b = np.r_[rng.integers(0, 2, 30), np.zeros(10)]  # constant in the last 10 stimuli
    features = pd.DataFrame({"a": a.astype(bool), "b": b.astype(bool)})
    Y = np.c_[a, b] * 2.0 + 0.3 * rng.standard_normal((40, 2))
    folds = [(np.arange(30), np.arange(30, 40)), (np.arange(10, 40), np.arange(10))]
    with pytest.warns(UserWarning, match=r"cv fold 0: term\(s\) \['b'\] take a single value"):
        results = fit_units(features, Y, cv=folds, random_state=0, n_repeats=2)
    assert np.isfinite(results.fold_scores).all()
    assert np.isfinite(results.importances.loc[0, "a"])
    # b only counts where it can be shuffled: the mean over the folds that define it.
    assert np.isfinite(results.importances.loc[0, "b"])


def test_constant_units_warn_and_score_nan(planted_units):
    features, Y, units = planted_units
    Y = Y.copy()
    Y[:, units[3]] = 1.0
    with pytest.warns(UserWarning, match=r"1 unit\(s\) have the same neural distance .* unit 3"):
        results = fit_units(features, Y, units[:5], cv=3, random_state=0)
    assert np.isnan(results.scores[3]) and np.isfinite(np.delete(results.scores, 3)).all()


def test_warnings_point_at_the_callers_line():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 60).astype(bool)
    features = pd.DataFrame({"a": a, "b": a ^ (rng.uniform(size=60) < 0.1)})
    with pytest.warns(UserWarning, match="correlated across pairs") as caught:
        fit_units(features, rng.standard_normal((60, 3)), random_state=0, max_steps=3)
    assert caught[0].filename == __file__


def test_radius_covering_the_mask_and_tiny_regions_warn():
    rng = np.random.default_rng(2)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    features = pd.DataFrame({"a": rng.integers(0, 2, 30).astype(bool), "b": rng.uniform(size=30)})
    patterns = nib.Nifti1Image(rng.standard_normal((4, 5, 6, 30)).astype(np.float32), affine)
    with pytest.warns(UserWarning, match=r"radius=500 mm: every sphere holds the whole mask"):
        result = searchlight(patterns, features, radius=500, random_state=0, max_steps=2)
    assert np.nanstd(result.score_img.get_fdata()) < 1e-6
    atlas = np.ones((4, 5, 6), dtype=np.int16)
    atlas[0, 0, 0] = 2
    with pytest.warns(UserWarning, match=r"1 region\(s\) have fewer voxels than features .2.: 2"):
        roi_analysis(patterns, features, nib.Nifti1Image(atlas, affine), random_state=0)


def test_repetition_time_comes_from_the_headers_and_mismatches_warn():
    haxby = load_haxby()
    runs = [nib.load(path) for path in haxby.bold[:2]]
    assert repetition_time(runs) == 2.5
    with pytest.warns(
        UserWarning,
        match=r"t_r=2.0 s, but the headers say otherwise \(run 0: 2.5 s, run 1: 2.5 s\)",
    ):
        assert repetition_time(runs, 2.0) == 2.0
    bare = nib.Nifti1Image(np.zeros((2, 2, 2, 5), np.float32), np.eye(4))
    bare.header.set_zooms((1, 1, 1, 0))
    with pytest.raises(ValueError, match=r"header of run\(s\) \[0\] carries no repetition time"):
        repetition_time([bare])


def test_patterns_without_a_mask_use_one_mask_for_every_run():
    haxby = load_haxby()
    # The third run alone has no voxel that passes nilearn's EPI-mask heuristic.
    patterns, stimuli = estimate_patterns(haxby.bold[:4], haxby.events[:4])
    assert len(stimuli) == 32
    data = patterns.get_fdata()
    modelled = np.any(data != 0, axis=3)
    assert modelled.sum() > 50
    assert all(
        np.array_equal(modelled, np.any(data[..., stimuli["run"] == run] != 0, axis=3))
        for run in range(4)
    )
