"""First-level designs checked before their patterns are trusted; warnings said once, plainly."""

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from mlem_neuro.fmri import estimate_patterns

N_VOLUMES, T_R = 30, 1.5


def run_image(seed=0):
    data = np.random.default_rng(seed).standard_normal((4, 4, 3, N_VOLUMES)) + 100
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_zooms((3.0, 3.0, 3.0, T_R))
    return img


def events(rows):
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type"])


MASK = nib.Nifti1Image(np.ones((4, 4, 3), np.uint8), np.diag([3.0, 3.0, 3.0, 1.0]))


def planted_run(table, seed=0):
    """A run whose voxels respond to "face" events with a known spatial pattern."""
    from nilearn.glm.first_level import make_first_level_design_matrix

    rng = np.random.default_rng(seed)
    frame_times = np.arange(N_VOLUMES) * T_R
    faces = table[(table["trial_type"] == "face") & (table["onset"] < frame_times[-1])]
    design = make_first_level_design_matrix(frame_times, faces, drift_model=None)
    pattern = rng.standard_normal((4, 4, 3))
    data = 100 + pattern[..., None] * design["face"].to_numpy()
    data += 0.05 * rng.standard_normal(data.shape)
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_zooms((3.0, 3.0, 3.0, T_R))
    return img, pattern


def test_events_after_the_run_are_dropped_and_named():
    table = events(
        [(3, 1, "face"), (12, 1, "house"), (24, 1, "face"), (60, 1, "chair"), (100, 1, "chair")]
    )
    img, planted = planted_run(table)
    with pytest.warns(UserWarning) as record:
        patterns, stimuli = estimate_patterns(img, table, mask_img=MASK)
    messages = " | ".join(str(item.message) for item in record)
    assert "run 0: 2 event(s) start after the run's last volume (at 43.5 s" in messages
    assert "trial type(s) ['chair'] have no event left in this run" in messages
    assert stimuli["trial_type"].tolist() == ["face", "house"]
    # The clean part still gives the right answer: the face pattern is the planted one.
    face = patterns.get_fdata()[..., 0]
    assert np.corrcoef(face.ravel(), planted.ravel())[0, 1] > 0.95


def test_events_ending_late_and_collinear_conditions_are_named():
    table = events(
        [(3, 1, "word"), (3, 1, "picture"), (15, 1, "word"), (15, 1, "picture"), (25, 1, "tone")]
        + [(42, 5, "tone")]
    )
    with pytest.warns(UserWarning) as record:
        estimate_patterns(run_image(), table, mask_img=MASK)
    messages = " | ".join(str(item.message) for item in record)
    assert "run 0: 1 event(s) end after the run (at 45 s; up to 47 s)" in messages
    assert "'picture' and 'word' (r = 1.00)" in messages and "cannot be told apart" in messages
    assert "the design matrix is rank deficient" in messages


def test_a_run_without_any_event_inside_is_refused():
    table = events([(60, 1, "face"), (80, 1, "house")])
    with pytest.raises(ValueError, match=r"run 0: all 2 events start after the run's last volume"):
        estimate_patterns(run_image(), table, mask_img=MASK)


def test_lss_event_numbers_survive_dropped_events():
    table = events([(60, 1, "chair"), (3, 1, "face"), (20, 1, "house")])
    with pytest.warns(UserWarning, match="start after the run's last volume"):
        _, stimuli = estimate_patterns(run_image(), table, mask_img=MASK, method="lss")
    assert stimuli["event"].tolist() == [1, 2]


def test_small_test_folds_are_named():
    from mlem_neuro import fit_units

    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": np.tile([0, 1, 2], 4)})
    runs = np.repeat(np.arange(4), 3)  # 3 patterns per run: 3 pairs per test fold
    with pytest.warns(UserWarning, match=r"4 cv test fold\(s\) hold fewer than 10 pairs"):
        fit_units(features, rng.standard_normal((12, 5)), cv=4, groups=runs, n_repeats=0)


def test_third_party_warnings_are_one_counted_line(capsys):
    from mlem_neuro.cli.console import console
    from mlem_neuro.core import recorded_warnings

    source = "/venv/lib/python3.11/site-packages/nilearn/glm/_utils.py"
    with console("patterns", quiet=True):
        with recorded_warnings() as messages:
            for _ in range(3):
                warnings.warn_explicit(
                    "invalid value encountered in sqrt", RuntimeWarning, source, 1
                )
    assert messages == ["nilearn: invalid value encountered in sqrt (3 times)"]
    error = capsys.readouterr().err
    assert (
        error
        == "mlem-neuro patterns: warning: nilearn: invalid value encountered in sqrt (3 times)\n"
    )


def test_the_dashboard_listens_on_this_machine_only():
    import psutil

    from mlem_neuro.study import Engine

    with Engine(workers=1) as engine:
        link = engine.dashboard
        assert link.startswith("http://127.0.0.1:")
        port = int(link.split(":")[2].split("/")[0])
        listening = [
            connection.laddr
            for connection in psutil.Process().net_connections(kind="tcp")
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        ]
    assert listening and all(address.ip == "127.0.0.1" for address in listening)
