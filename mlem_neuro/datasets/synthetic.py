"""Small multi-subject BIDS studies with planted effects, in the layouts real studies use.

- :func:`make_fmri_study`: raw BIDS (events, sidecars) plus fMRIPrep-style derivatives
  (preprocessed BOLD in a template space, brain masks, confounds with their sidecars).
  The BOLD is made from per-trial patterns convolved with a haemodynamic response, so the
  GLM has real work to do. Voxels within a sphere encode the feature ``animate``; nothing
  encodes ``size``.
- :func:`add_surface_runs`: the same runs on the cortical surface, as fMRIPrep writes them
  with ``--output-spaces fsaverage5`` (or fsnative, with the subject's white and pial
  surfaces): a disc of vertices on the left hemisphere encodes ``animate``.
- :func:`make_eeg_study`: BIDS EEG written with MNE-BIDS (BrainVision files, events with
  feature columns). Between 200 and 350 ms after onset, the scalp pattern encodes
  ``animate``; nothing encodes ``size``.

Both are for trying ``mlem-neuro bids`` and for its tests and benchmarks.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "make_fmri_study",
    "add_surface_runs",
    "make_eeg_study",
    "PLANTED_CENTRE_FRACTION",
    "PLANTED_VERTEX",
    "TRIAL_TYPES",
]

#: The eight trial types of the synthetic studies and their features.
TRIAL_TYPES = pd.DataFrame(
    {
        "trial_type": ["cat", "dog", "face", "bird", "chair", "house", "bottle", "shoe"],
        "animate": [True, True, True, True, False, False, False, False],
        # The same spread of sizes in both halves: size says nothing about animacy.
        "size": [0.1, 0.4, 0.7, 1.0, 0.15, 0.45, 0.75, 0.95],
    }
)

#: Where the planted sphere is, as a fraction of the volume's shape.
PLANTED_CENTRE_FRACTION = (0.3, 0.5, 0.5)

#: The left-hemisphere fsaverage5 vertex at the centre of the planted disc of surface runs.
PLANTED_VERTEX = 1000

_MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


def _write_json(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2))


def _link_or_copy(source, target):
    import shutil

    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copyfile(source, target)


def _dataset_description(root, name, generated_by=None):
    description = {"Name": name, "BIDSVersion": "1.9.0"}
    if generated_by:
        description.update(DatasetType="derivative", GeneratedBy=[{"Name": generated_by}])
    _write_json(root / "dataset_description.json", description)


def _brain_mask(shape):
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape) - 1) / 2
    radii = np.array(shape) / 2 * 0.95
    inside = (((grid - centre[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(0)
    return inside <= 1


def _planted_region(shape, voxel_size, radius_mm):
    grid = np.indices(shape).astype(float)
    centre = np.array(PLANTED_CENTRE_FRACTION) * (np.array(shape) - 1)
    distance = np.sqrt((((grid - centre[:, None, None, None]) * voxel_size) ** 2).sum(0))
    return distance <= radius_mm


def _run_events(rng, onset_step, repeats):
    order = rng.permutation(np.repeat(np.arange(len(TRIAL_TYPES)), repeats))
    events = TRIAL_TYPES.iloc[order].reset_index(drop=True)
    events.insert(0, "duration", 3.0)
    events.insert(0, "onset", 6.0 + onset_step * np.arange(len(order)))
    return events


def _expansions(name, values):
    """A confound with fMRIPrep's derivative and power expansions."""
    derivative = np.r_[np.nan, np.diff(values)]
    return {
        name: values,
        f"{name}_derivative1": derivative,
        f"{name}_power2": values**2,
        f"{name}_derivative1_power2": derivative**2,
    }


def _confounds(rng, n_volumes, t_r):
    columns = {}
    for name in _MOTION:
        columns.update(_expansions(name, np.cumsum(rng.normal(0, 0.01, n_volumes))))
    for name in ["csf", "white_matter", "global_signal"]:
        columns.update(_expansions(name, rng.normal(0, 1, n_volumes)))
    columns["framewise_displacement"] = np.r_[np.nan, np.abs(rng.normal(0, 0.05, n_volumes - 1))]
    columns["std_dvars"] = np.r_[np.nan, np.abs(rng.normal(1, 0.1, n_volumes - 1))]
    frame_times = np.arange(n_volumes) * t_r
    for index in range(3):
        columns[f"cosine{index:02d}"] = np.cos(np.pi * (index + 1) * frame_times / frame_times[-1])
    for index in range(5):
        columns[f"a_comp_cor_{index:02d}"] = rng.normal(0, 1, n_volumes)
    sidecar = {
        f"a_comp_cor_{index:02d}": {"Method": "aCompCor", "Mask": "combined", "Retained": True}
        for index in range(5)
    }
    return pd.DataFrame(columns), sidecar


