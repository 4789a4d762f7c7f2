"""Every command of docs/cli.md runs on the bundled data and does what the page says."""

import contextlib
import glob
import io
import json
import re
import shlex
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from mlem_neuro.cli import main

PAGE = Path(__file__).parents[1] / "docs" / "cli.md"


def documented_commands():
    blocks = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def expanded(line):
    words = shlex.split(line)
    assert words[0] == "mlem-neuro"
    arguments = []
    for word in words[1:]:
        matches = sorted(glob.glob(word)) if any(c in word for c in "*?[") else [word]
        assert matches, f"{word!r} matches no file"
        arguments += matches
    return arguments + ["--quiet"]


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    folder = tmp_path_factory.mktemp("walkthrough")
    codes, errors = {}, {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for line in documented_commands():
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                codes[line] = main(expanded(line))
            errors[line] = stderr.getvalue()
    return folder, codes, errors


def test_every_documented_command_succeeds(walkthrough):
    _, codes, errors = walkthrough
    assert len(codes) == 12
    failed = {line: errors[line] for line, code in codes.items() if code != 0}
    assert not failed


def test_fmri_steps_write_what_the_page_says(walkthrough):
    folder, _, _ = walkthrough
    results = folder / "results"
    assert len(sorted((folder / "data" / "haxby").glob("run*_bold.nii.gz"))) == 12
    patterns = json.loads((results / "patterns" / "summary.json").read_text())
    assert patterns["n_patterns"] == 96
    searchlight = results / "searchlight"
    for name in ["score", "importance_face", "weight_large"]:
        assert nib.load(searchlight / f"{name}.nii.gz").shape == (6, 10, 10)
    summary = json.loads((searchlight / "summary.json").read_text())
    assert summary["fit_info"]["n_folds"] == 5  # --cv auto over 12 runs
    assert summary["max_score"] > 0.1
    assert (searchlight / "report.html").stat().st_size > 100_000
    assert (results / "roi" / "roi.tsv").exists()
    timecourse = json.loads((results / "timecourse" / "summary.json").read_text())
    assert 0.2 < timecourse["peak"]["time_s"] < 0.3


def test_group_of_two_halves_says_it_cannot_reach_significance(walkthrough):
    folder, _, errors = walkthrough
    printed = next(text for line, text in errors.items() if line.startswith("mlem-neuro group"))
    assert "mlem-neuro group: warning: With 2 subjects a sign-flip test has only 4" in printed
    summary = json.loads((folder / "results" / "group" / "summary.json").read_text())
    assert any("no p-value can go below 0.25" in text for text in summary["warnings"])
    assert summary["n_subjects"] == 2
    assert summary["n_permutations_requested"] == 1000
    assert summary["smallest_possible_pvalue"] == 0.25
    logp = nib.load(folder / "results" / "group" / "logp_voxel.nii.gz").get_fdata()
    # nilearn draws its 1,000 flips at random: its p-values estimate 0.25 or more, within
    # Monte-Carlo error (standard error 0.014 at 0.25).
    assert np.nanmax(logp) <= -np.log10(0.25 - 4 * np.sqrt(0.25 * 0.75 / 1000))
    report = (folder / "results" / "group" / "report.html").read_text()
    assert "half1/searchlight/report.html" in report
    assert (folder / "results" / "halves.html").exists()
