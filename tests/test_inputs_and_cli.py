"""User tables read as they are; command lines recorded so they can be rerun; one-line errors."""

import asyncio
import gzip
import json
import shlex

import numpy as np
import pandas as pd
import pytest

from mlem_neuro.cli import main
from mlem_neuro.outputs import ResultFolder
from mlem_neuro.tables import TableError, read_user_table

EXPECTED = pd.DataFrame({"animate": [1, 0, 1], "face": [0, 1, 1], "size": ["s", "l", "s"]})


@pytest.mark.parametrize(
    "name, separator, compress",
    [("semi.csv", ";", False), ("tabs.csv", "\t", False), ("table.tsv.gz", "\t", True)],
)
def test_tables_are_read_with_the_separator_of_their_content(tmp_path, name, separator, compress):
    text = EXPECTED.to_csv(sep=separator, index=False)
    path = tmp_path / name
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    pd.testing.assert_frame_equal(read_user_table(path, "--features"), EXPECTED)


def test_a_table_that_reads_as_one_column_named_with_separators_is_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("animate;face;size\n1;0;s\n0;1\n")
    with pytest.raises(TableError, match=r"--features: .* single column 'animate;face;size'"):
        read_user_table(path, "--features")
    single = tmp_path / "single.csv"
    single.write_text("animate\n1\n0\n")
    assert read_user_table(single, "--features").columns.tolist() == ["animate"]


def layer_folders(tmp_path, n_subjects=5):
    rng = np.random.default_rng(0)
    folders = []
    for subject in range(n_subjects):
        folder = tmp_path / f"sub {subject}"  # a space, to be quoted
        with ResultFolder(folder, "layers") as result:
            scores = 0.5 + 0.01 * rng.standard_normal(3)
            result.write_table("layers", pd.DataFrame({"layer": [0, 1, 2], "score": scores}))
            result.update_summary(features=["a"])
        folders.append(str(folder))
    return folders


def test_the_recorded_command_line_can_be_rerun_and_overwrite_spares_other_folders(
    tmp_path, capsys
):
    folders = layer_folders(tmp_path)
    out = tmp_path / "group result"
    argv = ["group", *folders, "--out", str(out), "--n-permutations", "100", "--no-report"]
    assert main(argv) == 0
    recorded = json.loads((out / "summary.json").read_text())["command_line"]
    assert shlex.split(recorded) == ["mlem-neuro", *argv]

    mine = tmp_path / "mydata"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    capsys.readouterr()
    argv = ["group", *folders, "--out", str(mine), "--overwrite", "--no-report"]
    assert main(argv) == 2
    assert "holds no mlem_neuro result" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "mine"


def test_a_cancelled_task_is_one_line(tmp_path, capsys, monkeypatch):
    import mlem_neuro.stats

    def cancelled(*args, **kwargs):
        raise asyncio.CancelledError("the scheduler cancelled the task")

    monkeypatch.setattr(mlem_neuro.stats, "group_test", cancelled)
    folders = layer_folders(tmp_path)
    assert main(["group", *folders, "--out", str(tmp_path / "g"), "--no-report"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "CancelledError" in error