def _bold(rng, events, patterns, n_volumes, t_r, noise, mask):
    from nilearn.glm.first_level import compute_regressor

    frame_times = np.arange(n_volumes) * t_r
    signal = np.zeros(mask.shape + (n_volumes,))
    for _, event in events.iterrows():
        regressor, _ = compute_regressor(
            np.array([[event["onset"]], [event["duration"]], [1.0]]), "glover", frame_times
        )
        signal += patterns[event["trial_type"]][..., None] * regressor[:, 0]
    drift = np.linspace(-1, 1, n_volumes) * rng.normal(0, 0.5, mask.shape)[..., None]
    bold = 100 + signal + drift + noise * rng.standard_normal(signal.shape)
    return (bold * mask[..., None]).astype(np.float32)


def make_fmri_study(
    out_dir,
    n_subjects=6,
    n_runs=4,
    shape=(9, 10, 11),
    voxel_size=4.0,
    task="objects",
    space="MNI152NLin2009cAsym",
    t_r=2.0,
    effect=1.5,
    noise=1.0,
    planted_radius_mm=8.0,
    random_state=0,
):
    """Write a BIDS fMRI study with fMRIPrep-style derivatives and a planted effect.

    Parameters
    ----------
    out_dir : str or Path
        The BIDS root (created).
    n_subjects, n_runs : int
    shape : tuple of 3 int
        Volume shape; voxels of ``voxel_size`` mm, the brain an ellipsoid in it.
    task, space : str
        Task label, and the template space of the preprocessed runs.
    t_r : float
        Repetition time in seconds (in the sidecars and the headers).
    effect, noise : float
        Amplitude of the planted pattern and of the noise, in BOLD units.
    planted_radius_mm : float
        Radius of the sphere that encodes ``animate``.
    random_state : int

    Returns
    -------
    Path
        The BIDS root. Subjects are labelled "01", "02"...; each run has 16
        events (every trial type twice, 3 s long, every 12 s).
    """
    import nibabel as nib

    root = Path(out_dir)
    rng = np.random.default_rng(random_state)
    affine = np.diag([voxel_size] * 3 + [1.0])
    affine[:3, 3] = -np.array(shape) * voxel_size / 2
    mask = _brain_mask(shape)
    planted = _planted_region(shape, voxel_size, planted_radius_mm) & mask
    _dataset_description(root, "mlem_neuro synthetic fMRI study")
    _write_json(root / f"task-{task}_bold.json", {"RepetitionTime": t_r, "TaskName": task})
    fmriprep = root / "derivatives" / "fmriprep"
    _dataset_description(fmriprep, "fMRIPrep (synthetic)", generated_by="fMRIPrep")
    labels = [f"{index + 1:02d}" for index in range(n_subjects)]
    pd.DataFrame({"participant_id": [f"sub-{label}" for label in labels]}).to_csv(
        root / "participants.tsv", sep="\t", index=False
    )
    n_volumes = int((6.0 + 12.0 * 2 * len(TRIAL_TYPES) + 16) / t_r)
    for label in labels:
        direction = rng.standard_normal(shape)
        for run in range(1, n_runs + 1):
            # Outside the planted sphere, responses are new in every run: no stable geometry.
            patterns = {
                row.trial_type: 0.3 * rng.standard_normal(shape)
                + effect * planted * direction * (1.0 if row.animate else -1.0)
                for row in TRIAL_TYPES.itertuples()
            }
            stem = f"sub-{label}_task-{task}_run-{run}"
            events = _run_events(rng, 12.0, repeats=2)
            func = root / f"sub-{label}" / "func"
            func.mkdir(parents=True, exist_ok=True)
            events.to_csv(func / f"{stem}_events.tsv", sep="\t", index=False)
            bold = nib.Nifti1Image(
                _bold(rng, events, patterns, n_volumes, t_r, noise, mask), affine
            )
            bold.header.set_xyzt_units("mm", "sec")
            bold.header.set_zooms((voxel_size,) * 3 + (t_r,))
            derived = fmriprep / f"sub-{label}" / "func"
            derived.mkdir(parents=True, exist_ok=True)
            prefix = derived / f"{stem}_space-{space}"
            bold.to_filename(f"{prefix}_desc-preproc_bold.nii.gz")
            # The raw run is the same data (nothing here needs it to differ): a hard link.
            _link_or_copy(Path(f"{prefix}_desc-preproc_bold.nii.gz"), func / f"{stem}_bold.nii.gz")
            _write_json(Path(f"{prefix}_desc-preproc_bold.json"), {"RepetitionTime": t_r})
            nib.Nifti1Image(mask.astype(np.uint8), affine).to_filename(
                f"{prefix}_desc-brain_mask.nii.gz"
            )
            confounds, sidecar = _confounds(rng, n_volumes, t_r)
            confounds.to_csv(
                derived / f"{stem}_desc-confounds_timeseries.tsv",
                sep="\t",
                index=False,
                na_rep="n/a",
            )
            _write_json(derived / f"{stem}_desc-confounds_timeseries.json", sidecar)
    return root


