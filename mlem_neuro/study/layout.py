"""What a study's BIDS folders hold for each subject, checked before anything is computed.

fMRI: preprocessed runs, brain masks and confounds from fMRIPrep derivatives, events and
sidecars from the raw dataset, found with nilearn's BIDS tools. M/EEG: raw recordings
through MNE-BIDS, or epochs already cut in a derivatives folder (MNE-BIDS-Pipeline).
Every problem of every subject is gathered into one error, so that a study is refused
whole, with the full list, before hours of computing.
"""

import dataclasses
import json
from pathlib import Path

import pandas as pd
from nilearn.interfaces.bids import get_bids_files, parse_bids_filename

__all__ = [
    "FmriRun",
    "SubjectInputs",
    "LayoutError",
    "find_subjects",
    "fmri_inputs",
    "meeg_inputs",
    "is_surface_space",
]


class LayoutError(ValueError):
    """The BIDS folders do not hold what the study needs."""


@dataclasses.dataclass(frozen=True)
class FmriRun:
    """One preprocessed fMRI run and the files that go with it.

    Surface runs have their hemi-L file as ``bold``, their hemi-R file as
    ``bold_right``, and no mask.
    """

    bold: Path
    events: Path
    mask: Path | None
    t_r: float
    session: str | None
    run: str | None
    bold_right: Path | None = None

    def bold_files(self):
        """The run's BOLD file, or its hemi-L and hemi-R files."""
        return [self.bold] if self.bold_right is None else [self.bold, self.bold_right]


@dataclasses.dataclass(frozen=True)
class SubjectInputs:
    """Everything one subject's analysis reads.

    Attributes
    ----------
    label : str
        Subject label (without "sub-").
    modality : {"fmri", "meeg"}
    runs : tuple of FmriRun
        fMRI runs, in session and run order.
    recordings : tuple of (Path, Path)
        M/EEG: each raw recording and its events.tsv.
    epochs : Path or None
        M/EEG: an epochs file from a derivatives folder.
    space : str or None
        Template space of the fMRI runs.
    mesh : str, dict or None
        Surface runs: their mesh, an fsaverage name or the subject's
        (white, pial) surfaces per hemisphere (for fsnative).
    inverse : Path or None
        M/EEG in source space: the subject's inverse operator.
    """

    label: str
    modality: str
    runs: tuple = ()
    recordings: tuple = ()
    epochs: Path | None = None
    space: str | None = None
    mesh: object = None
    inverse: Path | None = None

    @property
    def on_surface(self):
        """Whether the subject's fMRI runs are on the cortical surface."""
        return self.mesh is not None


def find_subjects(bids_dir, labels=None):
    """Subject labels of a BIDS dataset (all, or the ones asked for, checked)."""
    bids_dir = Path(bids_dir)
    if not (bids_dir / "dataset_description.json").exists():
        raise LayoutError(
            f"BIDS_DIR {bids_dir} is not a BIDS dataset: it has no dataset_description.json."
        )
    found = sorted(path.name[4:] for path in bids_dir.glob("sub-*") if path.is_dir())
    if not labels:
        if not found:
            raise LayoutError(f"BIDS_DIR {bids_dir} has no sub-* folder.")
        return found
    labels = [label.removeprefix("sub-") for label in labels]
    missing = [label for label in labels if label not in found]
    if missing:
        raise LayoutError(
            f"--participant-label {missing} not found in {bids_dir} (subjects: {found})."
        )
    return labels


def _entities(path):
    return parse_bids_filename(str(path))["entities"]


def _tasks(bids_dir, pattern):
    return sorted({_entities(path).get("task") for path in Path(bids_dir).rglob(pattern)} - {None})


def _check_task(bids_dir, task, pattern):
    tasks = _tasks(bids_dir, pattern)
    if task not in tasks:
        raise LayoutError(f"--task {task!r} is not in {bids_dir} (tasks found: {tasks}).")


def is_surface_space(space):
    """Whether fMRIPrep writes runs of this space on the surface (fsaverage*, fsnative)."""
    return space is not None and (space.startswith("fsaverage") or space == "fsnative")


def _repetition_time(bold, bids_dir, task):
    """TR from the preprocessed run's sidecar, else the raw dataset's, else None."""
    candidates = [
        Path(str(bold).removesuffix(".nii.gz").removesuffix(".func.gii") + ".json"),
        Path(bids_dir) / f"task-{task}_bold.json",
    ]
    for sidecar in candidates:
        if sidecar.exists():
            value = json.loads(sidecar.read_text()).get("RepetitionTime")
            if value:
                return float(value)
    return None


