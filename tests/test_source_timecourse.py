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
    result = source_timecourse(
        stcs, features, labels=labels, window=0.05, step=0.05, cv=3, random_state=0
    )
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
        stcs, features, radius=6.0, window=0.1, step=0.1, cv=None, n_repeats=1, random_state=0
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

    class Sized:  # claims more estimates than it yields, as a truncated source would
        def __len__(self):
            return 5

        def __iter__(self):
            return iter(stcs[:3])

    with pytest.raises(ValueError, match="stcs has length 5 but gave 3 estimates"):
        source_timecourse(Sized(), features[:5])
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


@pytest.fixture(scope="module")
def simulated_eeg(tmp_path_factory):
    """EEG epochs whose left temporal sources encode 'animate' at 200-300 ms, and an inverse."""
    from mlem_neuro.datasets.sources import fsaverage5_subjects_dir, make_source_epochs

    folder = tmp_path_factory.mktemp("eeg_sources")
    epochs, inverse, planted = make_source_epochs(fsaverage5_subjects_dir(folder / "subjects"))
    epochs.save(folder / "sim-epo.fif", verbose="error")
    mne.minimum_norm.write_inverse_operator(folder / "sim-inv.fif", inverse, verbose="error")
    return folder, planted


def test_timecourse_command_computes_source_estimates_through_an_inverse(simulated_eeg):
    from mlem_neuro.cli import main

    folder, planted = simulated_eeg
    out = folder / "out"
    command = ["timecourse", str(folder / "sim-epo.fif"), "--metadata", "animate"]
    command += ["--inverse", str(folder / "sim-inv.fif"), "--source-radius", "10"]
    command += ["--window", "0.1", "--step", "0.1", "--cv", "3", "--n-repeats", "1", "--seed", "0"]
    assert main([*command, "--out", str(out), "--quiet"]) == 0
    score = mne.read_source_estimate(out / "score")
    window = np.argmin(np.abs(score.times - 0.25))
    rows = np.isin(score.vertices[0], planted)
    assert score.data[: len(rows)][rows, window].mean() > 0.5
    assert np.median(score.data[:, window]) < 0.2 and score.data[:, score.times < 0].max() < 0.3
    summary = __import__("json").loads((out / "summary.json").read_text())
    assert summary["inverse_method"] == "dSPM" and summary["n_sources"] == sum(
        len(part) for part in score.vertices
    )
    assert main([*command[:3], "--source-radius", "10", "--out", str(folder / "x")]) == 2


def test_source_command_errors_name_the_option(simulated_eeg, capsys):
    from mlem_neuro.cli import main

    folder, _ = simulated_eeg
    base = [
        "timecourse",
        str(folder / "sim-epo.fif"),
        "--metadata",
        "animate",
        "--out",
        str(folder / "y"),
    ]
    assert main([*base, "--labels", "a.annot,b.annot"]) == 2
    assert "--labels: only in source space, with --inverse" in capsys.readouterr().err
    assert main([*base, "--inverse", str(folder / "sim-inv.fif"), "--adjacency"]) == 2
    assert "--adjacency: for sensor analyses; with --inverse use" in capsys.readouterr().err
    assert main([*base, "--inverse", str(folder / "none-inv.fif")]) == 2
    assert "no file" in capsys.readouterr().err


def test_bids_studies_run_in_source_space_with_each_subjects_inverse(
    simulated_eeg, tmp_path, capsys
):
    import json
    import shutil

    from mlem_neuro.cli import main

    folder, planted = simulated_eeg
    root = tmp_path / "bids"
    (root / "sub-01").mkdir(parents=True)
    (root / "sub-02").mkdir()
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "s", "BIDSVersion": "1.9.0"})
    )
    derivatives = tmp_path / "pipeline"
    for label in ("01", "02"):
        eeg = derivatives / f"sub-{label}" / "eeg"
        eeg.mkdir(parents=True)
        shutil.copy(folder / "sim-epo.fif", eeg / f"sub-{label}_task-sim_epo.fif")
        if label == "01":
            shutil.copy(folder / "sim-inv.fif", eeg / f"sub-{label}_task-sim_inv.fif")
    command = ["bids", str(root), str(tmp_path / "out"), "participant", "--task", "sim"]
    command += [
        "--analysis",
        "timecourse",
        "--features",
        "animate",
        "--derivatives",
        str(derivatives),
    ]
    command += ["--source-radius", "10", "--window", "0.1", "--step", "0.1", "--cv", "3"]
    command += ["--n-repeats", "1", "--no-report", "--quiet", "--workers", "1", "--seed", "0"]
    assert main(command) == 2
    assert "sub-02: no inverse operator (*task-sim*inv.fif)" in capsys.readouterr().err
    assert main([*command, "--participant-label", "01"]) == 0
    result = tmp_path / "out" / "sub-01" / "task-sim_timecourse"
    summary = json.loads((result / "summary.json").read_text())
    assert (
        summary["kind"] == "source_timecourse" and summary["study_settings"]["source_radius"] == 10
    )
    score = mne.read_source_estimate(result / "score")
    window = np.argmin(np.abs(score.times - 0.25))
    assert (
        score.data[: len(score.vertices[0])][np.isin(score.vertices[0], planted), window].mean()
        > 0.5
    )


def test_volume_estimates_get_balls_and_volume_stc_files(tmp_path):
    src = mne.setup_volume_source_space(pos=10.0, sphere=(0.0, 0.0, 0.04, 0.07), verbose="error")
    vertices = [src[0]["vertno"]]
    positions = src[0]["rr"][vertices[0]] * 1000
    centre = np.argmin(np.linalg.norm(positions - [0, 0, 40], axis=1))
    ball = np.flatnonzero(np.linalg.norm(positions - positions[centre], axis=1) <= 10.5)
    far = np.argmax(np.linalg.norm(positions - positions[centre], axis=1))
    rng = np.random.default_rng(1)
    features = pd.DataFrame({"animate": rng.integers(0, 2, 40).astype(bool)})
    direction = rng.standard_normal(len(ball))
    stcs = []
    for animate in features["animate"]:
        data = rng.standard_normal((len(positions), 20))
        data[ball, 10:15] += 1.5 * direction[:, None] * (1 if animate else -1)
        stcs.append(mne.VolSourceEstimate(data, vertices, -0.05, 0.01))
    with pytest.raises(ValueError, match="Volume source estimates need src"):
        source_timecourse(stcs, features, radius=10.5)
    result = source_timecourse(
        stcs,
        features,
        src=src,
        radius=10.5,
        window=0.05,
        step=0.05,
        cv=3,
        n_repeats=1,
        random_state=0,
    )
    score = result.to_stc()
    assert isinstance(score, mne.VolSourceEstimate)
    assert score.data[centre].argmax() == np.argmin(np.abs(score.times - 0.07))
    assert score.data[centre].max() > 0.3 and score.data[far].max() < 0.15
    folder = result.save(tmp_path / "volume")
    assert (folder / "score-vl.stc").exists() and not (folder / "source_peak.png").exists()
