"""Per-stimulus patterns (beta maps) from BOLD runs and events, with nilearn's GLM."""

import logging
import warnings

import pandas as pd
from nilearn import image
from nilearn.glm.first_level import FirstLevelModel

from ..core import check_option, check_positive_float

__all__ = ["estimate_patterns"]

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
    t_r,
    *,
    method="lsa",
    confounds=None,
    mask_img=None,
    hrf_model="glover",
    drift_model="cosine",
    high_pass=0.01,
    smoothing_fwhm=None,
    verbose=False,
):
    """Beta maps of every stimulus from BOLD runs, with nilearn's first-level GLM.

    Parameters
    ----------
    bold_imgs : path, Nifti1Image or list of them
        One 4D BOLD image per run.
    events : DataFrame, path to a TSV, or list of them
        One BIDS events table per run, with columns onset, duration (seconds)
        and trial_type.
    t_r : float
        Repetition time in seconds.
    method : {"lsa", "lss"}
        "lsa" (least-squares-all): one regressor per trial_type per run, all
        in one model; a stimulus is a (trial_type, run) and its pattern the
        beta of its regressor. "lss" (least-squares-separate, Mumford et al.
        2012): one model per event with that event as its own regressor and
        the others grouped by trial_type; a stimulus is an event.
    confounds : DataFrame, path or list of them, optional
        Nuisance regressors, one table per run (rows = volumes).
    mask_img : path or Nifti1Image, optional
        Passed to the GLM; None lets nilearn compute an EPI mask.
    hrf_model, drift_model, high_pass, smoothing_fwhm
        As in :class:`nilearn.glm.first_level.FirstLevelModel`.
    verbose : bool

    Returns
    -------
    patterns : Nifti1Image
        4D, one volume per stimulus (beta estimates).
    stimuli : DataFrame
        One row per volume of ``patterns``: trial_type, run (0-based), and
        for "lss" onset.
    """
    check_option("method", method, ("lsa", "lss"))
    t_r = check_positive_float("t_r", t_r)
    if not isinstance(bold_imgs, (list, tuple)):
        bold_imgs = [bold_imgs]
    runs = [image.load_img(img) for img in bold_imgs]
    for index, img in enumerate(runs):
        if len(img.shape) != 4:
            raise ValueError(f"bold_imgs[{index}] must be a 4D BOLD run, got shape {img.shape}.")
    tables = _load_events(events, len(runs))
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
    betas, rows = [], []
    with warnings.catch_warnings():
        # nilearn warns that a given mask wins over mask generation; that is the intent.
        warnings.filterwarnings("ignore", message=".*Generation of a mask has been requested")
        for run, (img, table) in enumerate(zip(runs, tables)):
            run_confounds = None if confounds is None else confounds[run]
            if method == "lsa":
                run_betas, run_rows = _least_squares_all(img, table, run_confounds, model_kwargs)
            else:
                run_betas, run_rows = _least_squares_separate(
                    img, table, run_confounds, model_kwargs
                )
            betas += run_betas
            rows += [{**row, "run": run} for row in run_rows]
            logger.info("Run %d: %d patterns.", run, len(run_rows))
    return image.concat_imgs(betas), pd.DataFrame(rows)


def _least_squares_all(img, table, confounds, model_kwargs):
    """One beta map per trial_type of one run, from one model."""
    events = table[["onset", "duration", "trial_type"]].astype({"trial_type": str})
    model = FirstLevelModel(**model_kwargs).fit(img, events=events, confounds=confounds)
    trial_types = sorted(events["trial_type"].unique())
    betas = [model.compute_contrast(name, output_type="effect_size") for name in trial_types]
    return betas, [{"trial_type": name} for name in trial_types]


def _least_squares_separate(img, table, confounds, model_kwargs):
    """One beta map per event of one run, from one model per event."""
    betas, rows = [], []
    for index, event in table.iterrows():
        events = table[["onset", "duration", "trial_type"]].astype({"trial_type": str})
        events.loc[index, "trial_type"] = _TARGET
        model = FirstLevelModel(**model_kwargs).fit(img, events=events, confounds=confounds)
        betas.append(model.compute_contrast(_TARGET, output_type="effect_size"))
        rows.append({"trial_type": str(event["trial_type"]), "onset": event["onset"]})
    return betas, rows
