"""MLEM in a sphere around every voxel: score, importance and weight maps in the input space."""

import dataclasses
import time

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import masking

from ..core import FitOptions, UnitResults, check_feature_rows, fit_units, recorded_warnings, warn
from ..outputs import fit_parameters, open_result_folder
from ..units import searchlight_spheres
from .images import load_background, load_mask, load_patterns

__all__ = [
    "SearchlightResult",
    "SearchlightInputs",
    "searchlight",
    "searchlight_inputs",
    "searchlight_result",
]


def _warn_if_spheres_cover_the_mask(membership, radius):
    n_voxels = membership.shape[1]
    smallest = int(np.asarray(membership.sum(axis=1)).min())
    if n_voxels > 1 and smallest == n_voxels:
        warn(
            f"radius={radius:g} mm: every sphere holds the whole mask ({n_voxels} voxels), so "
            "every sphere is the same unit and the maps are constant. Use a radius of a few "
            "voxels."
        )


def unit_values_img(values, mask_img):
    """A 3D image holding one value per mask voxel, NaN outside the mask."""
    img = masking.unmask(np.asarray(values, dtype=np.float32), mask_img)
    data = np.asarray(img.dataobj).copy()
    data[np.asarray(mask_img.dataobj) == 0] = np.nan
    return nib.Nifti1Image(data, mask_img.affine)


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
        Sphere radius in mm.
    parameters : dict
        How the analysis was run (for summary.json).
    bg_img : Nifti1Image or None
        Anatomical (or mean functional) image for figures.
    """

    score_img: nib.Nifti1Image
    importance_imgs: dict
    weight_imgs: dict
    mask_img: nib.Nifti1Image
    results: UnitResults
    radius: float
    parameters: dict = dataclasses.field(default_factory=dict)
    bg_img: nib.Nifti1Image | None = None

    @classmethod
    def from_stored(cls, stored):
        """The result of a searchlight folder read by :func:`mlem_neuro.outputs.read_result`."""
        results = stored.unit_results()

        def maps(prefix):
            return {term: stored.map(f"{prefix}_{term}") for term in results.term_names}

        return cls(
            score_img=stored.map("score"),
            importance_imgs=maps("importance"),
            weight_imgs=maps("weight"),
            mask_img=stored.map("mask"),
            results=results,
            radius=stored.summary["radius_mm"],
            parameters=stored.summary,
            bg_img=stored.map("background") if stored.has("background.nii.gz") else None,
        )

    def sphere_centres(self):
        """World coordinates (mm) of each sphere's centre: array of shape (n_spheres, 3)."""
        voxels = np.argwhere(np.asarray(self.mask_img.dataobj) > 0)
        return nib.affines.apply_affine(self.mask_img.affine, voxels)

    def save(self, out_dir, parameters=None, *, overwrite=False):
        """Write the maps, units.npz, searchlight.png and summary.json.

        Files: score.nii.gz, importance_<term>.nii.gz, weight_<term>.nii.gz
        (interaction terms "a:b" written ``a_x_b``), mask.nii.gz and, when
        given, background.nii.gz.

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
            The folder is written whole at the end (see
            :class:`mlem_neuro.outputs.ResultFolder`).
        parameters : dict, optional
            Extra entries for summary.json.
        overwrite : bool
            Replace a non-empty ``out_dir``.

        Returns
        -------
        Path
            The output folder.
        """
        from .plotting import plot_searchlight

        with open_result_folder(out_dir, "searchlight", overwrite=overwrite) as folder:
            folder.write_map("score", self.score_img)
            for prefix, imgs in (
                ("importance", self.importance_imgs),
                ("weight", self.weight_imgs),
            ):
                for term, img in imgs.items():
                    folder.write_map(f"{prefix}_{term}", img)
            folder.write_map("mask", self.mask_img)
            if self.bg_img is not None:
                folder.write_map("background", self.bg_img)
            folder.write_units(self.results)
            folder.write_figure("searchlight", plot_searchlight(self))
            folder.update_summary(
                radius_mm=self.radius,
                n_spheres=int(len(self.results.scores)),
                max_score=float(np.nanmax(self.results.scores)),
                **self.parameters,
                **(parameters or {}),
            )
        return folder.path


