import mne
import numpy as np
import pandas as pd
import pytest

from mlem_neuro.cli import main
from mlem_neuro.datasets import load_eeg_sample
from mlem_neuro.meeg import epochs_features, epochs_patterns, sensor_neighbourhoods, timecourse
from mlem_neuro.units import channel_time_units, time_windows

mne.set_log_level("ERROR")


@pytest.fixture(scope="module")
def sample_epochs():
    return load_eeg_sample().to_epochs()


@pytest.fixture(scope="module")
def planted_epochs(sample_epochs):
    """Real EEG noise with a random binary feature planted between 200 and 300 ms.

    The original conditions are shuffled across epochs so that the only feature-related
    geometry is the planted one.
    """
    rng = np.random.default_rng(0)
    data = sample_epochs.get_data()[rng.permutation(len(sample_epochs))]
    planted = rng.integers(0, 2, len(data))
    unrelated = rng.integers(0, 2, len(data))
    pattern = rng.standard_normal(data.shape[1])
    window = (sample_epochs.times >= 0.2) & (sample_epochs.times <= 0.3)
    amplitude = data[..., sample_epochs.times < 0].std()
    data[:, :, window] += amplitude * 1.5 * (planted[:, None, None] - 0.5) * pattern[None, :, None]
    metadata = pd.DataFrame({"planted": planted, "unrelated": unrelated})
    epochs = mne.EpochsArray(
        data, sample_epochs.info, tmin=sample_epochs.tmin, metadata=metadata, verbose="error"
    )
    return epochs


def montage_epochs(n_epochs=60, seed=0):
    names = ["Fz", "Cz", "Pz", "Oz", "C3", "C4", "F3", "F4", "P3", "P4", "O1", "O2"]
    info = mne.create_info(names, 100.0, "eeg")
    info.set_montage(mne.channels.make_standard_montage("standard_1020"))
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_epochs, len(names), 30)) * 1e-6
    return mne.EpochsArray(data, info, tmin=-0.1, verbose="error")


def test_time_windows_width_step_and_centres():
    times = np.arange(-0.1, 0.5, 0.01)
    samples, centres = time_windows(times)
    assert len(samples) == 60 and np.allclose(centres, times)
    samples, centres = time_windows(times, window=0.05, step=0.02)
    assert all(len(window) == 5 for window in samples)
    np.testing.assert_array_equal(samples[1], np.arange(2, 7))
    assert centres[0] == pytest.approx(-0.08)
    assert samples[-1][-1] <= 59


def test_time_window_errors_name_the_epoch():
    times = np.arange(-0.1, 0.5, 0.01)
    with pytest.raises(ValueError, match="window=1.0 s is wider than the epoch"):
        time_windows(times, window=1.0)
    with pytest.raises(ValueError, match="step can only be given together with window"):
        time_windows(times, step=0.02)
    with pytest.raises(ValueError, match="'window' must be a finite positive"):
        time_windows(times, window=-0.1)


def test_channel_time_units_are_channel_major():
    units = channel_time_units(10, [np.array([0, 2]), np.array([1])], [np.arange(2), [5]])
    assert len(units) == 4
    np.testing.assert_array_equal(units[0], [0, 1, 20, 21])
    np.testing.assert_array_equal(units[1], [5, 25])
    np.testing.assert_array_equal(units[3], [15])


def test_sensor_neighbourhoods_from_adjacency_and_radius():
    info = montage_epochs().info
    names = info["ch_names"]
    adjacency = sensor_neighbourhoods(info)
    cz = adjacency[names.index("Cz")]
    assert names.index("Cz") in cz and names.index("C3") in cz and names.index("O1") not in cz
    small = sensor_neighbourhoods(info, radius=0.001)
    assert all(len(unit) == 1 for unit in small)
    wide = sensor_neighbourhoods(info, radius=1.0)
    assert all(len(unit) == len(names) for unit in wide)
    bare = mne.create_info(["a", "b", "c"], 100.0, "eeg")
    with pytest.raises(ValueError, match="no sensor positions"):
        sensor_neighbourhoods(bare, radius=0.05)


