"""Adapters right for common inputs: mixed sensors, bad channels, frames, LSS, ROIs, TR."""

import mne
import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from mlem_neuro.meeg import epochs_patterns, sensor_adjacency, sensor_neighbourhoods

mne.set_log_level("ERROR")


def mixed_epochs(seed=0, n_epochs=80):
    """20 magnetometers (tesla) carrying a condition effect, 20 EEG channels (volts) of noise."""
    rng = np.random.default_rng(seed)
    names = [f"MAG{i:02d}" for i in range(20)] + [f"EEG{i:02d}" for i in range(20)]
    info = mne.create_info(names, 100.0, ["mag"] * 20 + ["eeg"] * 20)
    data = rng.standard_normal((n_epochs, 40, 30))
    conditions = np.repeat([0, 1], n_epochs // 2)
    data[:, :20, 10:] += 0.8 * (conditions[:, None, None] - 0.5) * rng.standard_normal((20, 1))
    data[:, :20] *= 1e-13
    data[:, 20:] *= 1e-6
    return mne.EpochsArray(data, info, tmin=-0.1), conditions


def test_mnn_does_not_depend_on_units_on_mixed_sensor_types():
    epochs, conditions = mixed_epochs()
    whitened, _ = epochs_patterns(epochs, noise_normalization="mnn", conditions=conditions)
    meg, eeg = whitened[:, :20, 10:].std(), whitened[:, 20:, 10:].std()
    assert 0.3 < meg / eeg < 3
    rescaled = epochs.copy()
    rescaled._data[:, :20] *= 1e7  # the same magnetometers in other units
    again, _ = epochs_patterns(rescaled, noise_normalization="mnn", conditions=conditions)
    np.testing.assert_allclose(again, whitened, rtol=1e-6, atol=1e-9)


def test_mnn_refuses_conditions_of_one_epoch():
    epochs, _ = mixed_epochs(n_epochs=12)
    with pytest.raises(ValueError, match="each of the 12 conditions has a single epoch"):
        epochs_patterns(epochs, noise_normalization="mnn", conditions=np.arange(12))


def neuromag_epochs(bads=()):
    """Epochs on MNE's canonical Neuromag 306-channel sensors (no file needed)."""
    info = mne.channels.read_meg_canonical_info("neuromag")
    info["bads"] = list(bads)
    data = np.random.default_rng(0).standard_normal((4, info["nchan"], 5))
    return mne.EpochsArray(data, info).pick("data", exclude="bads")


def test_adjacency_neighbourhoods_follow_the_channels_present():
    full = neuromag_epochs().info
    reduced = neuromag_epochs(bads=["MEG 2443", "MEG 0113"]).info
    neighbourhoods = sensor_neighbourhoods(reduced)
    assert len(neighbourhoods) == reduced["nchan"] == 304
    assert all(unit.max() < 304 for unit in neighbourhoods)
    # Away from the bad channels, neighbourhoods are the full montage's, by name.
    names, full_names = reduced["ch_names"], full["ch_names"]
    whole = sensor_neighbourhoods(full)
    centre = names.index("MEG 1711")
    assert {names[i] for i in neighbourhoods[centre]} == {
        full_names[i] for i in whole[full_names.index("MEG 1711")]
    }
    assert sensor_adjacency(reduced).shape == (304, 304)


def test_radius_neighbourhoods_put_every_sensor_in_the_head_frame():
    info = mne.create_info(["MAG", "Cz"], 100.0, ["mag", "eeg"])
    with info._unlock():
        info["chs"][0]["loc"][:3] = [0.0, 0.0, 0.0]  # device frame
        info["chs"][1]["loc"][:3] = [0.0, 0.021, 0.04]  # head frame
        shift = np.eye(4)
        shift[:3, 3] = [0.0, 0.0, 0.04]  # the device origin sits 4 cm up in the head
        info["dev_head_t"] = mne.transforms.Transform("meg", "head", shift)
    neighbourhoods = sensor_neighbourhoods(info, radius=0.03)
    assert [list(unit) for unit in neighbourhoods] == [[0, 1], [0, 1]]
    with info._unlock():
        info["dev_head_t"] = None
    with pytest.raises(ValueError, match=r"info\['dev_head_t'\] is None"):
        sensor_neighbourhoods(info, radius=0.03)


def test_lss_features_are_joined_by_event_position_not_onset():
    from types import SimpleNamespace

    from mlem_neuro.study.participant import stimulus_features

    events = [
        pd.DataFrame(
            {
                "onset": [10.0, 10.0, 20.0],
                "duration": [1.0, 1.0, 1.0],
                "trial_type": ["word", "picture", "word"],
                "animate": [1, 0, 0],
            }
        )
    ]
    stimuli = pd.DataFrame(
        {"trial_type": ["word", "picture", "word"], "onset": [10.0, 10.0, 20.0], "run": 0}
    )
    stimuli["event"] = [0, 1, 2]
    config = SimpleNamespace(features=("animate",), stimuli_table=None)
    table = stimulus_features(stimuli, events, config)
    assert table["animate"].tolist() == [1, 0, 0]


def half_empty_patterns():
    """Two regions of 72 voxels; the GLM left half of region 2 without data (NaN or zeros)."""
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": np.tile([0, 1], 12), "b": np.repeat([0, 1, 2], 8)})
    data = rng.standard_normal((6, 6, 4, 24))
    data[:, :, :2] += 2.0 * rng.standard_normal((6, 6, 2, 1)) * features["a"].to_numpy()
    data[:3, :, 2:] = np.nan
    data[3:, :3, 2:] = 0.0
    atlas = np.zeros((6, 6, 4), np.int16)
    atlas[:, :, :2], atlas[:, :, 2:] = 1, 2
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    return nib.Nifti1Image(data, affine), features, nib.Nifti1Image(atlas, affine)


def test_roi_leaves_out_voxels_without_data_and_says_how_many():
    from mlem_neuro.fmri import roi_analysis

    patterns, features, atlas = half_empty_patterns()
    with pytest.warns(UserWarning, match=r"54 voxel\(s\) of the regions have no data .*2: 54"):
        result = roi_analysis(patterns, features, atlas, random_state=0, n_repeats=0)
    table = result.to_dataframe()
    assert table["n_voxels"].tolist() == [72, 18]
    assert table["n_voxels_without_data"].tolist() == [0, 54]
    assert np.isfinite(table["score"]).all()


def test_a_time_zoom_in_unknown_units_is_not_a_repetition_time():
    from mlem_neuro.fmri.patterns import repetition_time

    run = nib.Nifti1Image(np.zeros((2, 2, 2, 5), np.float32), np.eye(4))
    run.header.set_zooms((1, 1, 1, 1.0))
    assert run.header.get_xyzt_units()[1] == "unknown"
    with pytest.raises(ValueError, match=r"no repetition time in known units .*--t-r"):
        repetition_time([run])
    assert repetition_time([run], 2.0) == 2.0
    run.header.set_xyzt_units("mm", "msec")
    run.header.set_zooms((1, 1, 1, 1500.0))
    assert repetition_time([run]) == 1.5


def test_timecourse_reports_the_windows_actually_used():
    from mlem_neuro.meeg import timecourse

    epochs, conditions = mixed_epochs(n_epochs=40)
    epochs.metadata = pd.DataFrame({"condition": conditions, "half": np.tile([0, 1], 20)})
    result = timecourse(epochs, ["condition", "half"], window=0.033, step=0.05, n_repeats=0)
    assert result.parameters["window_s"] == 0.033
    assert result.parameters["window_used_s"] == pytest.approx(0.03)
    assert result.parameters["step_used_s"] == pytest.approx(0.05)
