import json

import nibabel as nib
import numpy as np
import pandas as pd

from mlem_neuro.cli import main
from mlem_neuro.datasets import haxby_features, load_haxby


def test_patterns_searchlight_and_roi_commands(tmp_path):
    haxby = load_haxby()
    bold = [str(path) for path in haxby.bold[:4]]
    events = [str(path) for path in haxby.events[:4]]
    out = tmp_path / "patterns"
    assert (
        main(
            [
                "patterns",
                *bold,
                "--events",
                *events,
                "--t-r",
                "2.5",
                "--mask",
                str(haxby.mask_brain),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    stimuli = pd.read_csv(out / "stimuli.tsv", sep="\t")
    assert len(stimuli) == 32
    features = haxby_features(stimuli["trial_type"]).assign(run=stimuli["run"])
    features.to_csv(tmp_path / "features.csv", index=False)

    maps = tmp_path / "maps"
    code = main(
        [
            "searchlight",
            str(out / "patterns.nii.gz"),
            "--features",
            str(tmp_path / "features.csv"),
            "--mask",
            str(haxby.mask_brain),
            "--radius",
            "30",
            "--out",
            str(maps),
            "--cv-groups",
            "run",
            "--n-repeats",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    for name in [
        "score",
        "importance_animate",
        "importance_face",
        "importance_manmade",
        "importance_large",
    ]:
        assert nib.load(maps / f"{name}.nii.gz").shape == (6, 10, 10)
    summary = json.loads((maps / "summary.json").read_text())
    assert summary["features"] == ["animate", "face", "manmade", "large"]
    assert summary["fit_info"]["n_pairs"] == 32 * 31 // 2
    assert "seconds" in summary and "versions" in summary

    regions = tmp_path / "roi"
    assert (
        main(
            [
                "roi",
                str(out / "patterns.nii.gz"),
                "--features",
                str(tmp_path / "features.csv"),
                "--atlas",
                str(haxby.mask_brain),
                "--out",
                str(regions),
                "--cv-groups",
                "run",
                "--quiet",
            ]
        )
        == 0
    )
    table = pd.read_csv(regions / "roi.tsv", sep="\t")
    assert len(table) == 1 and table.loc[0, "n_voxels"] == np.count_nonzero(
        nib.load(haxby.mask_brain).get_fdata()
    )


def test_searchlight_command_errors(tmp_path, capsys):
    haxby = load_haxby()

    def run(features):
        argv = ["searchlight", str(haxby.bold[0]), "--features", str(features)]
        return main(argv + ["--radius", "30", "--out", str(tmp_path / "o"), "--quiet"])

    pd.DataFrame({"a": [True, False]}).to_csv(tmp_path / "features.csv", index=False)
    assert run(tmp_path / "features.csv") == 2
    assert "features has 2 rows but the patterns have 121 volumes" in capsys.readouterr().err
    assert run(tmp_path / "missing.csv") == 2
    assert "features file not found" in capsys.readouterr().err