def test_features_from_tags_metadata_and_tables(sample_epochs):
    tags = epochs_features(sample_epochs, tag_names=["modality", "side"])
    pd.testing.assert_frame_equal(tags, sample_epochs.metadata[["modality", "side"]])
    assert list(epochs_features(sample_epochs).columns) == ["tag1", "tag2"]
    from_metadata = epochs_features(sample_epochs, "modality")
    assert list(from_metadata.columns) == ["modality"]
    table = pd.DataFrame({"x": np.arange(len(sample_epochs)) % 3})
    assert epochs_features(sample_epochs, table).equals(table)


def test_feature_errors(sample_epochs):
    with pytest.raises(ValueError, match=r"Unknown metadata column\(s\) \['colour'\]"):
        epochs_features(sample_epochs, ["modality", "colour"])
    with pytest.raises(ValueError, match="features has 10 rows but there are 288 epochs"):
        epochs_features(sample_epochs, pd.DataFrame({"x": np.arange(10)}))
    with pytest.raises(ValueError, match=r"tag_names has 3 names .* 2 '/' tags"):
        epochs_features(sample_epochs, tag_names=["a", "b", "c"])
    bare = montage_epochs()
    with pytest.raises(ValueError, match="the epochs have no metadata"):
        epochs_features(bare, ["modality"])
    with pytest.raises(ValueError, match="have no '/' tags"):
        epochs_features(bare)
    single = pd.DataFrame({"x": np.zeros(60), "y": np.arange(60) % 2})
    with pytest.raises(ValueError, match=r"Feature\(s\) \['x'\] take a single value"):
        epochs_features(bare, single)


def test_patterns_do_not_depend_on_units_or_sensor_type_scale():
    rng = np.random.default_rng(1)
    info = mne.create_info(["m1", "m2", "g1", "g2"], 100.0, ["mag", "mag", "grad", "grad"])
    data = rng.standard_normal((20, 4, 15))
    data[:, :2] *= 1e-13  # tesla
    data[:, 2:] *= 1e-11  # tesla per metre
    epochs = mne.EpochsArray(data, info, tmin=-0.05, verbose="error")
    scaled, _ = epochs_patterns(epochs)
    for rows in (slice(0, 2), slice(2, 4)):
        assert scaled[:, rows, :6].std() == pytest.approx(1.0)
    microvolts = mne.EpochsArray(data * 1e6, info, tmin=-0.05, verbose="error")
    np.testing.assert_allclose(epochs_patterns(microvolts)[0], scaled, rtol=1e-9)
    whitened, _ = epochs_patterns(epochs, noise_normalization="noise-cov")
    assert np.isfinite(whitened).all() and 0.2 < whitened[..., :6].std() < 5


def test_multivariate_noise_normalization_whitens_the_residuals():
    rng = np.random.default_rng(2)
    mixing = rng.standard_normal((5, 5))
    data = np.einsum("ij,ejt->eit", mixing, rng.standard_normal((200, 5, 10)))
    epochs = mne.EpochsArray(data, mne.create_info(5, 100.0, "eeg"), verbose="error")
    conditions = np.repeat([0, 1], 100)
    whitened, _ = epochs_patterns(epochs, noise_normalization="mnn", conditions=conditions)

    def spread(patterns):
        eigenvalues = np.linalg.eigvalsh(np.cov(patterns.transpose(0, 2, 1).reshape(-1, 5).T))
        return eigenvalues.max() / eigenvalues.min()

    # Ledoit-Wolf shrinkage leaves a little anisotropy, far less than the mixing made.
    assert spread(data) > 50
    assert spread(whitened) < 3


