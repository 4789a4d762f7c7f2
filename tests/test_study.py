"""Studies end to end: BIDS in, subjects on a real local Dask cluster, group results out."""

import json
import os
import shutil
import signal
import threading
import time
from unittest import mock

import nibabel as nib
import numpy as np
import pytest

import mlem_neuro.core.fit as fit_module
from mlem_neuro import FitOptions
from mlem_neuro.cli import main
from mlem_neuro.datasets.synthetic import PLANTED_CENTRE_FRACTION, make_eeg_study, make_fmri_study
from mlem_neuro.outputs import read_result
from mlem_neuro.study import Engine, LayoutError, StudyConfig, run_group, run_participants

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SHAPE = (9, 10, 11)


def config(**changes):
    settings = dict(
        task="objects",
        analysis="searchlight",
        features=("animate", "size"),
        options=FitOptions(random_state=0, n_repeats=1),
        radius=8.0,
        report=False,
    )
    return StudyConfig(**(settings | changes))


@pytest.fixture(scope="module")
def fmri_study(tmp_path_factory):
    return make_fmri_study(tmp_path_factory.mktemp("bids") / "fmri", n_subjects=6, shape=SHAPE)


@pytest.fixture(scope="module")
def engine():
    with Engine(workers=2) as engine:
        yield engine


