import json

import numpy as np
import pandas as pd
import pytest

from mlem_neuro.cli import main
from mlem_neuro.datasets import load_eeg_sample


def test_bundled_eeg_has_the_known_n100():
    eeg = load_eeg_sample()
    assert eeg.data.shape == (288, 10, 91)
    assert eeg.metadata["modality"].value_counts().to_dict() == {"audio": 145, "visual": 143}
    audio = eeg.data[(eeg.metadata["modality"] == "audio").to_numpy()].mean(axis=0)
    at_100_ms = np.argmin(np.abs(eeg.times - 0.1))
    assert audio[eeg.ch_names.index("EEG 003"), at_100_ms] * 1e6 == pytest.approx(-6.7, abs=0.5)


def test_demo_command_writes_the_time_course_and_the_maps(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    fmri = tmp_path / "fmri"
    assert (fmri / "score.nii.gz").exists() and (fmri / "searchlight.png").exists()
    roi = pd.read_csv(fmri / "roi.tsv", sep="\t")
    # Category features shape ventral temporal geometry across runs (about 0.08 here),
    # and the best spheres more.
    assert roi.loc[0, "score"] > 0.03
    assert json.loads((fmri / "summary.json").read_text())["max_score"] > 0.1
    tmp_path = tmp_path / "eeg"
    table = pd.read_csv(tmp_path / "timecourse.tsv", sep="\t")
    assert list(table.columns) == ["time", "score", "importance_modality", "importance_side"]
    assert len(table) == 89  # 3-sample windows centred on every inner sample
    summary = json.loads((tmp_path / "summary.json").read_text())
    # Modality is weakly encoded after the stimulus (see the data README), not before it.
    after = table[(table["time"] > 0.05) & (table["time"] < 0.35)]
    before = table[table["time"] < 0]
    assert after["importance_modality"].mean() > 0.01
    assert after["importance_modality"].mean() > before["importance_modality"].mean() + 0.02
    assert 0.05 < summary["peak"]["time_s"] < 0.35
    generalization = np.load(tmp_path / "generalization.npy")
    assert generalization.shape == (89, 89)
    np.testing.assert_allclose(np.diag(generalization), table["score"], atol=1e-5)
    assert (tmp_path / "timecourse.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "EEG: peak held-out score" in printed and "fMRI: best searchlight score" in printed
    assert "Language model: best layer" in printed
    layers = pd.read_csv(tmp_path.parent / "llm" / "layers.tsv", sep="\t")
    assert list(layers["layer"]) == list(range(7))
    # Number of the head noun is encoded in every layer; the random control feature is not.
    assert (layers["importance_n1_number"] > 0.005).all()
    assert (layers["importance_random"].abs() < 0.005).all()


def test_cli_reports_errors_cleanly(capsys):
    assert main(["demo", "--out", "/tmp/never", "--device", "cuda:7", "--quiet"]) == 2
    assert "mlem-neuro demo: error: device='cuda:7'" in capsys.readouterr().err
