"""One subject of a study: from its BIDS files to its result folder.

Each function here is a task the study's engine runs on a worker. A task reads
only its inputs, writes only its own result folder (whole, through
:class:`~mlem_neuro.outputs.ResultFolder`), and does nothing when that folder
already exists: a rerun skips finished work, and a task cut short resumes from its
checkpoint.
"""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import FitOptions, UnitResults, fit_units, recorded_warnings
from ..outputs import ResultFolder, fit_parameters, is_finished, read_result
from ..tables import read_user_table
from .settings import study_settings

__all__ = [
    "StudyConfig",
    "subject_folder",
    "run_subject",
    "prepare_patterns",
    "fit_shard",
    "merge_shards",
]

ANALYSES = ("searchlight", "roi", "timecourse")
CONFOUND_STRATEGIES = ("simple", "scrubbing", "compcor", "none")


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """How every subject of a study is analysed.

    Parameters
    ----------
    task : str
    analysis : {"searchlight", "roi", "timecourse"}
    features : tuple of str
        Columns of the events files (constant within a trial type when fMRI
        patterns are per trial type), or of ``stimuli_table``.
    options : FitOptions
    cv : "auto", int or None
        Folds over runs (and sessions; over epochs for a single M/EEG
        recording). In-sample scores (None) are biased upward everywhere and
        should not enter a group test.
    stimuli_table : Path, optional
        A table keyed by trial_type holding the features.
    space : str, optional
        Template space of the fMRI runs.
    radius : float
        Searchlight radius in mm.
    atlas : Path, optional
        Label image for ``analysis="roi"``.
    confounds : {"simple", "scrubbing", "compcor", "none"}
        nilearn's fMRIPrep denoising strategy
        (:func:`nilearn.interfaces.fmriprep.load_confounds_strategy`).
    method : {"lsa", "lss"}
        fMRI patterns per trial type and run, or per event.
    tmin, tmax : float
        M/EEG epochs around each event, in seconds.
    baseline : tuple or None
        M/EEG baseline interval.
    window, step : float or None
        M/EEG time windows in seconds.
    source_radius : float, optional
        M/EEG in source space (through each subject's inverse operator): a
        searchlight of discs of this radius (mm) along the cortex.
    source_labels : str, optional
        M/EEG in source space: "LEFT,RIGHT" annotation files, one unit per label.
    inverse_method : str
        dSPM, MNE, sLORETA or eLORETA.
    snr : float
        lambda2 = 1 / snr**2.
    shards : int
        Fit a searchlight's spheres in this many tasks.
    report : bool
        Write each subject's report.html.
    """

    task: str
    analysis: str
    features: tuple
    options: FitOptions
    cv: object = "auto"
    stimuli_table: Path | None = None
    space: str | None = None
    radius: float = 6.0
    atlas: Path | None = None
    confounds: str = "simple"
    method: str = "lsa"
    tmin: float = -0.1
    tmax: float = 0.6
    baseline: tuple | None = (None, 0)
    window: float | None = None
    step: float | None = None
    source_radius: float | None = None
    source_labels: str | None = None
    inverse_method: str = "dSPM"
    snr: float = 3.0
    shards: int = 1
    report: bool = True


def subject_folder(out_dir, label, config):
    """Where a subject's result goes: ``OUT/sub-<label>/task-<task>_<analysis>``."""
    return Path(out_dir) / f"sub-{label}" / f"task-{config.task}_{config.analysis}"


def _entities(subject, config):
    entities = {"sub": subject.label, "task": config.task}
    if subject.space:
        entities["space"] = subject.space
    return entities


