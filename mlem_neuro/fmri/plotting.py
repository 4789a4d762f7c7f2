"""Figures of fMRI results: maps on a background, and region bars."""

import nibabel as nib
import numpy as np

__all__ = [
    "plot_searchlight",
    "plot_map_rows",
    "plot_regions",
    "mask_cut_coords",
    "background",
]

MAX_TERMS_SHOWN = 6


def mask_cut_coords(mask_img, n_cuts=5):
    """World z coordinates of ``n_cuts`` axial slices through the mask, away from its edges."""
    mask = np.asarray(mask_img.dataobj) > 0
    slices = np.flatnonzero(mask.any(axis=(0, 1)))
    if len(slices) > 2 * n_cuts:  # leave out the first and last sixth: small caps of the brain
        slices = slices[len(slices) // 6 : len(slices) - len(slices) // 6]
    picks = slices[np.unique(np.linspace(0, len(slices) - 1, n_cuts).round().astype(int))]
    centre = np.argwhere(mask).mean(axis=0)
    voxels = [[centre[0], centre[1], index] for index in picks]
    return list(nib.affines.apply_affine(mask_img.affine, voxels)[:, 2])


def plot_map_rows(rows, mask_img, bg_img=None, title=None):
    """One row of axial slices per map, each with its labelled colour bar.

    Parameters
    ----------
    rows : list of (Nifti1Image, str, str)
        Map, row title and colour-bar label.
    mask_img : Nifti1Image
        Voxels analysed; slices are chosen among those that hold some.
    bg_img : Nifti1Image, optional
        Anatomical or mean functional background; the mask's silhouette
        when None.
    title : str, optional

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from nilearn import image, plotting

    cuts = mask_cut_coords(mask_img)
    background = mask_img if bg_img is None else bg_img
    figure, axes = plt.subplots(
        len(rows), 2, figsize=(10, 2.5 * len(rows) + 0.5), width_ratios=[30, 1], squeeze=False
    )
    for (img, name, label), (axis, bar) in zip(rows, axes):
        values = img.get_fdata()
        limit = float(np.nanmax(np.abs(values))) or 1.0
        finite = image.new_img_like(img, np.nan_to_num(values))
        display = plotting.plot_stat_map(
            finite,
            bg_img=background,
            display_mode="z",
            cut_coords=cuts,
            cmap="RdBu_r",
            vmax=limit,
            colorbar=False,
            axes=axis,
            black_bg=False,
            annotate=False,
            draw_cross=False,
        )
        display.title(name, color="black", bgcolor="white", size=11, alpha=0.8)
        figure.colorbar(ScalarMappable(Normalize(-limit, limit), "RdBu_r"), cax=bar, label=label)
    if title:
        figure.suptitle(title)
    return figure


def plot_searchlight(result, max_terms=MAX_TERMS_SHOWN):
    """Score map and the importance map of each term (the largest ``max_terms``).

    Parameters
    ----------
    result : SearchlightResult

    Returns
    -------
    matplotlib Figure
    """
    cross_validated = result.results.fold_scores is not None
    score_label = "held-out Spearman" if cross_validated else "in-sample Spearman"
    importances = result.results.importances
    strongest = importances.max().sort_values(ascending=False).index[:max_terms]
    rows = [(result.score_img, "score", score_label)]
    rows += [
        (result.importance_imgs[term], f"importance of {term}", "drop in Spearman")
        for term in strongest
    ]
    return plot_map_rows(
        rows,
        result.mask_img,
        background(result.bg_img, result.parameters.get("space")),
        title=f"MLEM searchlight, {result.radius:g} mm spheres",
    )


def background(bg_img, space):
    """The image to draw maps on: the given one, else the MNI template for MNI spaces."""
    if bg_img is not None or not str(space or "").upper().startswith("MNI"):
        return bg_img
    from nilearn.datasets import load_mni152_template

    return load_mni152_template(resolution=2)


def plot_regions(table, max_regions=30):
    """Score and term importances of each region (the ``max_regions`` best scores).

    Parameters
    ----------
    table : DataFrame
        From :meth:`RoiResult.to_dataframe`.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    best = table.nlargest(max_regions, "score").iloc[::-1]
    terms = [column for column in table.columns if column.startswith("importance_")]
    height = 1.25 + 0.25 * len(best)  # quarter inches: whole pixels at any dpi
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(10, height), sharey=True, constrained_layout=True
    )
    positions = np.arange(len(best))
    labels = [str(label) for label in best["label"]]
    left.barh(positions, best["score"], color="0.3")
    left.set_yticks(positions, labels)
    left.set_ylabel("region (atlas label)")
    left.set_xlabel("Spearman score")
    left.set_title("score")
    width = 0.8 / max(len(terms), 1)
    for index, column in enumerate(terms):
        offset = (index - (len(terms) - 1) / 2) * width
        right.barh(
            positions + offset,
            best[column],
            height=width,
            label=column.removeprefix("importance_"),
        )
    right.set_xlabel("importance (drop in Spearman)")
    right.set_title("permutation importance")
    right.legend(fontsize="small", loc="lower right")
    for axis in (left, right):
        axis.axvline(0, color="grey", linewidth=0.5)
    return figure
