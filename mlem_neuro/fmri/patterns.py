"""Per-stimulus patterns (beta maps) from BOLD runs and events, with nilearn's GLM."""

import logging
import warnings

import numpy as np
import pandas as pd
from nilearn import image
from nilearn.glm.first_level import FirstLevelModel

from ..core import check_option, check_positive_float, warn
from ..outputs import open_result_folder
from .design import check_run_design
from .images import data_mask

__all__ = [
    "estimate_patterns",
    "save_patterns",
    "repetition_time",
    "common_epi_mask",
    "header_repetition_time",
]

logger = logging.getLogger("mlem_neuro")

_TARGET = "mlem_neuro_target"


def _load_events(events, n_runs):
    if isinstance(events, (str, pd.DataFrame)) or hasattr(events, "__fspath__"):
        events = [events]
    events = list(events)
    if len(events) != n_runs:
        raise ValueError(
            f"events must give one table per run: got {len(events)} table(s) for {n_runs} run(s)."
        )
    tables = []
    for run, table in enumerate(events):
        if not isinstance(table, pd.DataFrame):
            table = pd.read_csv(table, sep="\t")
        missing = {"onset", "duration", "trial_type"} - set(table.columns)
        if missing:
            raise ValueError(
                f"events of run {run} lack the column(s) {sorted(missing)}; BIDS events need "
                "onset, duration and trial_type."
            )
        if table[["onset", "duration"]].isna().any().any() or table["trial_type"].isna().any():
            raise ValueError(f"events of run {run} have missing onsets, durations or trial types.")
        tables.append(table.reset_index(drop=True))
    return tables