def run_subject(subject, config, out_dir, overwrite=False):
    """Analyse one subject whole (patterns and fit in one task).

    A finished result is kept unless ``overwrite``, which replaces it when
    the new one commits (the caller has checked that its settings match).

    Returns
    -------
    str
        The subject's result folder.
    """
    target = subject_folder(out_dir, subject.label, config)
    if is_finished(target) and not overwrite:
        return str(target)
    entities = _entities(subject, config)
    kind = _result_kind(subject, config)
    with ResultFolder(target, kind, entities=entities, overwrite=overwrite) as folder:
        with recorded_warnings() as messages:
            result = _analyse(subject, config, folder.checkpoint_path)
        result.parameters["warnings"] = result.parameters.get("warnings", []) + [
            message for message in messages if message not in result.parameters.get("warnings", [])
        ]
        result.parameters.update(_provenance(subject, config))
        result.save(folder)
        _report(folder, config)
    return str(target)


def _result_kind(subject, config):
    """What the subject's folder holds: surface and source results are kinds of their own."""
    if subject.on_surface and config.analysis == "searchlight":
        return "surface_searchlight"
    if subject.inverse is not None:
        return "source_timecourse"
    return config.analysis


def _provenance(subject, config):
    inputs = [str(path) for run in subject.runs for path in run.bold_files()]
    inputs += [str(recording[0]) for recording in subject.recordings]
    if subject.epochs is not None:
        inputs.append(str(subject.epochs))
    return {
        "subject": subject.label,
        "task": config.task,
        "space": subject.space,
        "inputs": inputs,
        "confounds": config.confounds if subject.modality == "fmri" else None,
        "study_settings": study_settings(config),
    }


def _report(folder, config):
    if config.report:
        from ..report import write_report

        write_report(folder)


def _analyse(subject, config, checkpoint):
    if subject.modality == "meeg":
        return _timecourse(subject, config, checkpoint)
    patterns, table, mask = fmri_patterns(subject, config)
    features, groups = table[list(config.features)], _groups(table)
    if subject.on_surface:
        return _surface_analysis(subject, config, patterns, features, groups, checkpoint)
    if config.analysis == "roi":
        from ..fmri import roi_analysis

        return roi_analysis(
            patterns,
            features,
            config.atlas,
            mask,
            options=config.options,
            cv=config.cv,
            groups=groups,
            checkpoint=checkpoint,
        )
    from ..fmri import searchlight

    return searchlight(
        patterns,
        features,
        mask,
        config.radius,
        options=config.options,
        cv=config.cv,
        groups=groups,
        checkpoint=checkpoint,
    )


def _surface_analysis(subject, config, patterns, features, groups, checkpoint):
    from .. import surface

    fit = dict(options=config.options, cv=config.cv, groups=groups, checkpoint=checkpoint)
    if config.analysis == "roi":
        atlas = str(config.atlas).split(",")
        return surface.roi_analysis(patterns, features, atlas, mesh=subject.mesh, **fit)
    return surface.searchlight(patterns, features, config.radius, mesh=subject.mesh, **fit)


def _groups(table):
    """Run (and session) of each stimulus: folds keep them apart.

    Labels are strings everywhere ("01" stays "01"): stored tables are read
    back with their run and session columns as text (``StoredResult.table``).
    """
    sessions = table["session"].fillna("").astype(str)  # no session: empty
    return (sessions + "/" + table["run"].astype(str)).to_numpy()


def fmri_patterns(subject, config):
    """Beta patterns of every stimulus of a subject, with its features.

    Returns
    -------
    patterns : Nifti1Image or SurfaceImage
        4D, one volume per stimulus; surface runs: one sample per stimulus.
    table : DataFrame
        One row per volume: trial_type, run, session and the features.
    mask : Nifti1Image or None
        Voxels in every run's brain mask (None for surface runs).
    """
    from nilearn.masking import intersect_masks

    from ..fmri import estimate_patterns

    runs = subject.runs
    bold = [[str(path) for path in run.bold_files()] for run in runs]
    confounds, sample_masks = _confounds(
        bold if subject.on_surface else [files[0] for files in bold], config.confounds
    )
    mask = None
    if not subject.on_surface:
        mask = intersect_masks([str(run.mask) for run in runs], threshold=1, connected=False)
    t_rs = {run.t_r for run in runs} - {None}
    patterns, stimuli = estimate_patterns(
        [path for files in bold for path in files],
        [str(run.events) for run in runs],
        t_rs.pop() if len(t_rs) == 1 else None,
        method=config.method,
        confounds=confounds,
        sample_masks=sample_masks,
        mask_img=mask,
        mesh=subject.mesh or "fsaverage5",
    )
    events = [pd.read_csv(run.events, sep="\t") for run in runs]
    table = stimulus_features(stimuli, events, config)
    table["session"] = [runs[index].session or "" for index in stimuli["run"]]
    table["run"] = [runs[index].run or str(index) for index in stimuli["run"]]
    return patterns, table, mask


