"""MLEM in a geodesic disc around every vertex of both hemispheres: maps on the surface."""

import dataclasses
import time

import numpy as np
import scipy.sparse

from ..core import FitOptions, UnitResults, fit_units, recorded_warnings, warn
from ..outputs import file_stem, fit_parameters, open_result_folder
from ..units import geodesic_discs
from .inputs import HEMISPHERES, load_surface_inputs
from .maps import surface_image, write_surface_map

__all__ = ["SurfaceSearchlightResult", "searchlight"]

#: Terms whose importance maps are drawn (the most important ones): with interactions a
#: design can have dozens of terms, and each figure takes a second or two.
IMPORTANCE_FIGURES = 8
#: Disc sizes (vertices) below or above which a warning suggests another radius.
SMALL_DISC, LARGE_DISC = 5, 2000


@dataclasses.dataclass
class SurfaceSearchlightResult:
    """Maps of a surface searchlight, on the midthickness of each hemisphere.

    Vertices without signal (constant or non-finite patterns: the medial
    wall) are NaN in every map.

    Attributes
    ----------
    score_img : nilearn.surface.SurfaceImage
        Spearman correlation of the disc centred on each vertex
        (cross-validated when ``cv`` was given).
    importance_imgs : dict of str to SurfaceImage
        Permutation importance of each term.
    weight_imgs : dict of str to SurfaceImage
        Learned weight of each term (metric at unit Frobenius norm).
    results : UnitResults
        The per-disc arrays: left hemisphere's kept vertices, then the right's.
    centres : dict of str to int array
        Vertex of each disc, per hemisphere, in the order of ``results``.
    radius : float
        Disc radius in mm along the cortex.
    parameters : dict
        How the analysis was run, with ``disc_vertices`` (min, median, max).
    mesh : str or dict
        The mesh given to :func:`searchlight`.
    """

    score_img: object
    importance_imgs: dict
    weight_imgs: dict
    results: UnitResults
    centres: dict
    radius: float
    parameters: dict = dataclasses.field(default_factory=dict)
    mesh: object = "fsaverage5"

    def maps(self):
        """Every map by file stem: "score", "importance_<term>", "weight_<term>"."""
        maps = {"score": self.score_img}
        for prefix, imgs in (("importance", self.importance_imgs), ("weight", self.weight_imgs)):
            maps.update({f"{prefix}_{term}": img for term, img in imgs.items()})
        return maps

    def most_important_terms(self, n=IMPORTANCE_FIGURES):
        """The ``n`` terms with the largest importance in any disc, largest first."""
        peaks = {
            term: np.nanmax(np.where(np.isfinite(values), values, -np.inf))
            for term, values in self.results.importances.items()
        }
        return sorted(peaks, key=peaks.get, reverse=True)[:n]

    def disc_centres(self):
        """Hemisphere (0 left, 1 right) and vertex of each disc: int array (n_discs, 2)."""
        return np.concatenate(
            [
                np.column_stack([np.full(len(vertices), index), vertices])
                for index, vertices in enumerate(self.centres[h] for h in HEMISPHERES)
            ]
        )

    def save(self, out_dir, parameters=None, *, overwrite=False):
        """Write each map as one GIFTI file per hemisphere, units.npz, a figure and summary.json.

        Files: ``score_hemi-L.func.gii``, ``score_hemi-R.func.gii``, and likewise
        ``importance_<term>_hemi-{L,R}.func.gii`` and
        ``weight_<term>_hemi-{L,R}.func.gii`` (interaction terms "a:b" written
        ``a_x_b``); ``disc_centres.npy`` (:meth:`disc_centres`);
        ``surface_searchlight.png``: the score on the inflated
        cortex, lateral and medial views, and ``surface_importance_<term>.png``
        for the most important terms (:meth:`most_important_terms`).

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        parameters : dict, optional
            Extra entries for summary.json.
        overwrite : bool
            Replace an earlier result in ``out_dir``.

        Returns
        -------
        Path
            The output folder.
        """
        from .plotting import plot_surface_map

        with open_result_folder(out_dir, "surface_searchlight", overwrite=overwrite) as folder:
            for name, img in self.maps().items():
                write_surface_map(folder, name, img)
            folder.write_units(self.results)
            folder.write_array("disc_centres", self.disc_centres())
            figure = plot_surface_map(self.score_img, self.mesh, title="score")
            folder.write_figure("surface_searchlight", figure)
            for term in self.most_important_terms():
                img = self.importance_imgs[term]
                figure = plot_surface_map(img, self.mesh, title=f"importance of {term}")
                folder.write_figure(f"surface_importance_{file_stem(term)}", figure)
            folder.update_summary(
                n_discs=int(len(self.results.scores)),
                max_score=float(np.nanmax(self.results.scores)),
                mesh=self.mesh if isinstance(self.mesh, str) else "subject",
                **self.parameters,
                **(parameters or {}),
            )
        return folder.path