def estimate_patterns(
    bold_imgs,
    events,
    t_r=None,
    *,
    method="lsa",
    confounds=None,
    sample_masks=None,
    mask_img=None,
    hrf_model="glover",
    drift_model="cosine",
    high_pass=0.01,
    smoothing_fwhm=None,
    first_level_options=None,
    mesh="fsaverage5",
    verbose=False,
):
    """Beta maps of every stimulus from BOLD runs, with nilearn's first-level GLM.

    The patterns are nilearn's effect-size estimates with its defaults: each
    voxel's time series scaled to percent signal change (``signal_scaling=0``)
    and an AR(1) noise model (``noise_model="ar1"``); change them, or any
    other :class:`~nilearn.glm.first_level.FirstLevelModel` setting, with
    ``first_level_options``.

    Parameters
    ----------
    bold_imgs : path, Nifti1Image or list of them
        One 4D BOLD image per run; or runs on the cortical surface: a
        ``SurfaceImage`` per run, or GIFTI files in hemi-L/hemi-R pairs
        (fMRIPrep's ``*_hemi-L_space-fsaverage5_bold.func.gii``), one data
        array per volume.
    events : DataFrame, path to a TSV, or list of them
        One BIDS events table per run, with columns onset, duration (seconds)
        and trial_type.
    t_r : float, optional
        Repetition time in seconds; read from the images' headers (GIFTI
        runs: their JSON sidecars) when None (a warning names any run whose
        header disagrees with a given value).
    method : {"lsa", "lss"}
        "lsa" (least-squares-all): one regressor per trial_type per run, all
        in one model; a stimulus is a (trial_type, run) and its pattern the
        beta of its regressor. "lss" (least-squares-separate, Mumford et al.
        2012): one model per event with that event as its own regressor and
        the others grouped by trial_type; a stimulus is an event.
    confounds : DataFrame, path or list of them, optional
        Nuisance regressors, one table per run (rows = volumes).
    sample_masks : list of int arrays, optional
        Volumes kept in each run (scrubbing); None keeps every volume.
    mask_img : path or Nifti1Image, optional
        Voxels to model. None computes one EPI mask from all runs together
        (:func:`nilearn.masking.compute_multi_epi_mask`), so that every run
        is modelled on the same voxels. Surface runs take no mask: vertices
        without signal (the medial wall) are left out by the analyses.
    hrf_model, drift_model, high_pass, smoothing_fwhm
        As in :class:`nilearn.glm.first_level.FirstLevelModel`.
    first_level_options : dict, optional
        Further arguments of ``FirstLevelModel`` (``noise_model="ols"``,
        ``signal_scaling=False``, ``standardize=True``...).
    mesh : str or dict
        GIFTI runs only: their mesh (see
        :func:`mlem_neuro.surface.load_midthickness`).
    verbose : bool

    Returns
    -------
    patterns : Nifti1Image or SurfaceImage
        4D, one volume per stimulus (beta estimates); for surface runs a
        ``SurfaceImage`` with one sample per stimulus.
    stimuli : DataFrame
        One row per volume of ``patterns``: trial_type, run (0-based), and
        for "lss" onset and event (the event's row in its run's events table).
    """
    check_option("method", method, ("lsa", "lss"))
    runs, sidecar_t_r = _load_runs(bold_imgs, mesh)
    on_surface = sidecar_t_r is not None
    if on_surface:
        t_r = surface_repetition_time(sidecar_t_r, t_r)
        if mask_img is not None:
            raise ValueError("mask_img applies to volume runs only; surface runs take no mask.")
    else:
        t_r = repetition_time(runs, t_r)
    tables = _load_events(events, len(runs))
    if mask_img is None and not on_surface:
        mask_img = common_epi_mask(runs)
    if confounds is not None:
        confounds = confounds if isinstance(confounds, (list, tuple)) else [confounds]
        if len(confounds) != len(runs):
            raise ValueError(
                f"confounds must give one table per run: got {len(confounds)} for {len(runs)} runs."
            )
    model_kwargs = dict(
        t_r=t_r,
        hrf_model=hrf_model,
        drift_model=drift_model,
        high_pass=high_pass,
        smoothing_fwhm=smoothing_fwhm,
        mask_img=mask_img,
        minimize_memory=True,
    )
    fixed = {"t_r", "mask_img"} & set(first_level_options or {})
    if fixed:
        raise ValueError(
            f"first_level_options cannot set {sorted(fixed)}: pass them as t_r and mask_img."
        )
    model_kwargs.update(first_level_options or {})
    design_options = {
        name: model_kwargs[name] for name in ("hrf_model", "drift_model", "high_pass")
    }
    tables = [
        check_run_design(table, img.shape[-1], t_r, run, design_options)
        for run, (img, table) in enumerate(zip(runs, tables))
    ]
    betas, rows = [], []
    with warnings.catch_warnings():
        # nilearn warns that a given mask wins over mask generation; that is the intent.
        warnings.filterwarnings("ignore", message=".*Generation of a mask has been requested")
        if on_surface:
            # Surface runs are modelled at every vertex, the constant medial wall included;
            # its divisions by zero give patterns that the analyses leave out.
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="nilearn")
            warnings.filterwarnings("ignore", message="Mean values of 0 observed")
        for run, (img, table) in enumerate(zip(runs, tables)):
            run_confounds = None if confounds is None else confounds[run]
            kept = None if sample_masks is None else sample_masks[run]
            estimate = _least_squares_all if method == "lsa" else _least_squares_separate
            try:
                run_betas, run_rows = estimate(img, table, run_confounds, kept, model_kwargs)
            except ValueError as error:
                raise ValueError(f"GLM of run {run} failed: {error}") from error
            betas += run_betas
            rows += [{**row, "run": run} for row in run_rows]
            logger.info("Run %d: %d patterns.", run, len(run_rows))
    return _concatenated(betas, on_surface), pd.DataFrame(rows)


