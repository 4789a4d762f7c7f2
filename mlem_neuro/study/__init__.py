"""Studies: a BIDS dataset in, every subject on a distributed engine, group results out.

Following the BIDS-Apps convention, a study runs in two stages:

- :func:`run_participants`: every subject's analysis as a task on a Dask
  cluster (local by default), each writing ``OUT/sub-<label>/task-<task>_<analysis>``
  whole; a rerun skips finished subjects and resumes interrupted ones.
- :func:`run_group`: a one-sample test across subjects of one measure, in
  ``OUT/group/task-<task>_<analysis>_<measure>``, with a report linking the
  subjects' reports.

``OUT/dataset_description.json`` makes the output a BIDS derivatives dataset.
"""

import dataclasses
import json
from pathlib import Path

from .. import __version__
from ..outputs import ResultFolder, is_finished, read_result
from .engine import Engine, cluster_from_config
from .layout import LayoutError, find_subjects, fmri_inputs, meeg_inputs
from .participant import (
    ANALYSES,
    CONFOUND_STRATEGIES,
    StudyConfig,
    fit_shard,
    merge_shards,
    prepare_patterns,
    run_subject,
    subject_folder,
)
from .settings import differing_settings, settings_key, study_settings

__all__ = [
    "StudyConfig",
    "StudyOutcome",
    "run_participants",
    "run_group",
    "study_inputs",
    "Engine",
    "cluster_from_config",
    "LayoutError",
    "ANALYSES",
    "CONFOUND_STRATEGIES",
]


@dataclasses.dataclass
class StudyOutcome:
    """What the participant stage did, subject by subject.

    Attributes
    ----------
    folders : dict of str to str
        Result folder of every subject that succeeded.
    failed : dict of str to str
        Error of every subject that failed.
    """

    folders: dict
    failed: dict

    @property
    def succeeded(self):
        """Whether every subject succeeded."""
        return not self.failed


def study_inputs(bids_dir, config, labels=None, derivatives=None):
    """Every subject's inputs, checked (one error listing every problem).

    Parameters
    ----------
    bids_dir : str or Path
    config : StudyConfig
    labels : list of str, optional
        Subjects to analyse (default: all).
    derivatives : str or Path, optional
        fMRI: fMRIPrep derivatives (default ``BIDS_DIR/derivatives/fmriprep``).
        M/EEG: a folder of epochs (MNE-BIDS-Pipeline); None reads raw data.

    Returns
    -------
    list of SubjectInputs
    """
    bids_dir = Path(bids_dir)
    labels = find_subjects(bids_dir, labels)
    columns = () if config.stimuli_table is not None else config.features
    if config.analysis == "timecourse":
        sources = config.source_radius is not None or config.source_labels is not None
        return meeg_inputs(bids_dir, derivatives, config.task, labels, columns, sources)
    if config.analysis == "roi" and config.atlas is None:
        raise ValueError("--analysis roi needs --atlas, a label image in the runs' space.")
    derivatives = bids_dir / "derivatives" / "fmriprep" if derivatives is None else derivatives
    subjects = fmri_inputs(bids_dir, derivatives, config.task, labels, config.space, columns)
    if config.stimuli_table is not None:
        _check_stimuli_table(config, subjects)
    return subjects


def _check_stimuli_table(config, subjects):
    """The stimuli table holds trial_type, every feature and every subject's trial types."""
    import pandas as pd

    from ..tables import read_user_table

    table = read_user_table(config.stimuli_table, "--stimuli-table")
    missing = [name for name in ("trial_type", *config.features) if name not in table.columns]
    if missing:
        raise LayoutError(
            f"--stimuli-table {config.stimuli_table} has no column(s) {missing} (columns: "
            f"{list(table.columns)})."
        )
    known = set(table["trial_type"].astype(str))
    for subject in subjects:
        for run in subject.runs:
            types = set(pd.read_csv(run.events, sep="\t")["trial_type"].dropna().astype(str))
            if types - known:
                raise LayoutError(
                    f"sub-{subject.label}: {run.events} has trial type(s) "
                    f"{sorted(types - known)[:5]} that --stimuli-table {config.stimuli_table} "
                    "does not describe."
                )