def _preprocessed_runs(derivatives, task, label, space=None):
    """A subject's preprocessed runs: fMRIPrep's NIfTI volumes, or its hemi-L GIFTI surfaces."""
    keys = [("task", task)] + ([("space", space)] if space else [])
    volumes = (
        []
        if is_surface_space(space)
        else get_bids_files(
            derivatives, "bold", "nii.gz", label, "func", keys + [("desc", "preproc")]
        )
    )
    surfaces = (
        get_bids_files(derivatives, "bold", "func.gii", label, "func", keys + [("hemi", "L")])
        if space is None or is_surface_space(space)
        else []
    )
    return volumes + surfaces


def _choose_space(derivatives, task, labels, space):
    spaces = set()
    for label in labels:
        for path in _preprocessed_runs(derivatives, task, label):
            spaces.add(_entities(path).get("space"))
    spaces.discard(None)
    if space is not None:
        if space not in spaces:
            raise LayoutError(
                f"--space {space!r}: no preprocessed run of task {task!r} in that space in "
                f"{derivatives} (spaces found: {sorted(spaces)})."
            )
        return space
    if len(spaces) != 1:
        raise LayoutError(
            f"The preprocessed runs of task {task!r} in {derivatives} are in "
            f"{len(spaces)} spaces {sorted(spaces)}; choose one with --space."
            if spaces
            else f"No preprocessed run (desc-preproc_bold) of task {task!r} in {derivatives}."
        )
    return spaces.pop()


def _subject_runs(bids_dir, derivatives, task, space, label, problems):
    runs = []
    preproc = _preprocessed_runs(derivatives, task, label, space)
    if not preproc:
        problems.append(f"sub-{label}: no preprocessed run of task {task!r} in space {space!r}")
    for path in preproc:
        entities = _entities(path)
        keys = [("task", task)] + [
            (name, entities[name]) for name in ("ses", "run") if name in entities
        ]
        events = get_bids_files(bids_dir, "events", "tsv", label, "func", keys)
        name = Path(path).name
        if not events:
            problems.append(f"sub-{label}: {name} has no events file (*_events.tsv) in BIDS_DIR")
        mask, right = _run_mask(derivatives, label, keys, space, path, problems)
        if events and (mask or right):
            t_r = _repetition_time(path, bids_dir, task)
            ses, run = entities.get("ses"), entities.get("run")
            runs.append(FmriRun(Path(path), Path(events[0]), mask, t_r, ses, run, right))
    return tuple(runs)


def _run_mask(derivatives, label, keys, space, path, problems):
    """A volume run's brain mask, or a surface run's hemi-R file; a problem when absent."""
    name = Path(path).name
    if is_surface_space(space):
        right = Path(path).with_name(name.replace("hemi-L", "hemi-R"))
        if not right.exists():
            problems.append(f"sub-{label}: {name} has no hemi-R partner ({right.name})")
            return None, None
        return None, right
    masks = get_bids_files(
        derivatives, "mask", "nii.gz", label, "func", keys + [("space", space), ("desc", "brain")]
    )
    if not masks:
        problems.append(f"sub-{label}: {name} has no brain mask (*_desc-brain_mask.nii.gz)")
        return None, None
    return Path(masks[0]), None


def _subject_mesh(derivatives, space, label, problems):
    """The mesh of surface runs: the fsaverage name, or the subject's white and pial surfaces."""
    if space != "fsnative":
        return space
    anat = Path(derivatives) / f"sub-{label}"
    mesh = {}
    for hemisphere, tag in (("left", "hemi-L"), ("right", "hemi-R")):
        found = [
            sorted(anat.rglob(f"sub-{label}_*{tag}_{surface}.surf.gii"))
            for surface in ("white", "pial")
        ]
        if not all(found):
            problems.append(
                f"sub-{label}: fsnative runs need the subject's {tag}_white.surf.gii and "
                f"{tag}_pial.surf.gii (fMRIPrep's anat folder); not found in {anat}"
            )
            return None
        mesh[hemisphere] = (found[0][0], found[1][0])
    return mesh