def searchlight(
    patterns,
    features,
    mask_img=None,
    radius=6.0,
    *,
    options=None,
    cv=None,
    groups=None,
    bg_img=None,
    checkpoint=None,
    **settings,
):
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
    options : FitOptions, optional
        Fit settings (see :class:`mlem_neuro.FitOptions`).
    cv : None, int, splitter or iterable of (train, test)
        Cross-validation over stimuli, as in :func:`mlem_neuro.fit_units`;
        with ``groups`` set to the runs, scores never mix runs within a pair.
    groups : array of shape (n_volumes,), optional
        Run or session of each volume.
    bg_img : 3D image, optional
        Background for figures (an anatomical or mean functional image in
        the space of the patterns).
    checkpoint : str or Path, optional
        Folder for finished chunks of spheres: an interrupted searchlight
        run again with the same inputs resumes there (see
        :func:`mlem_neuro.fit_units`).
    **settings
        Fields of :class:`mlem_neuro.FitOptions` replacing those of
        ``options`` (``random_state=0``...).

    Returns
    -------
    SearchlightResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    with recorded_warnings() as messages:
        inputs = searchlight_inputs(patterns, features, mask_img, radius)
        results = fit_units(
            inputs.features,
            inputs.Y,
            inputs.spheres,
            options=options,
            cv=cv,
            groups=groups,
            checkpoint=checkpoint,
        )
    parameters = fit_parameters(options, cv, groups, len(inputs.features), started)
    parameters["warnings"] = messages
    background = None if bg_img is None else load_background(bg_img, inputs.patterns_img)
    return searchlight_result(results, inputs.mask_img, radius, parameters, background)


@dataclasses.dataclass
class SearchlightInputs:
    """What a searchlight fits: the masked patterns and the spheres.

    Attributes
    ----------
    Y : array of shape (n_stimuli, n_mask_voxels)
    spheres : sparse array of shape (n_mask_voxels, n_mask_voxels)
        Row k: the members of the sphere centred on the k-th mask voxel.
    mask_img : Nifti1Image
    features : DataFrame of shape (n_stimuli, n_features)
    patterns_img : Nifti1Image
    """

    Y: np.ndarray
    spheres: object
    mask_img: nib.Nifti1Image
    features: pd.DataFrame
    patterns_img: nib.Nifti1Image


def searchlight_inputs(patterns, features, mask_img, radius):
    """Load and check the patterns, mask and features; build the spheres.

    Parameters are those of :func:`searchlight`.

    Returns
    -------
    SearchlightInputs
    """
    patterns_img = load_patterns(patterns)
    features = check_feature_rows(features, patterns_img.shape[3])
    mask = load_mask(mask_img, patterns_img)
    spheres = searchlight_spheres(np.asarray(mask.dataobj).astype(bool), mask.affine, radius)
    _warn_if_spheres_cover_the_mask(spheres, radius)
    Y = masking.apply_mask(patterns_img, mask)
    return SearchlightInputs(Y, spheres, mask, features, patterns_img)


def searchlight_result(results, mask_img, radius, parameters, bg_img=None):
    """The maps of fitted spheres (one unit per mask voxel, in mask order).

    Parameters
    ----------
    results : UnitResults
    mask_img : Nifti1Image
    radius : float
    parameters : dict
    bg_img : Nifti1Image, optional

    Returns
    -------
    SearchlightResult
    """
    weights = results.term_weights()
    return SearchlightResult(
        score_img=unit_values_img(results.scores, mask_img),
        importance_imgs={
            term: unit_values_img(results.importances[term], mask_img)
            for term in results.term_names
        },
        weight_imgs={term: unit_values_img(weights[term], mask_img) for term in results.term_names},
        mask_img=mask_img,
        results=results,
        radius=float(radius),
        parameters=parameters,
        bg_img=bg_img,
    )
