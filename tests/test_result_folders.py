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
    checkpoint = tmp_path / ".resumed.partial" / "checkpoint" / "mlem_neuro-checkpoint"
    saved = sorted(checkpoint.glob("chunk-*.npz"))
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


def test_overwrite_never_deletes_a_folder_that_holds_no_result(tmp_path, capsys):
    notes = tmp_path / "mydata"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(OutputFolderError, match="holds no mlem_neuro result"):
            ResultFolder(notes, "roi", overwrite=overwrite, label="--out")
    assert (notes / "notes.txt").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mydata"]


def test_a_second_writer_to_the_same_folder_is_refused(tmp_path):
    first = ResultFolder(tmp_path / "out", "test")
    with pytest.raises(OutputFolderError, match=r"is being written by another run \(process"):
        ResultFolder(tmp_path / "out", "test")
    first.write_array("values", np.arange(2))
    first.commit()
    with ResultFolder(tmp_path / "out", "test", overwrite=True) as again:
        again.write_array("values", np.arange(3))
    assert np.load(tmp_path / "out" / "values.npy").tolist() == [0, 1, 2]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    import subprocess

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    pid = int(dead.stdout)
    (tmp_path / ".out.lock").write_text(
        json.dumps({"pid": pid, "host": __import__("socket").gethostname()})
    )
    with ResultFolder(tmp_path / "out", "test") as folder:
        folder.write_array("values", np.arange(2))
    assert (tmp_path / "out" / "values.npy").exists()
    assert not (tmp_path / ".out.lock").exists()


def test_out_dot_symlinks_and_an_interrupted_commit(tmp_path, monkeypatch):
    empty = tmp_path / "here"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with ResultFolder(".", "test") as folder:
        folder.write_array("values", np.arange(2))
    assert sorted(path.name for path in empty.iterdir()) == ["summary.json", "values.npy"]
    assert read_result(".").kind == "test"

    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with ResultFolder(link, "test") as folder:
        folder.write_array("values", np.arange(2))
    assert link.is_symlink() and (real / "values.npy").exists()
    with ResultFolder(link, "test", overwrite=True) as folder:
        folder.write_array("values", np.arange(4))
    assert link.is_symlink() and np.load(real / "values.npy").tolist() == [0, 1, 2, 3]

    # A commit cut between taking the old result out and putting the new one in.
    folder = ResultFolder(tmp_path / "cut", "test")
    folder.write_array("values", np.arange(2))
    folder.commit()
    folder = ResultFolder(tmp_path / "cut", "test", overwrite=True)
    folder.write_array("values", np.arange(5))

    def interrupted(source, target):
        raise KeyboardInterrupt

    real_move = folder._move_into
    monkeypatch.setattr(folder, "_move_into", interrupted)
    with pytest.raises(KeyboardInterrupt):
        folder.commit()
    monkeypatch.setattr(folder, "_move_into", real_move)
    repaired = ResultFolder(tmp_path / "cut", "test", overwrite=True)
    assert np.load(tmp_path / "cut" / "values.npy").tolist() == [0, 1, 2, 3, 4]
    assert read_result(tmp_path / "cut").kind == "test"
    repaired.release()
    assert sorted(path.name for path in tmp_path.iterdir() if "cut" in path.name) == ["cut"]


def test_a_checkpoint_mismatch_removes_only_its_own_files(planted_units, tmp_path):
    from mlem_neuro import fit_units

    features, Y, units = planted_units
    (tmp_path / "raw.csv").write_text("precious")
    options = dict(random_state=0, units_per_chunk=10, n_repeats=0)
    fit_units(features, Y, units, checkpoint=tmp_path, **options)
    fit_units(features, Y[::-1].copy(), units, checkpoint=tmp_path, **options)
    assert (tmp_path / "raw.csv").read_text() == "precious"
    owned = [path.name for path in tmp_path.iterdir() if path.name != "raw.csv"]
    assert owned == ["mlem_neuro-checkpoint"]
