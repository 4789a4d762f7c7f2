"""MLEM in every region of a surface atlas, both hemispheres, all regions fitted at once."""

import dataclasses
import time
import typing

import numpy as np
import pandas as pd

from ..core import FitOptions, UnitResults, fit_units, recorded_warnings, warn
from ..outputs import fit_parameters, open_result_folder
from ..units import warn_about_small_regions
from .atlas import load_surface_atlas
from .inputs import HEMISPHERES, load_midthickness, load_surface_inputs
from .maps import surface_image
from .searchlight import vertices_with_signal

__all__ = ["SurfaceRoiResult", "roi_analysis"]

#: Prefix of each hemisphere's region labels in tables ("L_superiortemporal").
LABEL_PREFIXES = {"left": "L_", "right": "R_"}


@dataclasses.dataclass
class SurfaceRoiResult:
    """What MLEM found in every region of a surface atlas.

    Attributes
    ----------
    labels : array of shape (n_regions,)
        Region names prefixed by their hemisphere (``L_``, ``R_``).
    hemispheres : array of shape (n_regions,)
        "left" or "right".
    n_vertices : array of shape (n_regions,)
        Vertices fitted in each region.
    n_vertices_without_data : array of shape (n_regions,)
        Vertices of each region left out because their patterns are not
        finite or do not vary across stimuli.
    results : UnitResults
        Per-region arrays, in the order of ``labels``.
    region_vertices : list of int arrays
        Vertices of each region on its hemisphere (all of them, with data or not).
    parameters : dict
        How the analysis was run (for summary.json).
    mesh : str or dict
        The mesh given to :func:`roi_analysis`, to draw the regions on.
    """

    labels: np.ndarray
    hemispheres: np.ndarray
    n_vertices: np.ndarray
    n_vertices_without_data: np.ndarray
    results: UnitResults
    region_vertices: list
    parameters: dict = dataclasses.field(default_factory=dict)
    mesh: object = "fsaverage5"

    def to_dataframe(self):
        """One row per region: label, hemisphere, n_vertices, n_vertices_without_data, score...

        Then importance_<term>... and weight_<term>... columns, as volume ROIs.

        Returns
        -------
        DataFrame
        """
        table = self.results.to_dataframe()
        table = pd.concat([table, self.results.term_weights().add_prefix("weight_")], axis=1)
        table.insert(0, "n_vertices_without_data", self.n_vertices_without_data)
        table.insert(0, "n_vertices", self.n_vertices)
        table.insert(0, "hemisphere", self.hemispheres)
        table.insert(0, "label", self.labels)
        return table

    def region_map(self, values):
        """Each region's value painted on its vertices, NaN elsewhere.

        Parameters
        ----------
        values : array of shape (n_regions,)

        Returns
        -------
        nilearn.surface.SurfaceImage
        """
        meshes = load_midthickness(self.mesh)
        data = {h: np.full(len(meshes[h][0]), np.nan, dtype=np.float32) for h in HEMISPHERES}
        for hemisphere, vertices, value in zip(self.hemispheres, self.region_vertices, values):
            data[hemisphere][vertices] = value
        return surface_image(meshes, data)

    def save(self, out_dir, *, overwrite=False):
        """Write roi.tsv, units.npz, roi.png, roi_surface.png and summary.json.

        ``roi_surface.png`` shows each region's score on the inflated cortex.

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        overwrite : bool

        Returns
        -------
        Path
        """
        from ..fmri.plotting import plot_regions
        from .plotting import plot_surface_map

        table = self.to_dataframe()
        with open_result_folder(out_dir, "roi", overwrite=overwrite) as folder:
            folder.write_table("roi", table)
            folder.write_units(self.results)
            folder.write_figure("roi", plot_regions(table))
            score_map = self.region_map(self.results.scores)
            folder.write_figure("roi_surface", plot_surface_map(score_map, self.mesh, "score"))
            folder.update_summary(
                n_regions=len(self.labels),
                mesh=self.mesh if isinstance(self.mesh, str) else "subject",
                **self.parameters,
            )
        return folder.path


