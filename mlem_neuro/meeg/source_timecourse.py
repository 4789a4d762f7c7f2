"""Time-resolved MLEM in M/EEG source space: a spatio-temporal searchlight, or labels."""

import dataclasses
import time

import numpy as np

from ..core import FitOptions, UnitResults, check_feature_rows, fit_units, recorded_warnings
from ..outputs import file_stem, fit_parameters, open_result_folder
from ..units import channel_time_units, time_windows
from .sources import SourceSpace, source_label_units, source_neighbourhoods, source_space
from .timecourse import check_epoch_groups

__all__ = ["SourceTimecourseResult", "source_timecourse"]


@dataclasses.dataclass
class SourceTimecourseResult:
    """What MLEM found at every time window in source space.

    Attributes
    ----------
    times : array of shape (n_windows,)
        Centre of each time window, in seconds.
    results : UnitResults
        Per-unit arrays, place-major: unit ``p * n_windows + w`` is place
        ``p`` (a source's neighbourhood, a label, or all sources) in window ``w``.
    space : SourceSpace
        The sources, as the estimates list them.
    places : list of int arrays
        Sources (rows of the estimates) of each place.
    mode : {"searchlight", "labels", "all sources"}
        One place per source (its disc or ball), per label, or one for all sources.
    place_names : list of str
        Label names, "all sources", or "<vertex> (<hemisphere>)" per source.
    parameters : dict
        How the analysis was run (for summary.json).
    """

    times: np.ndarray
    results: UnitResults
    space: SourceSpace
    places: list
    mode: str
    place_names: list
    parameters: dict = dataclasses.field(default_factory=dict)

    def _grid(self, measure):
        """Values of a measure, array of shape (n_places, n_windows)."""
        table = self.results.to_dataframe()
        if measure not in table.columns:
            raise ValueError(f"measure must be one of {list(table.columns)}, got {measure!r}.")
        return table[measure].to_numpy().reshape(len(self.places), len(self.times))

    def to_dataframe(self):
        """Scores and importances, one row per (place, window).

        Returns
        -------
        DataFrame
            Searchlight: columns ``vertex``, ``hemisphere``, ``time``, ``score``,
            ``importance_<term>``; labels: ``label``, ``time``...; all
            sources: ``time``...
        """
        table = self.results.to_dataframe()
        n_windows = len(self.times)
        table.insert(0, "time", np.tile(self.times, len(self.places)))
        if self.mode == "labels":
            table.insert(0, "label", np.repeat(self.place_names, n_windows))
        elif self.mode == "searchlight":
            vertices = np.concatenate(self.space.vertices)
            table.insert(0, "hemisphere", np.repeat(self.space.hemisphere_of_sources(), n_windows))
            table.insert(0, "vertex", np.repeat(vertices, n_windows))
        return table

    def to_stc(self, measure="score"):
        """A measure as a source estimate on the input's sources, one time per window centre.

        Labels and the all-sources place paint their value on each of their sources
        (0 elsewhere).

        Parameters
        ----------
        measure : str
            "score", "importance_<term>" or "weight_<term>".

        Returns
        -------
        mne.SourceEstimate or mne.VolSourceEstimate
        """
        import mne

        grid = self._grid(measure)
        if self.mode == "searchlight":
            data = grid
        else:
            data = np.zeros((self.space.n_sources, len(self.times)))
            for place, sources in enumerate(self.places):
                data[sources] = grid[place]
        step = float(np.median(np.diff(self.times))) if len(self.times) > 1 else 1.0
        kind = mne.VolSourceEstimate if self.space.kind == "volume" else mne.SourceEstimate
        return kind(
            data, self.space.vertices, tmin=self.times[0], tstep=step, subject=self.space.subject
        )

    def peak(self):
        """Place and window of the best score: dict with place, name, window, time_s, score."""
        grid = self._grid("score")
        place, window = np.unravel_index(np.nanargmax(grid), grid.shape)
        return {
            "place": int(place),
            "name": str(self.place_names[place]),
            "window": int(window),
            "time_s": float(self.times[window]),
            "score": float(grid[place, window]),
        }

    def save(self, out_dir, *, overwrite=False):
        """Write the table, units.npz, one source estimate per measure, figures, summary.json.

        Files: ``source_timecourse.tsv`` (:meth:`to_dataframe`),
        ``score-lh.stc`` / ``score-rh.stc`` (``score-vl.stc`` for volumes) and
        likewise ``importance_<term>-*.stc`` (MNE's format: read them with
        ``mne.read_source_estimate``), ``source_timecourse.png`` (score and
        importances over time at the peak) and, for surface sources,
        ``source_peak.png`` (the score at the peak time on the cortex).

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        overwrite : bool

        Returns
        -------
        Path
        """
        from .source_plotting import plot_source_peak_map, plot_source_timecourse

        with open_result_folder(out_dir, "source_timecourse", overwrite=overwrite) as folder:
            folder.write_table("source_timecourse", self.to_dataframe())
            folder.write_units(self.results)
            for measure in ["score", *[f"importance_{t}" for t in self.results.term_names]]:
                stc = self.to_stc(measure)
                stc.save(folder.file(file_stem(measure)), ftype="stc", verbose="error")
            folder.write_figure("source_timecourse", plot_source_timecourse(self))
            if self.space.kind == "surface":
                folder.write_figure("source_peak", plot_source_peak_map(self))
            folder.update_summary(**self.parameters, times=self.times, peak=self.peak())
        return folder.path


