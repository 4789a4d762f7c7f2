import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import compute_regressor
from test_surface_inputs import write_gifti

from mlem_neuro.fmri import estimate_patterns
from mlem_neuro.surface import load_surface_patterns

N_VERTICES, T_R, N_SCANS = 10242, 2.0, 90


def simulated_runs(folder, n_runs=2, sidecar=True, seed=0):
    """GIFTI runs on fsaverage5 whose vertices respond to three trial types with planted betas."""
    rng = np.random.default_rng(seed)
    betas = {h: rng.standard_normal((3, N_VERTICES)) for h in ("left", "right")}
    frame_times = np.arange(N_SCANS) * T_R
    files, events = [], []
    for run in range(n_runs):
        onsets = np.arange(6, 170, 14.0)
        table = pd.DataFrame(
            {
                "onset": onsets,
                "duration": 1.0,
                "trial_type": np.resize(["a", "b", "c"], len(onsets)),
            }
        )
        regressors = np.column_stack(
            [
                compute_regressor(
                    np.vstack([group["onset"], group["duration"], np.ones(len(group))]),
                    "glover",
                    frame_times,
                )[0][:, 0]
                for _, group in table.groupby("trial_type")
            ]
        )
        for hemisphere, tag in (("left", "hemi-L"), ("right", "hemi-R")):
            signal = 100 + regressors @ betas[hemisphere] * 5
            data = signal + 0.5 * rng.standard_normal(signal.shape)
            name = f"sub-01_task-x_run-{run + 1}_{tag}_space-fsaverage5_bold"
            files.append(write_gifti(folder / f"{name}.func.gii", data))
            if sidecar:
                (folder / f"{name}.json").write_text(json.dumps({"RepetitionTime": T_R}))
        events.append(folder / f"events_{run}.tsv")
        table.to_csv(events[-1], sep="\t", index=False)
    return files, events, betas


def test_surface_runs_give_one_pattern_per_trial_type_and_run(tmp_path):
    files, events, betas = simulated_runs(tmp_path)
    patterns, stimuli = estimate_patterns(files[::-1], events)  # any order of the files
    assert list(stimuli["trial_type"]) == ["a", "b", "c"] * 2
    assert list(stimuli["run"]) == [0, 0, 0, 1, 1, 1]
    left = np.asarray(patterns.data.parts["left"])
    assert left.shape == (N_VERTICES, 6)
    for index in range(3):
        for run in range(2):
            estimate = left[:, 3 * run + index]
            assert np.corrcoef(estimate, betas["left"][index])[0, 1] > 0.9


def test_patterns_command_writes_gifti_patterns_that_analyses_read(tmp_path):
    from mlem_neuro.cli import main

    files, events, _ = simulated_runs(tmp_path)
    out = tmp_path / "patterns"
    command = ["patterns", *map(str, files), "--events", *map(str, events)]
    assert main([*command, "--out", str(out), "--quiet"]) == 0
    surface = load_surface_patterns(
        [out / "patterns_hemi-L.func.gii", out / "patterns_hemi-R.func.gii"]
    )
    assert surface.left.shape == (6, N_VERTICES) and np.isfinite(surface.left).all()
    assert len(pd.read_csv(out / "stimuli.tsv", sep="\t")) == 6
    assert main([*command, "--mask", str(files[0]), "--out", str(tmp_path / "x")]) == 2


def test_surface_runs_without_repetition_time_or_partner_are_refused(tmp_path):
    files, events, _ = simulated_runs(tmp_path, n_runs=1, sidecar=False)
    with pytest.raises(ValueError, match="no JSON sidecar with a RepetitionTime; pass t_r"):
        estimate_patterns(files, events)
    with pytest.raises(ValueError, match="GIFTI files come in pairs named with hemi-L and hemi-R"):
        estimate_patterns(files[:1], events, t_r=T_R)
    patterns, _ = estimate_patterns(files, events, t_r=T_R)
    assert patterns.shape == (2 * N_VERTICES, 3)
    other = nib.load(files[0])
    assert len(other.darrays) == N_SCANS