def fmri_inputs(bids_dir, derivatives, task, labels, space=None, columns=()):
    """The inputs of every subject of an fMRI study, or one error listing every problem.

    Parameters
    ----------
    bids_dir : Path
        The raw BIDS dataset (events, sidecars).
    derivatives : Path
        fMRIPrep derivatives (preprocessed runs, brain masks, confounds).
    task : str
    labels : list of str
    space : str, optional
        Template space; the only one present when None. fsaverage spaces
        and fsnative read fMRIPrep's surface runs (``*_hemi-L_space-<space>_bold.func.gii``
        and their hemi-R partners); fsnative also the subject's white and pial surfaces.
    columns : sequence of str
        Event columns the features are read from: every events file must have them.

    Returns
    -------
    list of SubjectInputs
    """
    derivatives = Path(derivatives)
    if not derivatives.is_dir():
        raise LayoutError(f"--derivatives {derivatives} is not a folder.")
    _check_task(bids_dir, task, "sub-*/**/*_events.tsv")
    space = _choose_space(derivatives, task, labels, space)
    problems, subjects = [], []
    for label in labels:
        runs = _subject_runs(bids_dir, derivatives, task, space, label, problems)
        for run in runs:
            _check_columns(run.events, columns, label, problems)
        mesh = (
            _subject_mesh(derivatives, space, label, problems) if is_surface_space(space) else None
        )
        subjects.append(SubjectInputs(label, "fmri", runs=runs, space=space, mesh=mesh))
    _raise_problems(problems)
    return subjects


def _check_columns(events, columns, label, problems):
    present = pd.read_csv(events, sep="\t", nrows=0).columns
    missing = [column for column in columns if column not in present]
    if missing:
        problems.append(f"sub-{label}: {Path(events).name} lacks the feature column(s) {missing}")


def _raise_problems(problems):
    if problems:
        listed = "; ".join(problems[:12]) + ("; ..." if len(problems) > 12 else "")
        raise LayoutError(f"The study cannot run, {len(problems)} problem(s): {listed}.")


def meeg_inputs(bids_dir, derivatives, task, labels, columns=(), sources=False):
    """The inputs of every subject of an M/EEG study, or one error listing every problem.

    Parameters
    ----------
    bids_dir : Path
    derivatives : Path or None
        A folder of epochs (``sub-XX/**/sub-XX_*task-T*_epo.fif``, the
        MNE-BIDS-Pipeline layout); None reads the raw recordings with MNE-BIDS.
    task : str
    labels : list of str
    columns : sequence of str
        Event (or epochs metadata) columns the features are read from.
    sources : bool
        Analyse source estimates: the derivatives folder must hold each
        subject's inverse operator (``sub-XX_*task-T*inv.fif``) beside its epochs.

    Returns
    -------
    list of SubjectInputs
    """
    from mne_bids import find_matching_paths

    if sources and (derivatives is None or not Path(derivatives).is_dir()):
        raise LayoutError(
            "Source-space analyses (--source-radius, --labels) read each subject's epochs and "
            "inverse operator from a derivatives folder (--derivatives, MNE-BIDS-Pipeline "
            f"layout); got {derivatives}."
        )
    if derivatives is not None and Path(derivatives).is_dir():
        return _epochs_inputs(Path(derivatives), task, labels, sources)
    _check_task(bids_dir, task, "sub-*/**/*_events.tsv")
    problems, subjects = [], []
    for label in labels:
        paths = find_matching_paths(
            bids_dir,
            subjects=label,
            tasks=task,
            datatypes=["eeg", "meg"],
            suffixes=["eeg", "meg"],
            extensions=[".vhdr", ".fif", ".edf", ".bdf", ".set"],
        )
        if not paths:
            problems.append(f"sub-{label}: no EEG or MEG recording of task {task!r}")
        recordings = []
        for path in paths:
            events = path.copy().update(suffix="events", extension=".tsv")
            if not events.fpath.exists():
                problems.append(f"sub-{label}: {path.basename} has no events file")
                continue
            _check_columns(events.fpath, columns, label, problems)
            recordings.append((path.fpath, events.fpath))
        subjects.append(SubjectInputs(label, "meeg", recordings=tuple(recordings)))
    _raise_problems(problems)
    return subjects


def _epochs_inputs(derivatives, task, labels, sources=False):
    problems, subjects = [], []
    for label in labels:
        folder = derivatives / f"sub-{label}"
        found = sorted(folder.rglob(f"sub-{label}_*task-{task}*_epo.fif"))
        inverses = sorted(folder.rglob(f"sub-{label}_*task-{task}*inv.fif")) if sources else []
        if not found:
            problems.append(f"sub-{label}: no epochs of task {task!r} in {derivatives}")
        if sources and not inverses:
            problems.append(f"sub-{label}: no inverse operator (*task-{task}*inv.fif) in {folder}")
        if found and (inverses or not sources):
            inverse = inverses[0] if inverses else None
            subjects.append(SubjectInputs(label, "meeg", epochs=found[0], inverse=inverse))
    _raise_problems(problems)
    return subjects