def _load_runs(bold_imgs, mesh):
    """The runs as 4D images or SurfaceImages, and for surface runs their sidecar TRs.

    Returns
    -------
    runs : list of Nifti1Image or SurfaceImage
    sidecar_t_r : list of float or None, or None
        For surface runs, each run's RepetitionTime from its JSON sidecar.
    """
    from ..surface import load_surface_run, pair_hemisphere_files, sidecar_repetition_time

    if not isinstance(bold_imgs, (list, tuple)):
        bold_imgs = [bold_imgs]
    if all(str(item).endswith(".gii") for item in bold_imgs):
        pairs = pair_hemisphere_files(bold_imgs, "bold_imgs")
        runs = [load_surface_run(pair, mesh) for pair in pairs]
        return runs, [sidecar_repetition_time(left) for left, _ in pairs]
    if all(hasattr(item, "mesh") for item in bold_imgs):
        return list(bold_imgs), [None] * len(bold_imgs)
    runs = [image.load_img(img) for img in bold_imgs]
    for index, img in enumerate(runs):
        if len(img.shape) != 4:
            raise ValueError(f"bold_imgs[{index}] must be a 4D BOLD run, got shape {img.shape}.")
    return runs, None


def surface_repetition_time(found, t_r=None):
    """The TR of surface runs: ``t_r`` checked against their sidecars, or read from them."""
    known = [value for value in found if value is not None]
    if t_r is None and len(known) < len(found):
        raise ValueError(
            "t_r was not given and some surface runs have no JSON sidecar with a "
            "RepetitionTime; pass t_r (--t-r) in seconds."
        )
    if t_r is None and max(known) - min(known) > 0.01 * max(known):
        raise ValueError(f"The runs' sidecars give different repetition times {known}.")
    if t_r is None:
        return known[0]
    t_r = check_positive_float("t_r", t_r)
    if any(abs(value - t_r) > 0.01 * t_r for value in known):
        warn(
            f"t_r={t_r} s, but the runs' sidecars say {known}; the given t_r is used. Check "
            "which one is right: a wrong TR shifts every regressor."
        )
    return t_r


def _concatenated(betas, on_surface):
    """One image of every beta: 4D, or a SurfaceImage with one sample per beta."""
    if not on_surface:
        return image.concat_imgs(betas)
    from nilearn.surface import SurfaceImage

    hemispheres = betas[0].data.parts
    data = {h: np.column_stack([np.asarray(b.data.parts[h]) for b in betas]) for h in hemispheres}
    return SurfaceImage(mesh=betas[0].mesh, data=data)


#: Seconds per header time unit. A zoom in "unknown" units (nibabel's default, so what
#: many tools write) is no repetition time: 1.0 there may mean 1 s or nothing at all.
_SECONDS_PER_UNIT = {"sec": 1.0, "msec": 1e-3, "usec": 1e-6}


def header_repetition_time(img):
    """Repetition time in seconds from a 4D image's header.

    Returns
    -------
    float or None
        None when the header has no time zoom, or gives it in unknown units.
    """
    zooms = img.header.get_zooms()
    if len(zooms) < 4 or not zooms[3] > 0:
        return None
    _, time_unit = img.header.get_xyzt_units()
    if time_unit not in _SECONDS_PER_UNIT:
        return None
    return float(zooms[3]) * _SECONDS_PER_UNIT[time_unit]


def repetition_time(runs, t_r=None):
    """The TR of the runs: ``t_r`` checked against the headers, or read from them.

    Parameters
    ----------
    runs : list of 4D Nifti1Image
    t_r : float, optional

    Returns
    -------
    float
    """
    found = [header_repetition_time(img) for img in runs]
    if t_r is not None:
        t_r = check_positive_float("t_r", t_r)
        differ = {
            run: value
            for run, value in enumerate(found)
            if value is not None and abs(value - t_r) > 0.01 * t_r
        }
        if differ:
            headers = ", ".join(f"run {run}: {value:g} s" for run, value in differ.items())
            warn(
                f"t_r={t_r} s, but the headers say otherwise ({headers}); the given t_r is "
                "used. Check which one is right: a wrong TR shifts every regressor."
            )
        return t_r
    if any(value is None for value in found):
        missing = [run for run, value in enumerate(found) if value is None]
        raise ValueError(
            f"t_r was not given and the header of run(s) {missing} carries no repetition "
            "time in known units (a time zoom with units 'unknown' is not trusted); pass t_r "
            "(--t-r) in seconds."
        )
    if max(found) - min(found) > 0.01 * max(found):
        raise ValueError(
            f"The runs' headers give different repetition times {found}; pass t_r (--t-r) "
            "if they are really the same, or model the runs separately."
        )
    return found[0]


