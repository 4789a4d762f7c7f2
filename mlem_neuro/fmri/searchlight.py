"""MLEM searchlight and ROI analyses on fMRI patterns: maps and tables in the input space."""

import dataclasses
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import masking

from ..core import UnitResults, fit_units
from ..units import label_units, searchlight_spheres
from .images import load_atlas, load_mask, load_patterns

__all__ = ["SearchlightResult", "searchlight", "roi_analysis"]


def _check_features(features, n_volumes):
    if not isinstance(features, pd.DataFrame):
        raise TypeError(
            f"features must be a DataFrame with one row per volume, got {type(features).__name__}."
        )
    if len(features) != n_volumes:
        raise ValueError(
            f"features has {len(features)} rows but the patterns have {n_volumes} volumes; "
            "give one row per volume, in volume order."
        )
    return features.reset_index(drop=True)


def _safe_name(term):
    return term.replace(":", "_x_").replace("/", "-").replace(" ", "_")


@dataclasses.dataclass
class SearchlightResult:
    """Maps of a searchlight MLEM, in the space of the patterns.

    Voxels outside the mask are NaN in every map.

    Attributes
    ----------
    score_img : Nifti1Image
        Spearman correlation of the sphere centred on each voxel
        (cross-validated when ``cv`` was given).
    importance_imgs : dict of str to Nifti1Image
        Permutation importance of each term ("a:b" for interactions).
    weight_imgs : dict of str to Nifti1Image
        Learned weight of each term in ``d^T W d`` (``W_ff`` for features,
        ``2 W_ab`` for interactions), metric at unit Frobenius norm.
    mask_img : Nifti1Image
    results : UnitResults
        The per-sphere arrays, in mask-voxel order.
    radius : float
    """

    score_img: nib.Nifti1Image
    importance_imgs: dict
    weight_imgs: dict
    mask_img: nib.Nifti1Image
    results: UnitResults
    radius: float

    def save(self, out_dir, parameters=None):
        """Write score.nii.gz, importance_<term>.nii.gz, weight_<term>.nii.gz, summary.json.

        Interaction terms "a:b" are written as ``a_x_b``.

        Parameters
        ----------
        out_dir : str or Path
        parameters : dict, optional
            Extra entries for summary.json (command-line arguments...).

        Returns
        -------
        Path
            The output folder.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self.score_img.to_filename(out_dir / "score.nii.gz")
        for term, img in self.importance_imgs.items():
            img.to_filename(out_dir / f"importance_{_safe_name(term)}.nii.gz")
        for term, img in self.weight_imgs.items():
            img.to_filename(out_dir / f"weight_{_safe_name(term)}.nii.gz")
        summary = {
            "radius_mm": self.radius,
            "n_spheres": int(len(self.results.scores)),
            "features": self.results.feature_names,
            "terms": self.results.term_names,
            "max_score": float(np.nanmax(self.results.scores)),
            "fit_info": self.results.info,
            **(parameters or {}),
        }
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return out_dir


def searchlight(patterns, features, mask_img=None, radius=6.0, **fit_kwargs):
    """MLEM in a sphere around every voxel of a mask, all spheres fitted at once.

    Parameters
    ----------
    patterns : 4D image or list of 3D images
        One volume per stimulus (e.g. from :func:`estimate_patterns`).
    features : DataFrame of shape (n_volumes, n_features)
        Features of the stimulus of each volume.
    mask_img : 3D image or None
        Voxels to centre spheres on and to take their members from (same
        shape and affine as the patterns). None keeps the voxels whose
        patterns are finite and not all zero.
    radius : float
        Sphere radius in mm.
    **fit_kwargs
        Passed to :func:`mlem_neuro.fit_units`: interactions, distance, cv,
        groups (``cv`` with ``groups`` set to the runs gives scores that never
        mix runs within a pair), device, random_state, n_repeats,
        units_per_chunk, verbose...

    Returns
    -------
    SearchlightResult
    """
    patterns_img = load_patterns(patterns)
    features = _check_features(features, patterns_img.shape[3])
    mask = load_mask(mask_img, patterns_img)
    membership = searchlight_spheres(np.asarray(mask.dataobj).astype(bool), mask.affine, radius)
    Y = masking.apply_mask(patterns_img, mask)
    results = fit_units(features, Y, membership, **fit_kwargs)
    weights = results.term_weights()

    def to_img(values):
        img = masking.unmask(values.astype(np.float32), mask)
        data = np.asarray(img.dataobj).copy()
        data[np.asarray(mask.dataobj) == 0] = np.nan
        return nib.Nifti1Image(data, mask.affine)

    return SearchlightResult(
        score_img=to_img(results.scores),
        importance_imgs={
            term: to_img(results.importances[term].to_numpy()) for term in results.term_names
        },
        weight_imgs={term: to_img(weights[term].to_numpy()) for term in results.term_names},
        mask_img=mask,
        results=results,
        radius=float(radius),
    )


def roi_analysis(patterns, features, atlas_img, mask_img=None, **fit_kwargs):
    """MLEM in every region of a label image, all regions fitted at once.

    Parameters
    ----------
    patterns : 4D image or list of 3D images
    features : DataFrame of shape (n_volumes, n_features)
    atlas_img : 3D label image
        Integer labels, 0 for background; a binary mask gives one region.
    mask_img : 3D image or None
        Restricts the regions to these voxels; None uses the atlas alone.
    **fit_kwargs
        As in :func:`searchlight`.

    Returns
    -------
    DataFrame
        One row per label: label, n_voxels, score, importance_<term>...,
        weight_<term>...
    """
    patterns_img = load_patterns(patterns)
    features = _check_features(features, patterns_img.shape[3])
    atlas = load_atlas(atlas_img, patterns_img)
    labels = np.asarray(atlas.dataobj)
    within = labels != 0
    if mask_img is not None:
        within &= np.asarray(load_mask(mask_img, patterns_img).dataobj).astype(bool)
    region_mask = nib.Nifti1Image(within.astype(np.uint8), atlas.affine)
    names, units = label_units(labels[within])
    Y = masking.apply_mask(patterns_img, region_mask)
    results = fit_units(features, Y, units, **fit_kwargs)
    table = results.to_dataframe()
    table = pd.concat([table, results.term_weights().add_prefix("weight_")], axis=1)
    table.insert(0, "n_voxels", [len(unit) for unit in units])
    table.insert(0, "label", names)
    return table
