"""Surface maps on the inflated cortex: lateral and medial views of both hemispheres."""

import numpy as np

from .inputs import HEMISPHERES

__all__ = ["plot_surface_map"]

VIEWS = ("lateral", "medial")


def plot_surface_map(img, mesh="fsaverage5", title="score", cmap="RdBu_r", threshold=None):
    """Lateral and medial views of both hemispheres of a map, on a 2 x 2 grid.

    Parameters
    ----------
    img : nilearn.surface.SurfaceImage
        One value per vertex (NaN where there is none).
    mesh : str or dict
        fsaverage meshes are drawn inflated over their sulcal depth; the
        subject's own surfaces are drawn as they are, the map's own mesh.
    title : str
    cmap : str
        A diverging map is drawn symmetric around 0; with ``threshold``, the
        scale runs from the threshold to the largest value.
    threshold : float, optional
        Draw only vertices at or above this value (-log10 p maps: 1.3 for p < 0.05).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from nilearn import plotting

    surfaces, background = _display_mesh(img, mesh)
    values = np.concatenate([np.asarray(img.data.parts[h], dtype=float) for h in HEMISPHERES])
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    low = -limit if threshold is None else threshold
    limit = limit if threshold is None else max(limit, threshold + 1e-6)
    figure, axes = plt.subplots(
        2, 2, figsize=(8, 6), subplot_kw={"projection": "3d"}, constrained_layout=True
    )
    for column, hemisphere in enumerate(HEMISPHERES):
        for row, view in enumerate(VIEWS):
            plotting.plot_surf_stat_map(
                surfaces.parts[hemisphere],
                np.asarray(img.data.parts[hemisphere], dtype=float),
                bg_map=None if background is None else background[hemisphere],
                hemi=hemisphere,
                view=view,
                cmap=cmap,
                vmin=low,
                vmax=limit,
                threshold=threshold,
                colorbar=False,
                axes=axes[row, column],
                figure=figure,
            )
            axes[row, column].set_title(f"{hemisphere}, {view}", fontsize="small")
    mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(low, limit))
    figure.colorbar(mappable, ax=axes, shrink=0.6, label=title)
    return figure


def _display_mesh(img, mesh):
    """The mesh to draw on and its background: inflated fsaverage with sulcal depth."""
    if not isinstance(mesh, str):
        return img.mesh, None
    from nilearn.datasets import load_fsaverage, load_fsaverage_data

    inflated = load_fsaverage(mesh)["inflated"]
    sulcal = load_fsaverage_data(mesh, mesh_type="inflated", data_type="sulcal")
    return inflated, {h: np.asarray(sulcal.data.parts[h]) for h in HEMISPHERES}