def searchlight(
    patterns,
    features,
    radius=6.0,
    *,
    mesh="fsaverage5",
    options=None,
    cv=None,
    groups=None,
    checkpoint=None,
    **settings,
):
    """MLEM in a disc of ``radius`` mm along the cortex around every vertex, all discs at once.

    Discs are measured on the midthickness surface, per hemisphere, never
    across hemispheres or sulci (:func:`mlem_neuro.units.geodesic_discs`).

    Parameters
    ----------
    patterns : nilearn.surface.SurfaceImage or pair of str or Path
        One sample per stimulus: a ``SurfaceImage``, or the two GIFTI files of
        fMRIPrep's naming (``hemi-L``, ``hemi-R``) with one data array per
        stimulus.
    features : DataFrame of shape (n_stimuli, n_features)
        Features of the stimulus of each sample.
    radius : float
        Disc radius in mm along the cortex.
    mesh : str or dict
        The mesh the patterns were sampled on (see
        :func:`mlem_neuro.surface.load_midthickness`).
    options : FitOptions, optional
    cv, groups
        Cross-validation over stimuli, as in :func:`mlem_neuro.fit_units`.
    checkpoint : str or Path, optional
        Folder for finished chunks of discs, to resume an interrupted run
        (see :func:`mlem_neuro.fit_units`).
    **settings
        Fields of :class:`mlem_neuro.FitOptions` replacing those of ``options``.

    Returns
    -------
    SurfaceSearchlightResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    surface, meshes, features = load_surface_inputs(patterns, features, mesh)
    with recorded_warnings() as messages:
        centres, discs, columns = {}, [], []
        for hemisphere in HEMISPHERES:
            data = surface.parts()[hemisphere]
            kept = vertices_with_signal(data, hemisphere)
            coordinates, faces = meshes[hemisphere]
            discs.append(geodesic_discs(coordinates, faces, radius, keep=kept))
            centres[hemisphere] = np.flatnonzero(kept)
            columns.append(data[:, kept])
        units = scipy.sparse.block_diag(discs, format="csr")
        sizes = _disc_sizes(units, radius)
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
    parameters.update(warnings=messages, radius_mm=radius, disc_vertices=sizes)
    return _result(results, centres, meshes, radius, parameters, mesh)


def vertices_with_signal(data, hemisphere):
    """Vertices whose patterns are finite and not constant across stimuli."""
    kept = np.isfinite(data).all(axis=0) & (np.ptp(data, axis=0) > 0)
    if not kept.any():
        raise ValueError(
            f"No vertex of the {hemisphere} hemisphere has finite patterns that vary across "
            "stimuli."
        )
    return kept


def _disc_sizes(units, radius):
    """Smallest, median and largest disc (vertices), with a warning at either extreme."""
    sizes = np.diff(units.indptr)
    smallest, median, largest = int(sizes.min()), float(np.median(sizes)), int(sizes.max())
    if median < SMALL_DISC:
        warn(
            f"radius={radius:g} mm: discs hold a median of {median:g} vertices; with so few, "
            "scores are noisy. Use a larger radius."
        )
    if median > LARGE_DISC:
        warn(
            f"radius={radius:g} mm: discs hold a median of {median:g} vertices, which blurs the "
            "maps and costs time. Use a smaller radius."
        )
    return {"min": smallest, "median": median, "max": largest}


def _result(results, centres, meshes, radius, parameters, mesh):
    split = len(centres["left"])

    def image(values):
        values = np.asarray(values, dtype=np.float32)
        data = {}
        for hemisphere, part in zip(HEMISPHERES, (values[:split], values[split:])):
            data[hemisphere] = np.full(len(meshes[hemisphere][0]), np.nan, dtype=np.float32)
            data[hemisphere][centres[hemisphere]] = part
        return surface_image(meshes, data)

    weights = results.term_weights()
    return SurfaceSearchlightResult(
        score_img=image(results.scores),
        importance_imgs={term: image(results.importances[term]) for term in results.term_names},
        weight_imgs={term: image(weights[term]) for term in results.term_names},
        results=results,
        centres=centres,
        radius=radius,
        parameters=parameters,
        mesh=mesh,
    )
