"""Every user error of the command line is one line on stderr, exit status 2, naming the option."""

import argparse

import numpy as np
import pandas as pd
import pytest

from mlem_neuro.cli import build_parser, main
from mlem_neuro.datasets import haxby_features, load_haxby


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-errors")
    haxby = load_haxby()
    assert (
        main(
            [
                "patterns",
                str(haxby.bold[0]),
                str(haxby.bold[1]),
                "--events",
                str(haxby.events[0]),
                str(haxby.events[1]),
                "--mask",
                str(haxby.mask_brain),
                "--out",
                str(folder / "p"),
                "--quiet",
            ]
        )
        == 0
    )
    stimuli = pd.read_csv(folder / "p" / "stimuli.tsv", sep="\t")
    features = haxby_features(stimuli["trial_type"]).assign(run=stimuli["run"])
    features.to_csv(folder / "features.csv", index=False)
    gappy = features.astype({"large": float})
    gappy.loc[3, "large"] = np.nan
    gappy.to_csv(folder / "gappy.csv", index=False)
    (folder / "empty.csv").write_text("")
    return folder, str(haxby.mask_brain)


def run(inputs, tmp_path, *arguments, features="features.csv"):
    folder, mask = inputs
    argv = ["searchlight", str(folder / "p" / "patterns.nii.gz"), "--features"]
    argv += [str(folder / features), "--mask", mask, "--radius", "30", "--n-repeats", "0"]
    argv += ["--out", str(tmp_path / "out"), "--no-report", "--quiet", *arguments]
    return main(argv)


CASES = {
    "misspelled --cv-groups": (
        ["--cv-groups", "runs"],
        "features.csv",
        "--cv-groups 'runs' is not a column of the features table (columns: ['animate', "
        "'face', 'manmade', 'large', 'run'])",
    ),
    "empty features file": ([], "empty.csv", "--features: ", "could not be read as a table"),
    "missing features file": ([], "nowhere.csv", "--features: features file not found"),
    "bad fit option": (["--learning-rate", "-1"], "features.csv", "--learning-rate must be a"),
    "unknown choice": (["--missing", "drop"], "features.csv", "argument --missing: invalid"),
    "bad --cv": (["--cv", "many"], "features.csv", "--cv expects 'auto', an integer or 'none'"),
    "missing values": (["--cv-groups", "run"], "gappy.csv", "--missing zero on the command"),
    "absent GPU": (["--device", "cuda:3"], "features.csv", "device='cuda:3' was requested"),
    "unknown feature in an extra term": (
        ["--extra-terms", "animate:wings"],
        "features.csv",
        "extra_terms ('animate', 'wings') names unknown feature(s) ['wings']",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_user_errors_are_one_line(inputs, tmp_path, capsys, case):
    arguments, features, *expected = CASES[case]
    assert run(inputs, tmp_path, *arguments, features=features) == 2
    error = capsys.readouterr().err
    assert error.startswith("mlem-neuro searchlight: error: ")
    assert error.count("\n") == 1
    for text in expected:
        assert text in error
    assert not (tmp_path / "out").exists()


def test_missing_values_are_fitted_with_missing_zero(inputs, tmp_path):
    assert (
        run(inputs, tmp_path, "--cv-groups", "run", "--missing", "zero", features="gappy.csv") == 0
    )


def test_timecourse_radius_is_in_millimetres(tmp_path, capsys):
    from mlem_neuro.datasets import load_eeg_sample

    path = tmp_path / "sample-epo.fif"
    load_eeg_sample().to_epochs().save(path)
    argv = ["timecourse", str(path), "--metadata", "modality", "--radius", "0.04"]
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    assert "--radius is in millimetres; 0.04 mm would hold no neighbour" in capsys.readouterr().err


def test_quiet_hides_progress_and_logs_but_not_warnings(inputs, tmp_path, capsys):
    assert run(inputs, tmp_path, "--cv-groups", "run") == 0
    quiet = capsys.readouterr().err
    assert "Fitting" not in quiet and "INFO" not in quiet
    assert "warning: Terms 'animate' and 'manmade' are correlated" in quiet
    folder, mask = inputs
    argv = ["searchlight", str(folder / "p" / "patterns.nii.gz"), "--features"]
    argv += [str(folder / "features.csv"), "--mask", mask, "--radius", "30", "--no-report"]
    assert main(argv + ["--cv-groups", "run", "--out", str(tmp_path / "loud")]) == 0
    loud = capsys.readouterr().err
    assert "Fitting 129 units, exact over" in loud


def test_no_two_flags_of_a_command_fill_the_same_setting():
    # bids once had --method (GLM patterns) and --fit-method (MLEM or a regression)
    # both writing args.method: the last one parsed won.
    commands = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    for name, parser in commands.choices.items():
        destinations = [action.dest for action in parser._actions if action.dest != "help"]
        repeated = {dest for dest in destinations if destinations.count(dest) > 1}
        assert not repeated, (name, repeated)


def test_fit_method_and_extra_terms_flags_reach_the_fit(inputs, tmp_path):
    from mlem_neuro.outputs import read_result

    argv = ["--fit-method", "nnls", "--extra-terms", "animate:face:large", "--n-repeats", "2"]
    assert run(inputs, tmp_path, *argv) == 0
    stored = read_result(tmp_path / "out")
    assert stored.summary["options"]["method"] == "nnls"
    assert stored.summary["options"]["extra_terms"] == [["animate", "face", "large"]]
    assert stored.summary["terms"][-1] == "animate:face:large"
    assert stored.unit_results().extra_weights.shape == (129, 1)
