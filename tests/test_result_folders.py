"""Result folders are written whole, refuse to clobber, fail early, and resume after Ctrl-C."""

import json
import sys
import time

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

import mlem_neuro.core.fit as fit_module
from mlem_neuro.cli import main
from mlem_neuro.datasets import haxby_features, load_haxby
from mlem_neuro.fmri import estimate_patterns
from mlem_neuro.outputs import OutputFolderError, ResultFolder, read_result


@pytest.fixture(scope="module")
def haxby_inputs(tmp_path_factory):
    """Patterns of 4 Haxby runs and a per-volume feature table, as files."""
    folder = tmp_path_factory.mktemp("inputs")
    haxby = load_haxby()
    patterns, stimuli = estimate_patterns(
        haxby.bold[:4], haxby.events[:4], mask_img=haxby.mask_brain
    )
    patterns.to_filename(folder / "patterns.nii.gz")
    features = haxby_features(stimuli["trial_type"]).assign(run=stimuli["run"])
    features.to_csv(folder / "features.csv", index=False)
    features[["face", "run"]].to_csv(folder / "face.csv", index=False)
    return folder, str(haxby.mask_brain)


def searchlight_argv(inputs, out, features="features.csv", *extra):
    folder, mask = inputs
    return [
        "searchlight",
        str(folder / "patterns.nii.gz"),
        "--features",
        str(folder / features),
        "--mask",
        mask,
        "--radius",
        "30",
        "--cv-groups",
        "run",
        "--n-repeats",
        "1",
        "--no-report",
        "--quiet",
        "--out",
        str(out),
        *extra,
    ]


def test_folder_appears_only_when_complete(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with ResultFolder(tmp_path / "result", "test") as folder:
            folder.write_table("table", pd.DataFrame({"a": [1]}))
            raise RuntimeError("boom")
    assert not (tmp_path / "result").exists()
    assert (tmp_path / ".result.partial").is_dir()
    with ResultFolder(tmp_path / "result", "test") as folder:
        folder.write_array("values", np.arange(3))
    assert sorted(path.name for path in (tmp_path / "result").iterdir()) == [
        "summary.json",
        "values.npy",
    ]  # the file of the failed attempt did not survive
    assert not (tmp_path / ".result.partial").exists()
    assert read_result(tmp_path / "result").kind == "test"


def test_unfinished_and_foreign_folders_are_not_results(tmp_path):
    (tmp_path / ".cut.partial").mkdir()
    with pytest.raises(OutputFolderError, match="interrupted. Rerun the same command"):
        read_result(tmp_path / "cut")
    (tmp_path / "plain").mkdir()
    with pytest.raises(OutputFolderError, match="not a finished mlem_neuro result"):
        read_result(tmp_path / "plain")


def test_non_empty_out_is_refused_and_overwrite_leaves_no_stale_file(
    haxby_inputs, tmp_path, capsys
):
    out = tmp_path / "maps"
    assert main(searchlight_argv(haxby_inputs, out)) == 0
    assert (out / "importance_large.nii.gz").exists()
    before = (out / "summary.json").read_text()
    capsys.readouterr()

    assert main(searchlight_argv(haxby_inputs, out, "face.csv")) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"--out {out} is not empty" in error and "pass --overwrite" in error
    assert (out / "summary.json").read_text() == before

    assert main(searchlight_argv(haxby_inputs, out, "face.csv", "--overwrite")) == 0
    names = {path.name for path in out.iterdir()}
    assert "importance_face.nii.gz" in names
    assert not [name for name in names if "large" in name or "animate" in name]
    assert json.loads((out / "summary.json").read_text())["features"] == ["face"]


@pytest.mark.parametrize("where", ["under_a_file", "in_proc"])
def test_unwritable_out_fails_before_any_fit(haxby_inputs, tmp_path, capsys, monkeypatch, where):
    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran although --out cannot be written")

    monkeypatch.setattr(sys.modules["mlem_neuro.fmri.searchlight"], "fit_units", no_fit)
    (tmp_path / "file.txt").write_text("")
    out = tmp_path / "file.txt" / "maps" if where == "under_a_file" else "/proc/mlem-neuro/maps"
    started = time.perf_counter()
    assert main(searchlight_argv(haxby_inputs, out)) == 2
    assert time.perf_counter() - started < 5
    error = capsys.readouterr().err
    assert error.startswith(f"mlem-neuro searchlight: error: --out {out} cannot be written")
    assert error.count("\n") == 1


def test_interrupted_searchlight_resumes_to_identical_maps(
    haxby_inputs, tmp_path, capsys, monkeypatch
):
    chunks = ["--units-per-chunk", "20"]  # 129 spheres in several chunks
    fit_chunk = fit_module._ChunkFit._fit_chunk
    calls = []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4 and interrupt:
            raise KeyboardInterrupt
        return fit_chunk(self, *args, **kwargs)

    monkeypatch.setattr(fit_module._ChunkFit, "_fit_chunk", interrupted)
    interrupt = False
    whole = tmp_path / "whole"
    assert main(searchlight_argv(haxby_inputs, whole, "features.csv", *chunks)) == 0
    n_chunks = len(calls)
    assert n_chunks > 4

    out = tmp_path / "resumed"
    calls.clear()
    interrupt = True
    assert main(searchlight_argv(haxby_inputs, out, "features.csv", *chunks)) == 130
    assert (
        capsys.readouterr().err.strip().endswith("interrupted; rerun the same command to resume.")
    )
    assert not out.exists()
    saved = sorted((tmp_path / ".resumed.partial" / "checkpoint").glob("chunk-*.npz"))
    assert len(saved) == 3

    calls.clear()
    interrupt = False
    assert main(searchlight_argv(haxby_inputs, out, "features.csv", *chunks)) == 0
    assert len(calls) == n_chunks - 3  # only the unfinished chunks were fitted
    assert not (tmp_path / ".resumed.partial").exists()
    for name in ["score", "importance_face", "weight_large"]:
        expected = nib.load(whole / f"{name}.nii.gz").get_fdata()
        np.testing.assert_array_equal(nib.load(out / f"{name}.nii.gz").get_fdata(), expected)


def test_checkpoint_of_another_fit_is_discarded(planted_units, tmp_path):
    from mlem_neuro import fit_units

    features, Y, units = planted_units
    options = dict(random_state=0, units_per_chunk=10, n_repeats=0)
    fit_units(features, Y, units, checkpoint=tmp_path, **options)
    other = fit_units(features, Y[::-1].copy(), units, checkpoint=tmp_path, **options)
    fresh = fit_units(features, Y[::-1].copy(), units, **options)
    np.testing.assert_array_equal(other.scores, fresh.scores)