@pytest.fixture(scope="module")
def finished_study(fmri_study, engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "study"
    outcome = run_participants(fmri_study, out, config(report=True), engine=engine, verbose=False)
    return out, outcome


def score_maps(out):
    return {
        folder.parent.name: read_result(folder).map("score").get_fdata()
        for folder in sorted(out.glob("sub-*/task-objects_searchlight"))
    }


def planted_voxel():
    return tuple((np.array(PLANTED_CENTRE_FRACTION) * (np.array(SHAPE) - 1)).round().astype(int))


def test_participant_stage_writes_bids_derivatives_with_cross_validated_scores(finished_study):
    out, outcome = finished_study
    assert outcome.succeeded and len(outcome.folders) == 6
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "mlem_neuro"
    folder = out / "sub-01" / "task-objects_searchlight"
    assert (
        folder / "sub-01_task-objects_space-MNI152NLin2009cAsym_desc-score_mlem.nii.gz"
    ).exists()
    assert (folder / "report.html").exists()
    result = read_result(folder)
    assert result.summary["cv"] == "auto" and result.summary["grouped_cv"]
    assert result.summary["fit_info"]["n_folds"] == 4  # one fold per run
    assert result.summary["confounds"] == "simple"
    score = result.map("score").get_fdata()
    assert score[planted_voxel()] > 0.4
    assert abs(np.nanmedian(score)) < 0.1


def test_group_stage_finds_the_planted_region_only(finished_study):
    out, _ = finished_study
    group = run_group(out, "objects", "searchlight", n_permutations=500, report=True)
    summary = read_result(group).summary
    assert summary["n_subjects"] == 6
    assert summary["smallest_possible_pvalue"] == pytest.approx(1 / 64)
    logp = nib.load(next(group.glob("logp_voxel*.nii.gz"))).get_fdata()
    assert logp[planted_voxel()] > -np.log10(0.05)
    grid = np.indices(SHAPE).astype(float)
    distance = np.sqrt((((grid.T - np.array(planted_voxel())) * 4.0) ** 2).sum(-1)).T
    assert np.nanmax(np.where(distance > 20, logp, np.nan)) < -np.log10(0.05)
    report = (group / "report.html").read_text()
    assert "sub-01/task-objects_searchlight/report.html" in report


def test_a_killed_worker_does_not_change_the_results(fmri_study, finished_study, tmp_path):
    out, _ = finished_study
    with Engine(workers=2) as engine:
        pids = engine.client.run(os.getpid)
        outcome = {}
        runner = threading.Thread(
            target=lambda: outcome.update(
                result=run_participants(
                    fmri_study, tmp_path / "study", config(), engine=engine, verbose=False
                )
            )
        )
        runner.start()
        busy = {}
        deadline = time.time() + 60
        while not busy and time.time() < deadline:
            busy = {address: keys for address, keys in engine.client.processing().items() if keys}
            time.sleep(0.05)
        os.kill(pids[next(iter(busy))], signal.SIGKILL)
        runner.join()
    assert outcome["result"].succeeded
    baseline, rerun = score_maps(out), score_maps(tmp_path / "study")
    assert baseline.keys() == rerun.keys()
    for subject in baseline:
        np.testing.assert_array_equal(rerun[subject], baseline[subject])


def test_an_interrupted_study_resumes(fmri_study, finished_study, engine, tmp_path):
    out, _ = finished_study
    target = tmp_path / "study"
    run_participants(
        fmri_study, target, config(), labels=["01", "02"], engine=engine, verbose=False
    )
    # sub-03 is cut short on this machine, after its first chunk of spheres.
    from mlem_neuro.study.layout import find_subjects, fmri_inputs
    from mlem_neuro.study.participant import run_subject

    subject = fmri_inputs(fmri_study, fmri_study / "derivatives" / "fmriprep", "objects", ["03"])[0]
    original, calls = fit_module._ChunkFit._fit_chunk, []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    cut = config(options=FitOptions(random_state=0, n_repeats=1, units_per_chunk=100))
    with mock.patch.object(fit_module._ChunkFit, "_fit_chunk", interrupted):
        with pytest.raises(KeyboardInterrupt):
            run_subject(subject, cut, str(target))
    assert (target / "sub-03" / ".task-objects_searchlight.partial" / "checkpoint").is_dir()
    started = time.perf_counter()
    outcome = run_participants(fmri_study, target, cut, engine=engine, verbose=False)
    assert outcome.succeeded and len(find_subjects(fmri_study)) == 6
    assert time.perf_counter() - started < 60
    resumed = read_result(target / "sub-03" / "task-objects_searchlight").map("score").get_fdata()
    uninterrupted = tmp_path / "clean"
    clean = run_participants(
        fmri_study, uninterrupted, cut, labels=["03"], engine=engine, verbose=False
    )
    assert clean.succeeded, clean.failed
    clean = read_result(uninterrupted / "sub-03" / "task-objects_searchlight").map("score")
    np.testing.assert_array_equal(resumed, clean.get_fdata())
    # Finished subjects were not redone: their folders are those of the first run.
    assert score_maps(target)["sub-01"].shape == SHAPE


def test_sharded_searchlight_gives_the_same_scores(fmri_study, finished_study, engine, tmp_path):
    out, _ = finished_study
    outcome = run_participants(
        fmri_study,
        tmp_path / "study",
        config(shards=3),
        labels=["01", "02"],
        engine=engine,
        verbose=False,
    )
    assert outcome.succeeded
    sharded = score_maps(tmp_path / "study")
    assert not list((tmp_path / "study" / ".work").glob("*/sub-*"))  # removed once merged
    whole = score_maps(out)
    for subject in sharded:
        np.testing.assert_allclose(sharded[subject], whole[subject], atol=1e-6)


def broken_copy(study, tmp_path, damage):
    copy = tmp_path / "broken"
    shutil.copytree(study, copy)
    damage(copy)
    return copy


def test_layout_problems_are_refused_before_anything_runs(fmri_study, tmp_path, capsys):
    def no_events(root):
        (root / "sub-02" / "func" / "sub-02_task-objects_run-3_events.tsv").unlink()

    def no_mask(root):
        folder = root / "derivatives" / "fmriprep" / "sub-04" / "func"
        next(folder.glob("*run-1*brain_mask.nii.gz")).unlink()

    def missing_column(root):
        path = root / "sub-05" / "func" / "sub-05_task-objects_run-2_events.tsv"
        path.write_text(path.read_text().replace("\tsize", "\tweight"))

    def other_space(root):
        folder = root / "derivatives" / "fmriprep" / "sub-06" / "func"
        for path in folder.glob("*space-MNI152NLin2009cAsym*"):
            path.rename(path.with_name(path.name.replace("MNI152NLin2009cAsym", "T1w")))

    cases = {
        "no events": (
            no_events,
            "sub-02: sub-02_task-objects_run-3_space-MNI152NLin2009cAsym"
            "_desc-preproc_bold.nii.gz has no events file",
        ),
        "no mask": (
            no_mask,
            "sub-04: sub-04_task-objects_run-1_space-MNI152NLin2009cAsym"
            "_desc-preproc_bold.nii.gz has no brain mask",
        ),
        "missing column": (
            missing_column,
            "sub-05: sub-05_task-objects_run-2_events.tsv lacks the feature column(s) ['size']",
        ),
        "mixed spaces": (
            other_space,
            "are in 2 spaces ['MNI152NLin2009cAsym', 'T1w']; choose one with --space",
        ),
    }
    for case, (damage, message) in cases.items():
        broken = broken_copy(fmri_study, tmp_path / case.replace(" ", "_"), damage)
        with pytest.raises(LayoutError, match=None) as error:
            run_participants(broken, tmp_path / "never", config(), verbose=False)
        assert message in str(error.value), case
    assert not (tmp_path / "never").exists()
    argv = ["bids", str(fmri_study), str(tmp_path / "never"), "participant", "--task", "rest"]
    assert main([*argv, "--analysis", "searchlight", "--features", "animate", "--quiet"]) == 2
    assert "--task 'rest' is not in" in capsys.readouterr().err


@pytest.fixture(scope="module")
def eeg_study(tmp_path_factory):
    return make_eeg_study(
        tmp_path_factory.mktemp("bids") / "eeg", n_subjects=6, derivative_epochs=True
    )


def test_eeg_study_from_raw_bids_and_from_derivative_epochs(eeg_study, engine, tmp_path):
    eeg = config(analysis="timecourse", window=0.05, step=0.05)
    raw = run_participants(eeg_study, tmp_path / "raw", eeg, engine=engine, verbose=False)
    epochs = run_participants(
        eeg_study,
        tmp_path / "epochs",
        eeg,
        derivatives=eeg_study / "derivatives" / "mne-bids-pipeline",
        engine=engine,
        verbose=False,
    )
    assert raw.succeeded and epochs.succeeded
    first = read_result(tmp_path / "raw" / "sub-01" / "task-objects_timecourse")
    table = first.table("timecourse")
    assert 0.2 <= table.loc[table["score"].idxmax(), "time"] <= 0.35
    group = run_group(tmp_path / "raw", "objects", "timecourse", n_permutations=200)
    clusters = read_result(group).table("clusters")
    best = clusters.iloc[0]
    assert best["pvalue"] < 0.05 and 0.15 <= best["start"] and best["stop"] <= 0.4


def test_bids_command_runs_both_stages(fmri_study, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["bids", str(fmri_study), str(out), "participant", "--task", "objects"]
    argv += ["--analysis", "searchlight", "--features", "animate,size", "--radius", "8"]
    argv += ["--participant-label", "01", "02", "--workers", "1", "--n-repeats", "0", "--quiet"]
    assert main([*argv, "--no-report"]) == 0
    assert "2 of 2 subjects done" in capsys.readouterr().out
    group = ["bids", str(fmri_study), str(out), "group", "--task", "objects"]
    assert main([*group, "--analysis", "searchlight", "--n-permutations", "50", "--quiet"]) == 0
    assert "With 2 subjects a sign-flip test" in capsys.readouterr().err
    assert (out / "group" / "task-objects_searchlight_score" / "report.html").exists()


def test_cluster_config_describes_a_gpu_job(tmp_path):
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    from mlem_neuro.study import cluster_from_config

    path = tmp_path / "slurm.yaml"
    path.write_text(
        "cluster: SLURMCluster\njobs: 0\noptions:\n  cores: 4\n  memory: 16GB\n"
        "  walltime: '01:00:00'\n  job_extra_directives: ['--gres=gpu:1']\n"
    )
    cluster = cluster_from_config(path)
    try:
        assert isinstance(cluster, dask_jobqueue.SLURMCluster)
        assert "#SBATCH --gres=gpu:1" in cluster.job_script()
    finally:
        cluster.close()
    path.write_text("cluster: NoSuchCluster\n")
    with pytest.raises(ValueError, match="unknown cluster 'NoSuchCluster'"):
        cluster_from_config(path)


def test_a_rerun_with_other_settings_is_refused_and_overwrite_keeps_results_until_replaced(
    fmri_study, finished_study, tmp_path
):
    out, _ = finished_study
    copy = tmp_path / "study"
    shutil.copytree(out, copy)
    with pytest.raises(LayoutError, match=r"sub-01, .* other settings \(.*radius: 8.0 -> 16.0"):
        run_participants(fmri_study, copy, config(radius=16.0), verbose=False)

    class Interrupted:
        dashboard = None

        def submit(self, *args, key):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_participants(fmri_study, copy, config(), engine=Interrupted(), overwrite=True)
    assert len(score_maps(copy)) == 6  # nothing was deleted before a new result committed


def test_the_group_stage_refuses_subjects_analysed_differently(finished_study, tmp_path):
    out, _ = finished_study
    copy = tmp_path / "study"
    shutil.copytree(out, copy)
    summary = copy / "sub-02" / "task-objects_searchlight" / "summary.json"
    recorded = json.loads(summary.read_text())
    recorded["study_settings"]["radius"] = 16.0
    summary.write_text(json.dumps(recorded))
    with pytest.raises(LayoutError, match=r"sub-02 and sub-01 .* different settings .*radius"):
        run_group(copy, "objects", "searchlight", n_permutations=10, report=False)


def test_task_keys_and_work_folders_depend_on_the_output_and_the_settings(fmri_study, tmp_path):
    from mlem_neuro.study import _submit_subject
    from mlem_neuro.study.layout import fmri_inputs

    class Recorder:
        def __init__(self):
            self.keys, self.arguments = [], []

        def submit(self, function, *args, key):
            self.keys.append(key)
            self.arguments.append(args)
            return key

    subject = fmri_inputs(fmri_study, fmri_study / "derivatives" / "fmriprep", "objects", ["01"])[0]
    recorder = Recorder()
    for out, radius in [("a", 6.0), ("b", 6.0), ("a", 16.0)]:
        _submit_subject(recorder, subject, config(radius=radius, shards=2), tmp_path / out, False)
    finals = recorder.keys[3::4]
    assert len(set(finals)) == 3
    work = {str(args[2]) for args in recorder.arguments[::4]}
    assert len(work) == 3  # the shards of other settings are never reused


def test_run_labels_stay_strings_when_read_back(tmp_path):
    import pandas as pd

    from mlem_neuro.outputs import ResultFolder

    with ResultFolder(tmp_path / "patterns", "patterns") as folder:
        folder.write_table("stimuli", pd.DataFrame({"run": ["01", "10"], "session": ["1", "2"]}))
    table = read_result(tmp_path / "patterns").table("stimuli")
    assert table["run"].tolist() == ["01", "10"] and table["session"].tolist() == ["1", "2"]


def test_a_stimuli_table_is_checked_for_every_subject_before_any_work(fmri_study, tmp_path):
    import pandas as pd

    from mlem_neuro.study import study_inputs

    events = next((fmri_study / "sub-01" / "func").glob("*_events.tsv"))
    types = sorted(pd.read_csv(events, sep="\t")["trial_type"].astype(str).unique())
    table = tmp_path / "stimuli.csv"
    pd.DataFrame({"trial_type": types, "animate": 1}).to_csv(table, sep=";", index=False)
    with pytest.raises(LayoutError, match=r"has no column\(s\) \['size'\]"):
        study_inputs(fmri_study, config(stimuli_table=table))
    pd.DataFrame({"trial_type": types[1:], "animate": 1, "size": 0}).to_csv(table, index=False)
    with pytest.raises(LayoutError, match=rf"sub-01: .* trial type\(s\) \['{types[0]}'\]"):
        study_inputs(fmri_study, config(stimuli_table=table))
