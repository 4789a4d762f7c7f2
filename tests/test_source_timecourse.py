"""MLEM in M/EEG source space: planted effects found where and when they were planted."""

import mne
import numpy as np
import pandas as pd
import pytest
from test_geodesic import opposite_banks

from mlem_neuro.meeg import source_timecourse
from mlem_neuro.surface import load_midthickness
from mlem_neuro.units import geodesic_discs

SFREQ, TMIN, N_TIMES = 100.0, -0.1, 51  # -0.1 to 0.4 s
PLANTED_WINDOW = (0.2, 0.3)


@pytest.fixture(scope="module")
def planted():
    """fsaverage estimates on a region around two banks of a sulcus; one bank encodes 'animate'.

    Sources are fsaverage5 vertices (MNE's fsaverage ico-5 numbering) within 20 mm along
    the cortex of either bank, and a patch of the right hemisphere.
    """
    meshes = load_midthickness("fsaverage5")
    coordinates, faces = meshes["left"]
    vertex, other_bank = opposite_banks(coordinates, faces)
    wide = geodesic_discs(coordinates, faces, 20.0)
    left = np.union1d(wide[[vertex]].indices, wide[[other_bank]].indices)
    right = np.sort(geodesic_discs(*meshes["right"], 15.0)[[vertex]].indices)
    disc = geodesic_discs(coordinates, faces, 8.0)[[vertex]].indices
    rng = np.random.default_rng(0)
    n_epochs = 60
    features = pd.DataFrame({"animate": rng.integers(0, 2, n_epochs).astype(bool)})
    times = TMIN + np.arange(N_TIMES) / SFREQ
    active = (times >= PLANTED_WINDOW[0]) & (times <= PLANTED_WINDOW[1])
    direction = rng.standard_normal(len(disc))
    rows = np.searchsorted(left, disc)
    stcs = []
    for animate in features["animate"]:
        data = rng.standard_normal((len(left) + len(right), N_TIMES))
        data[np.ix_(rows, active)] += 1.5 * direction[:, None] * (1 if animate else -1)
        stcs.append(mne.SourceEstimate(data, [left, right], TMIN, 1 / SFREQ, "fsaverage"))
    return stcs, features, vertex, other_bank, disc


def test_a_searchlight_finds_the_planted_bank_in_the_planted_window(planted):
    stcs, features, vertex, other_bank, _ = planted
    result = source_timecourse(
        iter(stcs), features, radius=6.0, window=0.05, step=0.05, cv=3, random_state=0
    )
    score = result.to_stc("score")
    assert score.subject == "fsaverage" and np.array_equal(score.vertices[0], stcs[0].vertices[0])
    at = {v: row for row, v in enumerate(score.vertices[0])}
    planted_window = (score.times > PLANTED_WINDOW[0]) & (score.times < PLANTED_WINDOW[1])
    assert score.data[at[vertex], planted_window].max() > 0.3
    assert score.data[at[other_bank], planted_window].max() < 0.1  # 4 mm away in space
    assert score.data[:, score.times < 0].max() < 0.15  # nothing before the stimulus
    assert score.data[len(at) :].max() < 0.15  # nor in the right hemisphere
    peak = result.peak()
    assert PLANTED_WINDOW[0] <= peak["time_s"] <= PLANTED_WINDOW[1]
    table = result.to_dataframe()
    assert list(table.columns[:3]) == ["vertex", "hemisphere", "time"]
    assert len(table) == score.data.size
    assert result.parameters["place_sources"]["median"] >= 5


def test_labels_peak_in_the_planted_window(planted):
    stcs, features, _, other_bank, disc = planted
    labels = [
        mne.Label(disc, hemi="lh", name="planted-lh"),
        mne.Label(
            geodesic_discs(*load_midthickness("fsaverage5")["left"], 8.0)[[other_bank]].indices,
            hemi="lh",
            name="other-lh",
        ),
        mne.Label(stcs[0].vertices[1], hemi="rh", name="patch-rh"),
    ]
    result = source_timecourse(stcs, features, labels=labels, window=0.05, step=0.05, cv=3)
    table = result.to_dataframe()
    assert list(table.columns[:3]) == ["label", "time", "score"]
    best = table.loc[table.groupby("label")["score"].idxmax()].set_index("label")
    assert PLANTED_WINDOW[0] <= best.loc["planted-lh", "time"] <= PLANTED_WINDOW[1]
    assert best.loc["planted-lh", "score"] > 0.3
    assert best.loc[["other-lh", "patch-rh"], "score"].max() < 0.15
    painted = result.to_stc("importance_animate")
    inside = np.isin(painted.vertices[0], disc)
    assert np.allclose(painted.data[: len(inside)][inside], painted.data[np.argmax(inside)])


def test_result_folders_hold_mne_estimates_figures_and_a_report(planted, tmp_path):
    from mlem_neuro.report import write_report

    stcs, features, vertex, _, _ = planted
    result = source_timecourse(
        stcs, features, radius=6.0, window=0.1, step=0.1, cv=None, n_repeats=1
    )
    folder = result.save(tmp_path / "sources")
    read = mne.read_source_estimate(folder / "score")
    np.testing.assert_allclose(read.data, result.to_stc().data, rtol=1e-5, atol=1e-6)
    assert (folder / "importance_animate-rh.stc").exists()
    assert (folder / "source_peak.png").stat().st_size > 20_000
    assert (folder / "source_timecourse.png").stat().st_size > 10_000
    html = write_report(folder).read_text()
    assert "Score at the peak time on the cortex" in html and "Best places" in html


def test_bad_estimates_get_one_line_errors(planted):
    stcs, features, *_ = planted
    shifted = stcs[1].copy()
    shifted.tmin += 0.01
    with pytest.raises(ValueError, match=r"stcs\[1\] has 51 times from -0.09 s, stcs\[0\] has 51"):
        source_timecourse([stcs[0], shifted], features[:2])
    fewer = mne.SourceEstimate(
        stcs[1].data[1:],
        [stcs[1].vertices[0][1:], stcs[1].vertices[1]],
        TMIN,
        1 / SFREQ,
        "fsaverage",
    )
    with pytest.raises(ValueError, match=r"stcs\[1\] has other source vertices than stcs\[0\]"):
        source_timecourse([stcs[0], fewer], features[:2])
    with pytest.raises(ValueError, match="features has 60 rows but the patterns have 3 epochs"):
        source_timecourse(stcs[:3], features)
    other = [stc.copy() for stc in stcs[:4]]
    for stc in other:
        stc.subject = "sub-01"
    with pytest.raises(ValueError, match="of subject 'sub-01', not 'fsaverage': without src"):
        source_timecourse(other, features[:4], radius=6.0)
    ico4 = [np.arange(2562), np.arange(2562)]  # MNE's fsaverage ico-4 source space
    coarse = [mne.SourceEstimate(np.ones((5124, 3)), ico4, 0, 0.01, "fsaverage")] * 4
    with pytest.raises(ValueError, match=r"radius=4.0 mm is below the source spacing \("):
        source_timecourse(coarse, features[:4], radius=4.0)