def common_epi_mask(runs):
    """One EPI mask computed from every run together (nilearn), for all runs.

    Morphological opening removes small clusters; on coarse images (a few
    voxels across) it erases the brain, so it is dropped when it would leave
    no voxel.
    """
    from nilearn.masking import compute_multi_epi_mask

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Computed an empty mask")
        for opening in (2, 0):
            mask = compute_multi_epi_mask(runs, opening=opening)
            if np.asarray(mask.dataobj).any():
                return mask
    raise ValueError(
        "No voxel passed nilearn's EPI mask heuristic on these runs; give a brain mask "
        "(mask_img, --mask) in the space of the runs."
    )


def _least_squares_all(img, table, confounds, sample_mask, model_kwargs):
    """One beta map per trial_type of one run, from one model."""
    events = table[["onset", "duration", "trial_type"]].astype({"trial_type": str})
    model = FirstLevelModel(**model_kwargs).fit(
        img, events=events, confounds=confounds, sample_masks=sample_mask
    )
    trial_types = sorted(events["trial_type"].unique())
    betas = [model.compute_contrast(name, output_type="effect_size") for name in trial_types]
    return betas, [{"trial_type": name} for name in trial_types]


def _least_squares_separate(img, table, confounds, sample_mask, model_kwargs):
    """One beta map per event of one run, from one model per event."""
    betas, rows = [], []
    for index, event in table.iterrows():
        events = table[["onset", "duration", "trial_type"]].astype({"trial_type": str})
        events.loc[index, "trial_type"] = _TARGET
        model = FirstLevelModel(**model_kwargs).fit(
            img, events=events, confounds=confounds, sample_masks=sample_mask
        )
        betas.append(model.compute_contrast(_TARGET, output_type="effect_size"))
        # The event's row in its run's table identifies it; onsets need not be unique.
        row = {"trial_type": str(event["trial_type"]), "onset": event["onset"], "event": index}
        rows.append(row)
    return betas, rows


def save_patterns(
    out_dir, patterns, stimuli, *, bold_imgs=None, mask_img=None, parameters=None, overwrite=False
):
    """Write patterns.nii.gz, stimuli.tsv, summary.json and, when given, the mask and background.

    Surface patterns are written as ``patterns_hemi-L.func.gii`` and
    ``patterns_hemi-R.func.gii`` (one data array per stimulus), without mask
    or background.

    Parameters
    ----------
    out_dir : str, Path or ResultFolder
    patterns : Nifti1Image or SurfaceImage
        4D, or one sample per stimulus, from :func:`estimate_patterns`.
    stimuli : DataFrame
        One row per volume of ``patterns``.
    bold_imgs : list of images, optional
        The runs; the mean of the first is written as mean_bold.nii.gz, the
        background of later figures.
    mask_img : image, optional
        The voxels modelled, written as mask.nii.gz (default: the voxels
        whose patterns are finite and not all zero).
    parameters : dict, optional
        Extra entries for summary.json.
    overwrite : bool

    Returns
    -------
    Path
    """
    with open_result_folder(out_dir, "patterns", overwrite=overwrite) as folder:
        folder.write_table("stimuli", stimuli)
        if hasattr(patterns, "mesh"):
            from ..surface import write_surface_map

            write_surface_map(folder, "patterns", patterns)
            folder.update_summary(n_patterns=int(patterns.shape[1]), **(parameters or {}))
            return folder.path
        folder.write_map("patterns", patterns)
        if bold_imgs:
            first = bold_imgs[0] if isinstance(bold_imgs, (list, tuple)) else bold_imgs
            folder.write_map("mean_bold", image.mean_img(first, copy_header=True))
        mask = data_mask(patterns) if mask_img is None else image.load_img(mask_img)
        folder.write_map("mask", mask)
        folder.update_summary(
            n_patterns=int(patterns.shape[3]),
            trial_types=sorted(stimuli["trial_type"].astype(str).unique()),
            **(parameters or {}),
        )
    return folder.path