def _describe_output(bids_dir, out_dir):
    """Write OUT/dataset_description.json (BIDS derivatives) once."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "dataset_description.json"
    if path.exists():
        return
    description = {
        "Name": "mlem_neuro",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "mlem_neuro", "Version": __version__}],
        "SourceDatasets": [{"URL": Path(bids_dir).resolve().as_uri()}],
    }
    partial = out_dir / ".dataset_description.json.partial"
    partial.write_text(json.dumps(description, indent=2))
    partial.rename(path)


def _submit_subject(engine, subject, config, out_dir, overwrite):
    """Futures of one subject's tasks; the last one gives its result folder.

    Task keys hold the output folder and the settings, so two studies on one
    scheduler never share a task; shards live in a work folder keyed by the
    settings, so a rerun with other settings never reuses them.
    """
    settings = study_settings(config)
    digest = settings_key(str(out_dir.resolve()), settings)
    key = f"sub-{subject.label}-{config.task}-{config.analysis}-{digest}"
    if config.shards <= 1 or config.analysis != "searchlight" or subject.on_surface:
        return engine.submit(run_subject, subject, config, str(out_dir), overwrite, key=key)
    work = out_dir / ".work" / f"task-{config.task}_{config.analysis}_{settings_key(settings)}"
    patterns = engine.submit(prepare_patterns, subject, config, str(work), key=f"{key}-patterns")
    shards = [
        engine.submit(
            fit_shard, patterns, subject, config, str(work), shard, key=f"{key}-shard{shard}"
        )
        for shard in range(config.shards)
    ]
    return engine.submit(
        merge_shards, patterns, shards, subject, config, str(out_dir), overwrite, key=key
    )


def _check_finished_subjects(subjects, config, out_dir, overwrite):
    """Refuse to keep (without ``overwrite``) finished subjects analysed with other settings."""
    wanted = study_settings(config)
    mismatched = {}
    for subject in subjects:
        target = subject_folder(out_dir, subject.label, config)
        if is_finished(target):
            recorded = read_result(target).summary.get("study_settings")
            differ = differing_settings(recorded, wanted)
            if differ:
                mismatched[f"sub-{subject.label}"] = differ
    if mismatched and not overwrite:
        first = next(iter(mismatched.values()))
        raise LayoutError(
            f"{', '.join(mismatched)} were analysed with other settings ({'; '.join(first[:4])}"
            f"{'...' if len(first) > 4 else ''}); rerun with --overwrite (overwrite=True) to "
            "redo them with these settings, or give another output folder."
        )


def run_participants(
    bids_dir,
    out_dir,
    config,
    *,
    labels=None,
    derivatives=None,
    engine=None,
    overwrite=False,
    verbose=True,
):
    """Analyse every subject of a BIDS study, one task per subject on a Dask cluster.

    Parameters
    ----------
    bids_dir, out_dir : str or Path
    config : StudyConfig
    labels : list of str, optional
    derivatives : str or Path, optional
        See :func:`study_inputs`.
    engine : Engine, optional
        Where tasks run; a local cluster sized to the machine when None.
    overwrite : bool
        Redo subjects already finished: each folder is replaced when its new
        result commits. Without it, a finished subject is skipped when its
        recorded settings equal these, and the whole stage is refused when
        they do not.
    verbose : bool

    Returns
    -------
    StudyOutcome
    """
    out_dir = Path(out_dir)
    subjects = study_inputs(bids_dir, config, labels, derivatives)
    # One display for the whole study: the tasks' own progress bars stay off.
    config = dataclasses.replace(config, options=dataclasses.replace(config.options, verbose=False))
    _check_finished_subjects(subjects, config, out_dir, overwrite)
    _describe_output(bids_dir, out_dir)
    owned = engine is None
    engine = engine or Engine()
    try:
        if verbose and engine.dashboard:
            print(f"Dask dashboard: {engine.dashboard}")
        futures = {
            subject.label: _submit_subject(engine, subject, config, out_dir, overwrite)
            for subject in subjects
        }
        outcomes = engine.follow(futures, f"Study: {len(subjects)} subjects", verbose)
    finally:
        if owned:
            engine.close()
    return StudyOutcome(
        folders={label: o.result for label, o in outcomes.items() if o.error is None},
        failed={label: o.error for label, o in outcomes.items() if o.error is not None},
    )


def _check_same_settings(folders):
    """Refuse subjects analysed with different settings, naming them."""
    recorded = {folder: read_result(folder).summary.get("study_settings") for folder in folders}
    if not recorded:
        return
    reference, settings = next(iter(recorded.items()))
    for folder, other in recorded.items():
        differ = differing_settings(other, settings) if settings is not None else []
        if differ or (settings is None) != (other is None):
            raise LayoutError(
                f"{folder.parent.name} and {reference.parent.name} were analysed with different "
                f"settings ({'; '.join(differ[:4]) or 'one has none recorded'}); redo them "
                "with the same settings (bids ... participant --overwrite) before a group test."
            )


def run_group(
    out_dir,
    task,
    analysis,
    measure="score",
    *,
    labels=None,
    n_permutations=5000,
    tfce=False,
    baseline=None,
    overwrite=False,
    report=True,
    random_state=0,
):
    """Test one measure across the subjects of a study's participant stage.

    Parameters
    ----------
    out_dir : str or Path
        The study's output folder.
    task, analysis : str
    measure : str
        "score", "importance_<term>" or, with ``baseline``, "weight_<term>".
    labels : list of str, optional
        Subjects to include (default: every finished one).
    n_permutations : int
    tfce : bool
        Maps: also TFCE.
    baseline : float or None
        The value the mean is tested against (0 when None).
    overwrite : bool
    report : bool
    random_state : int

    Returns
    -------
    Path
        The group result folder.
    """
    from ..stats import check_testable, group_test

    check_testable(measure, baseline)
    out_dir = Path(out_dir)
    folders = sorted(
        path
        for path in out_dir.glob(f"sub-*/task-{task}_{analysis}")
        if is_finished(path) and (not labels or path.parent.name.removeprefix("sub-") in labels)
    )
    _check_same_settings(folders)
    if len(folders) < 2:
        raise LayoutError(
            f"The group stage needs the results of at least 2 subjects in {out_dir} for task "
            f"{task!r} and analysis {analysis!r}; found {len(folders)}. Run the participant "
            "stage first."
        )
    target = out_dir / "group" / f"task-{task}_{analysis}_{measure.replace(':', '_x_')}"
    with ResultFolder(target, "group", overwrite=overwrite) as folder:
        test = group_test(
            folders,
            measure,
            n_permutations=n_permutations,
            tfce=tfce,
            baseline=baseline,
            random_state=random_state,
        )
        test.save(folder, parameters={"task": task, "analysis": analysis})
        if report:
            from ..report import write_report

            write_report(folder)
    return folder.path