def test_planted_effect_peaks_inside_its_window(planted_epochs):
    result = timecourse(planted_epochs, ["planted", "unrelated"], window=0.02, random_state=0)
    table = result.to_dataframe()
    assert list(table.columns) == [
        "time",
        "score",
        "importance_planted",
        "importance_unrelated",
    ]
    peak = table.loc[table["score"].idxmax(), "time"]
    assert 0.2 <= peak <= 0.3
    inside = table[(table["time"] > 0.21) & (table["time"] < 0.29)]
    outside = table[(table["time"] < 0.17) | (table["time"] > 0.33)]
    assert inside["importance_planted"].min() > 0.1
    assert outside["importance_planted"].abs().max() < 0.05
    assert table["importance_unrelated"].abs().max() < 0.05


def test_generalization_matrix_matches_scores_on_its_diagonal(planted_epochs):
    result = timecourse(
        planted_epochs,
        ["planted", "unrelated"],
        window=0.05,
        step=0.05,
        generalize=True,
        random_state=0,
    )
    matrix = result.generalization
    assert matrix.shape == (len(result.times), len(result.times))
    np.testing.assert_allclose(np.diag(matrix), result.results.scores, atol=1e-5)
    inside = np.flatnonzero((result.times > 0.2) & (result.times < 0.3))
    before = np.flatnonzero(result.times < 0)
    assert matrix[np.ix_(inside, inside)].min() > 0.1
    assert np.abs(matrix[:, before]).max() < 0.05
    with pytest.raises(ValueError, match="generalize=True needs a time-resolved analysis"):
        timecourse(planted_epochs, ["planted"], spatial=0.04, generalize=True)


def test_spatiotemporal_units_find_the_planted_sensors_and_give_evoked():
    epochs = montage_epochs(n_epochs=80)
    rng = np.random.default_rng(3)
    feature = rng.integers(0, 2, 80)
    names = epochs.info["ch_names"]
    occipital = [names.index(name) for name in ("Oz", "O1", "O2")]
    data = epochs.get_data()
    data[:, occipital, 15:] += 1.5e-6 * (feature[:, None, None] - 0.5)
    epochs = mne.EpochsArray(
        data,
        epochs.info,
        tmin=-0.1,
        metadata=pd.DataFrame({"f": feature, "g": rng.integers(0, 3, 80)}),
    )
    result = timecourse(
        epochs, ["f", "g"], spatial="adjacency", window=0.05, step=0.05, random_state=0
    )
    table = result.to_dataframe()
    assert len(table) == len(names) * len(result.times)
    late = table[table["time"] > 0.1].groupby("channel")["importance_f"].mean()
    assert set(late.nlargest(3).index) <= {"Oz", "O1", "O2", "Pz", "P3", "P4"}
    assert late["Fz"] < 0.05
    evoked = result.to_evoked()
    assert set(evoked) == {"score", "importance_f", "importance_g"}
    assert evoked["score"].data.shape == (len(names), len(result.times))
    np.testing.assert_allclose(evoked["score"].times, result.times, atol=1e-9)
    with pytest.raises(ValueError, match="to_evoked needs a spatio-temporal result"):
        timecourse(epochs, ["f"], window=0.1, step=0.1, n_repeats=0).to_evoked()


def test_timecourse_command(tmp_path, sample_epochs, capsys):
    path = tmp_path / "sample-epo.fif"
    sample_epochs.save(path)
    out = tmp_path / "out"
    argv = ["timecourse", str(path), "--metadata", "modality,side", "--window", "0.05"]
    argv += ["--step", "0.05", "--generalize", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    table = pd.read_csv(out / "timecourse.tsv", sep="\t")
    assert list(table.columns) == ["time", "score", "importance_modality", "importance_side"]
    assert np.load(out / "generalization.npy").shape == (len(table), len(table))
    assert (out / "summary.json").exists() and (out / "timecourse.png").exists()
    assert "Time course written" in capsys.readouterr().out
    fresh = str(tmp_path / "other")
    assert main(["timecourse", str(path), "--metadata", "colour", "--out", fresh]) == 2
    assert "Unknown metadata column(s) ['colour']" in capsys.readouterr().err
    assert main(["timecourse", str(tmp_path / "missing-epo.fif"), "--out", fresh]) == 2
    assert "epochs file not found" in capsys.readouterr().err