def roi_analysis(
    patterns,
    features,
    atlas,
    *,
    mesh="fsaverage5",
    options=None,
    cv=None,
    groups=None,
    checkpoint=None,
    **settings,
):
    """MLEM in every region of a surface atlas, all regions of both hemispheres at once.

    Parameters
    ----------
    patterns : nilearn.surface.SurfaceImage or pair of str or Path
        One sample per stimulus (see :func:`mlem_neuro.surface.searchlight`).
    features : DataFrame of shape (n_stimuli, n_features)
    atlas : pair of str or Path, dict, or SurfaceImage
        One FreeSurfer annotation or label GIFTI per hemisphere (see
        :func:`mlem_neuro.surface.load_surface_atlas`).
    mesh : str or dict
        The mesh of the patterns (see :func:`mlem_neuro.surface.load_midthickness`),
        checked against them and used to draw the regions.
    options : FitOptions, optional
    cv, groups, checkpoint
        As in :func:`mlem_neuro.surface.searchlight`.
    **settings
        Fields of :class:`mlem_neuro.FitOptions`.

    Returns
    -------
    SurfaceRoiResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    surface, _, features = load_surface_inputs(patterns, features, mesh)
    regions = load_surface_atlas(atlas)
    with recorded_warnings() as messages:
        found, columns, offset = [], [], 0
        for hemisphere in HEMISPHERES:
            data = surface.parts()[hemisphere]
            _check_atlas_vertices(regions[hemisphere].n_vertices, data.shape[1], hemisphere)
            kept = vertices_with_signal(data, hemisphere)
            column_of = np.cumsum(kept) - 1 + offset
            for name, vertices in zip(regions[hemisphere].names, regions[hemisphere].vertices):
                label = LABEL_PREFIXES[hemisphere] + name
                fitted = vertices[kept[vertices]]
                found.append(_Region(label, hemisphere, vertices, fitted, column_of[fitted]))
            columns.append(data[:, kept])
            offset += int(kept.sum())
        fitted = _drop_regions_without_data(found)
        units = [region.columns for region in fitted]
        labels = [region.label for region in fitted]
        warn_about_small_regions(labels, units, features.shape[1], "vertex")
        results = fit_units(
            features,
            np.hstack(columns),
            units,
            options=options,
            cv=cv,
            groups=groups,
            checkpoint=checkpoint,
        )
    parameters = fit_parameters(options, cv, groups, surface.n_stimuli, started)
    parameters["warnings"] = messages
    return SurfaceRoiResult(
        labels=np.array(labels),
        hemispheres=np.array([region.hemisphere for region in fitted]),
        n_vertices=np.array([len(region.fitted) for region in fitted]),
        n_vertices_without_data=np.array([region.n_without_data for region in fitted]),
        results=results,
        region_vertices=[region.vertices for region in fitted],
        parameters=parameters,
        mesh=mesh,
    )


class _Region(typing.NamedTuple):
    """A region of the atlas: all its vertices, those with data, and their pattern columns."""

    label: str
    hemisphere: str
    vertices: np.ndarray
    fitted: np.ndarray
    columns: np.ndarray

    @property
    def n_without_data(self):
        return len(self.vertices) - len(self.fitted)


def _check_atlas_vertices(n_atlas, n_data, hemisphere):
    if n_atlas != n_data:
        raise ValueError(
            f"The atlas of the {hemisphere} hemisphere has {n_atlas} vertices but the patterns "
            f"have {n_data}; give the atlas drawn on the patterns' mesh."
        )


def _drop_regions_without_data(regions):
    """The regions with data at some vertex; warns about every vertex left out."""
    lost = [(region.label, region.n_without_data) for region in regions if region.n_without_data]
    empty = [region.label for region in regions if not len(region.fitted)]
    if lost:
        listed = ", ".join(f"{label}: {count}" for label, count in lost[:5])
        warn(
            f"{sum(count for _, count in lost)} vertices of the regions have no data (not "
            f"finite, or constant across stimuli) and are left out ({listed}"
            f"{'...' if len(lost) > 5 else ''})."
            + (f" Region(s) {empty[:5]} have no vertex left and are not fitted." if empty else "")
        )
    return [region for region in regions if len(region.fitted)]