def _confounds(bold, strategy):
    if strategy == "none":
        return None, None
    from nilearn.interfaces.fmriprep import load_confounds_strategy

    confounds, sample_masks = load_confounds_strategy(bold, denoise_strategy=strategy)
    if all(mask is None for mask in sample_masks):
        sample_masks = None
    return confounds, sample_masks


def stimulus_features(stimuli, events, config):
    """The features of every stimulus, from the events files or a table keyed by trial_type.

    Parameters
    ----------
    stimuli : DataFrame
        One row per pattern: trial_type, run (index into ``events``), and
        event (row in the run's events table) for patterns per event.
    events : list of DataFrame
        The events of each run.
    config : StudyConfig

    Returns
    -------
    DataFrame
        ``stimuli`` with one column per feature.
    """
    names = list(config.features)
    if config.stimuli_table is not None:
        table = read_user_table(config.stimuli_table, "--stimuli-table").astype({"trial_type": str})
        return stimuli.merge(table[["trial_type", *names]], on="trial_type", how="left")
    every = pd.concat(events, ignore_index=True).astype({"trial_type": str})
    if "event" in stimuli.columns:  # one pattern per event, joined by position, not onset
        rows = [
            events[run][names].iloc[event] for run, event in zip(stimuli["run"], stimuli["event"])
        ]
        values = pd.DataFrame(rows).reset_index(drop=True)
        return pd.concat([stimuli.reset_index(drop=True), values], axis=1)
    varying = [
        name
        for name in names
        if (every.groupby("trial_type")[name].nunique(dropna=False) > 1).any()
    ]
    if varying:
        raise ValueError(
            f"Feature column(s) {varying} vary within a trial_type, but patterns are estimated "
            "per trial_type (--method lsa); use --method lss for one pattern per event, or "
            "columns that are constant within each trial_type."
        )
    per_type = every.groupby("trial_type")[names].first().reset_index()
    return stimuli.merge(per_type, on="trial_type", how="left")


def _timecourse(subject, config, checkpoint):
    from ..meeg import timecourse

    epochs, groups = meeg_epochs(subject, config)
    cv = config.cv
    if subject.inverse is not None:
        return _source_timecourse(subject, config, epochs, groups, checkpoint)
    return timecourse(
        epochs,
        list(config.features),
        window=config.window,
        step=config.step,
        cv=cv,
        groups=groups,
        options=config.options,
        checkpoint=checkpoint,
    )


def _source_timecourse(subject, config, epochs, groups, checkpoint):
    from ..meeg import epochs_features, source_timecourse
    from ..meeg.inverse import EpochSourceEstimates, read_inverse

    inverse = read_inverse(subject.inverse)
    labels = config.source_labels.split(",") if config.source_labels else None
    return source_timecourse(
        EpochSourceEstimates(epochs, inverse, config.inverse_method, config.snr),
        epochs_features(epochs, list(config.features)),
        src=inverse["src"],
        radius=config.source_radius,
        labels=labels,
        window=config.window,
        step=config.step,
        cv=config.cv,
        groups=groups,
        options=config.options,
        checkpoint=checkpoint,
    )


def meeg_epochs(subject, config):
    """The subject's epochs with features in their metadata, and the recording of each."""
    import mne

    if subject.epochs is not None:
        epochs = mne.read_epochs(subject.epochs, preload=True, verbose="error")
        return epochs, None
    parts = [_recording_epochs(raw, events, config) for raw, events in subject.recordings]
    groups = np.concatenate([np.full(len(part), index) for index, part in enumerate(parts)])
    epochs = parts[0] if len(parts) == 1 else mne.concatenate_epochs(parts, verbose="error")
    return epochs, (groups if len(parts) > 1 else None)


