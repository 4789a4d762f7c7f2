"""MLEM in every region of an atlas, all regions fitted at once."""

import dataclasses
import time

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import masking

from ..core import FitOptions, UnitResults, check_feature_rows, fit_units, recorded_warnings, warn
from ..outputs import fit_parameters, open_result_folder
from ..units import label_units, warn_about_small_regions
from .images import data_mask, load_atlas, load_mask, load_patterns

__all__ = ["RoiResult", "roi_analysis"]


@dataclasses.dataclass
class RoiResult:
    """What MLEM found in every region of an atlas.

    Attributes
    ----------
    labels : array of shape (n_regions,)
        Atlas label of each region.
    n_voxels : array of shape (n_regions,)
        Voxels fitted in each region.
    n_voxels_without_data : array of shape (n_regions,)
        Voxels of each region (within the mask) left out because their
        patterns are NaN, or zero for every stimulus, as the searchlight
        leaves them out.
    results : UnitResults
        Per-region arrays, in the order of ``labels``.
    parameters : dict
        How the analysis was run (for summary.json).
    """

    labels: np.ndarray
    n_voxels: np.ndarray
    n_voxels_without_data: np.ndarray
    results: UnitResults
    parameters: dict = dataclasses.field(default_factory=dict)

    def to_dataframe(self):
        """One row per region: label, n_voxels, n_voxels_without_data, score, importance_<term>...

        Then weight_<term>... columns.

        Returns
        -------
        DataFrame
        """
        table = self.results.to_dataframe()
        table = pd.concat([table, self.results.term_weights().add_prefix("weight_")], axis=1)
        table.insert(0, "n_voxels_without_data", self.n_voxels_without_data)
        table.insert(0, "n_voxels", self.n_voxels)
        table.insert(0, "label", self.labels)
        return table

    @classmethod
    def from_stored(cls, stored):
        """The result of an roi result folder (see :func:`mlem_neuro.outputs.read_result`)."""
        table = stored.table("roi")
        return cls(
            labels=table["label"].to_numpy(),
            n_voxels=table["n_voxels"].to_numpy(),
            n_voxels_without_data=table["n_voxels_without_data"].to_numpy(),
            results=stored.unit_results(),
            parameters=stored.summary,
        )

    def save(self, out_dir, *, overwrite=False):
        """Write roi.tsv, units.npz, roi.png and summary.json.

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        overwrite : bool

        Returns
        -------
        Path
        """
        from .plotting import plot_regions

        with open_result_folder(out_dir, "roi", overwrite=overwrite) as folder:
            folder.write_table("roi", self.to_dataframe())
            folder.write_units(self.results)
            folder.write_figure("roi", plot_regions(self.to_dataframe()))
            folder.update_summary(n_regions=len(self.labels), **self.parameters)
        return folder.path


def roi_analysis(
    patterns,
    features,
    atlas_img,
    mask_img=None,
    *,
    options=None,
    cv=None,
    groups=None,
    checkpoint=None,
    **settings,
):
    """MLEM in every region of a label image, all regions fitted at once.

    Parameters
    ----------
    patterns : 4D image or list of 3D images
    features : DataFrame of shape (n_volumes, n_features)
    atlas_img : 3D label image
        Integer labels, 0 for background; a binary mask gives one region.
    mask_img : 3D image or None
        Restricts the regions to these voxels; None uses the atlas alone.
    options : FitOptions, optional
    cv, groups, checkpoint
        As in :func:`mlem_neuro.fmri.searchlight`.
    **settings
        Fields of :class:`mlem_neuro.FitOptions`.

    Returns
    -------
    RoiResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    with recorded_warnings() as messages:
        patterns_img = load_patterns(patterns)
        features = check_feature_rows(features, patterns_img.shape[3])
        atlas = load_atlas(atlas_img, patterns_img)
        labels = np.asarray(atlas.dataobj)
        in_regions = labels != 0
        if mask_img is not None:
            in_regions &= np.asarray(load_mask(mask_img, patterns_img).dataobj).astype(bool)
        with_data = np.asarray(data_mask(patterns_img).dataobj).astype(bool)
        within = in_regions & with_data
        region_mask = nib.Nifti1Image(within.astype(np.uint8), atlas.affine)
        names, units = label_units(labels[within])
        without_data = _count_voxels_without_data(labels, in_regions, with_data, names)
        warn_about_small_regions(names, units, features.shape[1])
        Y = masking.apply_mask(patterns_img, region_mask)
        results = fit_units(
            features, Y, units, options=options, cv=cv, groups=groups, checkpoint=checkpoint
        )
    parameters = fit_parameters(options, cv, groups, len(features), started)
    parameters["warnings"] = messages
    sizes = np.array([len(unit) for unit in units])
    return RoiResult(names, sizes, without_data, results, parameters)


def _count_voxels_without_data(labels, in_regions, with_data, fitted):
    """Voxels of each fitted region left out for lack of data; warns about every loss.

    Returns
    -------
    array of shape (n_fitted,)
    """
    missing = labels[in_regions & ~with_data]
    found, counts = np.unique(missing, return_counts=True)
    by_label = dict(zip(found.tolist(), counts.tolist()))
    empty = sorted(set(np.unique(labels[in_regions]).tolist()) - set(np.asarray(fitted).tolist()))
    if missing.size:
        listed = ", ".join(f"{label}: {count}" for label, count in list(by_label.items())[:5])
        warn(
            f"{missing.size} voxel(s) of the regions have no data (NaN, or zero for every "
            f"stimulus) and are left out, as the searchlight leaves them out ({listed}"
            f"{'...' if len(by_label) > 5 else ''})."
            + (f" Region(s) {empty[:5]} have no voxel left and are not fitted." if empty else "")
        )
    return np.array([by_label.get(label, 0) for label in np.asarray(fitted).tolist()])