def add_surface_runs(
    bids_root,
    space="fsaverage5",
    effect=1.5,
    noise=1.0,
    patch_mm=20.0,
    planted_mm=8.0,
    random_state=0,
):
    """Add surface runs to a study of :func:`make_fmri_study`, as fMRIPrep writes them.

    Each volume run gets ``..._hemi-L_space-<space>_bold.func.gii`` and its
    hemi-R partner (one data array per volume) with a JSON sidecar, on
    fsaverage5's vertices. Vertices within ``patch_mm`` (in 3-D) of
    :data:`PLANTED_VERTEX`, on both hemispheres, carry noise and trial
    responses; those within ``planted_mm`` along the left cortex encode
    ``animate``; every other vertex is constant (no signal, like a medial wall).

    Parameters
    ----------
    bids_root : str or Path
        A study written by :func:`make_fmri_study`.
    space : {"fsaverage5", "fsnative"}
        fsnative also writes each subject's white and pial surfaces (fsaverage5's)
        in its anat folder.
    effect, noise : float
    patch_mm, planted_mm : float
    random_state : int

    Returns
    -------
    Path
        The BIDS root.
    """
    import nibabel as nib
    from nilearn.datasets import load_fsaverage

    from ..units import geodesic_discs

    root = Path(bids_root)
    rng = np.random.default_rng(random_state)
    surfaces = load_fsaverage("fsaverage5")
    mesh = {
        h: (surfaces["white_matter"].parts[h], surfaces["pial"].parts[h]) for h in ("left", "right")
    }
    left_middle = (mesh["left"][0].coordinates + mesh["left"][1].coordinates) / 2
    planted = np.zeros(len(left_middle), bool)
    disc = geodesic_discs(left_middle, mesh["left"][1].faces, planted_mm)[[PLANTED_VERTEX]]
    planted[disc.indices] = True
    fmriprep = root / "derivatives" / "fmriprep"
    for volume in sorted(fmriprep.glob("sub-*/func/*_desc-preproc_bold.nii.gz")):
        stem = volume.name.split("_space-")[0]
        label = stem.split("_")[0]
        n_volumes = nib.load(volume).shape[3]
        t_r = float(nib.load(volume).header.get_zooms()[3])
        events = pd.read_csv(root / label / "func" / f"{stem}_events.tsv", sep="\t")
        for hemisphere, tag in (("left", "L"), ("right", "R")):
            middle = (mesh[hemisphere][0].coordinates + mesh[hemisphere][1].coordinates) / 2
            # The right hemisphere's patch mirrors the left's.
            centre = left_middle[PLANTED_VERTEX] * ([1, 1, 1] if tag == "L" else [-1, 1, 1])
            patch = np.linalg.norm(middle - centre, axis=1) < patch_mm
            encodes = planted if hemisphere == "left" else np.zeros_like(planted)
            direction = rng.standard_normal(len(middle))
            patterns = {
                row.trial_type: 0.3 * rng.standard_normal(len(middle))
                + effect * encodes * direction * (1.0 if row.animate else -1.0)
                for row in TRIAL_TYPES.itertuples()
            }
            bold = _bold(rng, events, patterns, n_volumes, t_r, noise, patch)
            bold[~patch] = 100.0
            name = f"{stem}_hemi-{tag}_space-{space}_bold"
            arrays = [nib.gifti.GiftiDataArray(np.ascontiguousarray(v)) for v in bold.T]
            nib.save(nib.gifti.GiftiImage(darrays=arrays), volume.parent / f"{name}.func.gii")
            _write_json(volume.parent / f"{name}.json", {"RepetitionTime": t_r})
            if space == "fsnative":
                _write_subject_surfaces(fmriprep / label / "anat", label, tag, mesh[hemisphere])
    return root