def source_timecourse(
    stcs,
    features,
    *,
    src=None,
    radius=None,
    labels=None,
    window=None,
    step=None,
    cv=5,
    groups=None,
    options=None,
    checkpoint=None,
    **settings,
):
    """When and where in source space the geometry of activity encodes each feature.

    Parameters
    ----------
    stcs : list or iterable of mne.SourceEstimate or mne.VolSourceEstimate
        One estimate per epoch (what ``mne.minimum_norm.apply_inverse_epochs``
        returns), all on the same sources and times; read one at a time and
        kept as float32.
    features : DataFrame of shape (n_epochs, n_features)
    src : mne.SourceSpaces, optional
        The forward model's source space, for the positions of the sources.
        Not needed for surface estimates of ``subject="fsaverage"`` (ico-5 or
        coarser), whose mesh ships with nilearn.
    radius : float, optional
        A spatio-temporal searchlight: around each source, the sources within
        ``radius`` mm along the cortex (surface) or in space (volume).
    labels : list of mne.Label, or pair of annotation files, optional
        One unit per label (see
        :func:`mlem_neuro.meeg.sources.source_label_units`). Neither
        ``radius`` nor ``labels``: every source in each window.
    window, step : float or None
        Window width and step in seconds, as in :func:`mlem_neuro.meeg.timecourse`.
    cv : int, splitter or None
        Cross-validation over epochs.
    groups : array of shape (n_epochs,), optional
        Session or run of each epoch, kept within one fold.
    options : FitOptions, optional
    checkpoint : str or Path, optional
        Folder for finished chunks of units, to resume an interrupted run.
    **settings
        Fields of :class:`mlem_neuro.FitOptions`.

    Returns
    -------
    SourceTimecourseResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    if radius is not None and labels is not None:
        raise ValueError("Give radius (a searchlight) or labels, not both.")
    with recorded_warnings() as messages:
        data, first = stacked_estimates(stcs)
        n_epochs, n_sources, n_times = data.shape
        features = check_feature_rows(features, n_epochs, sample="epoch")
        groups = check_epoch_groups(groups, n_epochs)
        kind = "volume" if type(first).__name__ == "VolSourceEstimate" else "surface"
        space = source_space(first.vertices, kind, first.subject, src)
        mode, places, names = _places(space, radius, labels)
        samples, centres = time_windows(first.times, window, step)
        results = fit_units(
            features,
            data.reshape(n_epochs, n_sources * n_times),
            channel_time_units(n_times, places, samples),
            options=options,
            cv=cv,
            groups=groups,
            checkpoint=checkpoint,
        )
    sizes = [len(place) for place in places]
    parameters = {
        "n_epochs": n_epochs,
        "n_sources": n_sources,
        "source_kind": kind,
        "subject": first.subject,
        "mode": mode,
        "radius_mm": radius,
        "n_places": len(places),
        "place_sources": {"min": min(sizes), "median": float(np.median(sizes)), "max": max(sizes)},
        "window_s": window,
        "step_s": step,
        "n_windows": len(samples),
        **fit_parameters(options, cv, groups, n_epochs, started),
        "warnings": messages,
    }
    return SourceTimecourseResult(centres, results, space, places, mode, names, parameters)


def stacked_estimates(stcs):
    """Every epoch's estimate as one float32 array, checked against the first.

    A sized ``stcs`` (a list, :class:`mlem_neuro.meeg.inverse.EpochSourceEstimates`)
    is written into one preallocated array as it is read.

    Returns
    -------
    data : array of shape (n_epochs, n_sources, n_times)
    first : the first estimate
    """
    size = len(stcs) if hasattr(stcs, "__len__") else None
    first, parts, data = None, [], None
    for index, stc in enumerate(stcs):
        if not hasattr(stc, "vertices") or getattr(stc, "data", np.empty(0)).ndim != 2:
            raise TypeError(
                f"stcs[{index}] must be an mne.SourceEstimate or VolSourceEstimate (one "
                f"orientation per source), got {type(stc).__name__}."
            )
        if first is None:
            first = stc
            if size is not None:
                data = np.empty((size, *stc.data.shape), dtype=np.float32)
        else:
            _check_same_sources(first, stc, index)
        if data is None:
            parts.append(np.asarray(stc.data, dtype=np.float32))
        elif index < size:
            data[index] = stc.data
        n_read = index + 1
    if first is None:
        raise ValueError("stcs is empty: give one source estimate per epoch.")
    if data is not None and n_read != size:
        raise ValueError(f"stcs has length {size} but gave {n_read} estimates; give one per epoch.")
    return (np.stack(parts) if data is None else data), first


def _check_same_sources(first, stc, index):
    if type(stc) is not type(first) or len(stc.vertices) != len(first.vertices):
        raise ValueError(
            f"stcs[{index}] is a {type(stc).__name__}, stcs[0] a {type(first).__name__}."
        )
    if not all(np.array_equal(a, b) for a, b in zip(stc.vertices, first.vertices)):
        raise ValueError(
            f"stcs[{index}] has other source vertices than stcs[0]; every epoch's estimate "
            "must be on the same sources."
        )
    if stc.data.shape[1] != first.data.shape[1] or not np.allclose(stc.times, first.times):
        raise ValueError(
            f"stcs[{index}] has {stc.data.shape[1]} times from {stc.tmin:g} s, stcs[0] has "
            f"{first.data.shape[1]} from {first.tmin:g} s; every epoch must have the same times."
        )


def _places(space, radius, labels):
    """The sources of each place, its name, and the mode."""
    if radius is not None:
        places = source_neighbourhoods(space, radius)
        vertices = np.concatenate(space.vertices)
        hemispheres = space.hemisphere_of_sources()
        names = [f"{vertex} ({hemisphere})" for vertex, hemisphere in zip(vertices, hemispheres)]
        return "searchlight", places, names
    if labels is not None:
        names, places = source_label_units(space, labels)
        return "labels", places, names
    return "all sources", [np.arange(space.n_sources)], ["all sources"]