def _recording_epochs(raw_path, events_path, config):
    import mne
    from mne_bids import get_bids_path_from_fname, read_raw_bids

    raw = read_raw_bids(get_bids_path_from_fname(raw_path), verbose="error")
    table = pd.read_csv(events_path, sep="\t").dropna(subset=["trial_type"])
    samples = np.round(table["onset"].to_numpy() * raw.info["sfreq"]).astype(int)
    events, event_id = mne.events_from_annotations(raw, verbose="error")
    row_of = {sample: row for row, sample in enumerate(samples + raw.first_samp)}
    rows = [row_of.get(sample) for sample in events[:, 0]]
    keep = np.array([row is not None for row in rows])
    metadata = table.iloc[[row for row in rows if row is not None]].reset_index(drop=True)
    return mne.Epochs(
        raw,
        events[keep],
        event_id,
        tmin=config.tmin,
        tmax=config.tmax,
        baseline=config.baseline,
        metadata=metadata,
        preload=True,
        verbose="error",
    )


def prepare_patterns(subject, config, work_dir):
    """Shard step 1: a subject's patterns and features, kept for its shards.

    Returns
    -------
    str
        The patterns folder.
    """
    from ..fmri import save_patterns

    target = Path(work_dir) / f"sub-{subject.label}" / "patterns"
    if not is_finished(target):
        patterns, table, mask = fmri_patterns(subject, config)
        save_patterns(target, patterns, table, mask_img=mask)
    return str(target)


def _shard_rows(n_units, shard, n_shards):
    return np.array_split(np.arange(n_units), n_shards)[shard]


def fit_shard(patterns_dir, subject, config, work_dir, shard):
    """Shard step 2: fit one share of a searchlight's spheres.

    Returns
    -------
    str
        The shard's folder (units.npz of its spheres).
    """
    from ..fmri.searchlight import searchlight_inputs

    target = Path(work_dir) / f"sub-{subject.label}" / f"shard-{shard}-of-{config.shards}"
    if is_finished(target):
        return str(target)
    stored = read_result(patterns_dir)
    table = stored.table("stimuli")
    inputs = searchlight_inputs(
        stored.map("patterns"), table[list(config.features)], stored.map("mask"), config.radius
    )
    rows = _shard_rows(inputs.spheres.shape[0], shard, config.shards)
    with ResultFolder(target, "shard") as folder:
        results = fit_units(
            inputs.features,
            inputs.Y,
            inputs.spheres[rows],
            options=config.options,
            cv=config.cv,
            groups=_groups(table),
            checkpoint=folder.checkpoint_path,
        )
        folder.write_units(results)
    return str(target)


def merge_shards(patterns_dir, shard_dirs, subject, config, out_dir, overwrite=False):
    """Shard step 3: the subject's searchlight maps from its shards, written whole.

    The subject's work folder (patterns and shards) is removed once the maps
    are committed.

    Returns
    -------
    str
        The subject's result folder.
    """
    import time

    from ..fmri.searchlight import searchlight_result

    target = subject_folder(out_dir, subject.label, config)
    if is_finished(target) and not overwrite:
        return str(target)
    started = time.perf_counter()
    stored = read_result(patterns_dir)
    results = UnitResults.concatenate([read_result(path).unit_results() for path in shard_dirs])
    table = stored.table("stimuli")
    parameters = fit_parameters(config.options, config.cv, _groups(table), len(table), started)
    parameters.update(_provenance(subject, config), shards=config.shards)
    result = searchlight_result(results, stored.map("mask"), config.radius, parameters)
    entities = _entities(subject, config)
    with ResultFolder(target, "searchlight", entities=entities, overwrite=overwrite) as folder:
        result.save(folder)
        _report(folder, config)
    shutil.rmtree(Path(patterns_dir).parent)
    return str(target)