def _write_subject_surfaces(anat, label, tag, surfaces):
    import nibabel as nib

    anat.mkdir(parents=True, exist_ok=True)
    for name, surface in zip(("white", "pial"), surfaces):
        arrays = [
            nib.gifti.GiftiDataArray(
                surface.coordinates.astype(np.float32), intent="NIFTI_INTENT_POINTSET"
            ),
            nib.gifti.GiftiDataArray(
                np.asarray(surface.faces, np.int32), intent="NIFTI_INTENT_TRIANGLE"
            ),
        ]
        nib.save(nib.gifti.GiftiImage(darrays=arrays), anat / f"{label}_hemi-{tag}_{name}.surf.gii")


def _montage(mne):
    """The 10-20 montage under its current MNE name."""
    builtin = mne.channels.get_builtin_montages()
    return mne.channels.make_standard_montage(
        "colin27_1020" if "colin27_1020" in builtin else "standard_1020"
    )


def make_eeg_study(
    out_dir,
    n_subjects=6,
    n_trials=160,
    task="objects",
    effect=1.0,
    random_state=0,
    derivative_epochs=False,
):
    """Write a BIDS EEG study (MNE-BIDS, BrainVision) with a planted effect.

    Parameters
    ----------
    out_dir : str or Path
        The BIDS root (created).
    n_subjects, n_trials : int
    task : str
    effect : float
        Amplitude of the planted scalp pattern, in units of the noise.
    random_state : int
    derivative_epochs : bool
        Also write each subject's epochs (-0.1 to 0.6 s) where MNE-BIDS-Pipeline
        puts them: ``derivatives/mne-bids-pipeline/sub-XX/eeg/..._epo.fif``.

    Returns
    -------
    Path
        The BIDS root.
    """
    import mne
    from mne_bids import BIDSPath, write_raw_bids

    root = Path(out_dir)
    rng = np.random.default_rng(random_state)
    names = ["Fz", "Cz", "Pz", "Oz", "C3", "C4", "F3", "F4", "P3", "P4", "O1", "O2"]
    sfreq, step = 100.0, 1.2
    event_id = {name: code for code, name in enumerate(TRIAL_TYPES["trial_type"], start=1)}
    for index in range(n_subjects):
        label = f"{index + 1:02d}"
        order = rng.permutation(np.resize(np.arange(len(TRIAL_TYPES)), n_trials))
        trials = TRIAL_TYPES.iloc[order].reset_index(drop=True)
        onsets = (1.0 + step * np.arange(n_trials)) * sfreq
        n_samples = int(onsets[-1] + step * sfreq)
        data = rng.standard_normal((len(names), n_samples)) * 5e-6
        topography = rng.standard_normal(len(names)) * 5e-6 * effect
        window = np.arange(int(0.2 * sfreq), int(0.35 * sfreq))
        for onset, animate in zip(onsets.astype(int), trials["animate"]):
            data[:, onset + window] += topography[:, None] * (1.0 if animate else -1.0)
        info = mne.create_info(names, sfreq, "eeg")
        raw = mne.io.RawArray(data, info, verbose="error")
        raw.set_montage(_montage(mne))
        codes = trials["trial_type"].map(event_id).to_numpy()
        events = np.column_stack([onsets.astype(int), np.zeros(n_trials, int), codes])
        path = BIDSPath(subject=label, task=task, root=root, datatype="eeg")
        write_raw_bids(
            raw,
            path,
            events=events,
            event_id=event_id,
            # With metadata, MNE-BIDS writes trial_type only from it.
            event_metadata=trials.astype({"animate": str}),
            extra_columns_descriptions={
                "trial_type": "the object shown",
                "animate": "living thing (True) or not (False)",
                "size": "real-world size, 0 to 1",
            },
            format="BrainVision",
            allow_preload=True,
            overwrite=True,
            verbose="error",
        )
        if derivative_epochs:
            epochs = mne.Epochs(
                raw,
                events,
                event_id,
                tmin=-0.1,
                tmax=0.6,
                baseline=(None, 0),
                metadata=trials.reset_index(drop=True),
                preload=True,
                verbose="error",
            )
            folder = root / "derivatives" / "mne-bids-pipeline" / f"sub-{label}" / "eeg"
            folder.mkdir(parents=True, exist_ok=True)
            epochs.save(folder / f"sub-{label}_task-{task}_epo.fif", verbose="error")
    return root
