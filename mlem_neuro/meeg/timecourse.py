"""Time-resolved and spatio-temporal MLEM on M/EEG epochs."""

import dataclasses
import time

import numpy as np

from ..core import FitOptions, UnitResults, fit_units, recorded_warnings
from ..outputs import fit_parameters, open_result_folder
from ..units import channel_time_units, time_windows
from .epochs import epochs_features, epochs_patterns, read_epochs
from .sensors import sensor_neighbourhoods

__all__ = ["TimecourseResult", "timecourse"]


@dataclasses.dataclass
class TimecourseResult:
    """What MLEM found at every time window (and sensor neighbourhood).

    Attributes
    ----------
    times : array of shape (n_windows,)
        Centre of each time window, in seconds.
    results : UnitResults
        Per-unit arrays. Time-resolved: one unit per window. Spatio-temporal:
        ``n_channels * n_windows`` units, channel-major (unit
        ``c * n_windows + w``).
    info : mne.Info
        Info of the channels used.
    spatial : bool
        Whether units are sensor neighbourhoods x windows.
    parameters : dict
        How the analysis was run (for summary.json).
    """

    times: np.ndarray
    results: UnitResults
    info: object
    spatial: bool
    parameters: dict

    @property
    def generalization(self):
        """Temporal generalisation, array of shape (n_windows, n_windows) or None.

        Row: the window a metric was learned on; column: the window it was
        scored on (held-out epochs).
        """
        return self.results.generalization

    def to_dataframe(self):
        """Scores and importances as a table.

        Returns
        -------
        DataFrame
            Time-resolved: one row per window, columns ``time``, ``score``,
            ``importance_<term>``. Spatio-temporal: one row per (channel,
            window), with a ``channel`` column first.
        """
        table = self.results.to_dataframe()
        if not self.spatial:
            table.insert(0, "time", self.times)
            return table
        n_windows = len(self.times)
        table.insert(0, "time", np.tile(self.times, len(self.info["ch_names"])))
        table.insert(0, "channel", np.repeat(self.info["ch_names"], n_windows))
        return table

    def to_evoked(self):
        """Score and importance maps as MNE Evoked objects (spatio-temporal only).

        Each Evoked holds one value per (channel, window), sampled at the
        window centres, so topomaps and MNE's plotting functions apply.

        Returns
        -------
        dict of str to mne.EvokedArray
            "score", then "importance_<term>" for every term.
        """
        import mne

        if not self.spatial:
            raise ValueError(
                "to_evoked needs a spatio-temporal result (spatial='adjacency' or a radius); "
                "a time-resolved result has no per-sensor values: use to_dataframe()."
            )
        info = self.info.copy()
        if len(self.times) > 1:
            # Evoked needs a sampling rate; windows are spaced by a whole number of samples.
            with info._unlock():
                info["sfreq"] = 1 / np.median(np.diff(self.times))
        table = self.results.to_dataframe()
        shape = (len(info["ch_names"]), len(self.times))
        maps = {}
        for name in table.columns:
            evoked = mne.EvokedArray(
                table[name].to_numpy().reshape(shape), info, comment=name, nave=1, verbose="error"
            )
            # Window centres need not fall on the sampling grid that tmin is rounded to.
            maps[name] = evoked.shift_time(self.times[0], relative=False)
        return maps

    @classmethod
    def from_stored(cls, stored):
        """The result of a timecourse result folder (see :func:`mlem_neuro.outputs.read_result`)."""
        results = stored.unit_results()
        if stored.has("generalization.npy"):
            results.generalization = stored.array("generalization")
        spatial = stored.has("sensors-info.fif")
        return cls(
            times=np.asarray(stored.summary["times"], dtype=float),
            results=results,
            info=stored.info("sensors") if spatial else None,
            spatial=spatial,
            parameters=stored.summary,
        )

    def save(self, out_dir, *, overwrite=False):
        """Write timecourse.tsv, units.npz, timecourse.png and summary.json.

        Also generalization.npy when computed, and sensors-info.fif for
        spatio-temporal results (the channels' info, for group tests that
        need their adjacency).

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        overwrite : bool

        Returns
        -------
        Path
        """
        with open_result_folder(out_dir, "timecourse", overwrite=overwrite) as folder:
            table = self.to_dataframe()
            folder.write_table("timecourse", table)
            folder.write_units(self.results)
            if self.generalization is not None:
                folder.write_array("generalization", self.generalization)
            if self.spatial:
                folder.write_info("sensors", self.info)
            folder.write_figure("timecourse", self.plot())
            peak = int(np.nanargmax(self.results.scores))
            folder.update_summary(
                **self.parameters,
                times=self.times,
                peak={
                    "time_s": float(table["time"].iloc[peak]),
                    "score": float(self.results.scores[peak]),
                    **({"channel": str(table["channel"].iloc[peak])} if self.spatial else {}),
                },
            )
        return folder.path

    def plot(self, path=None):
        """Score and importances over time (mean over sensors when spatial), and generalisation.

        Parameters
        ----------
        path : str or Path, optional
            Save the figure there and close it.

        Returns
        -------
        matplotlib Figure (None when saved)
        """
        from .plotting import plot_timecourse

        return plot_timecourse(self, path)


def _windows_used(samples, sfreq):
    """Width and step of the windows actually used, in seconds (whole samples)."""
    step = samples[1][0] - samples[0][0] if len(samples) > 1 else None
    return {
        "window_used_s": len(samples[0]) / sfreq,
        "step_used_s": None if step is None else step / sfreq,
    }


def timecourse(
    epochs,
    features=None,
    *,
    tag_names=None,
    picks="data",
    noise_normalization="channel-type",
    window=None,
    step=None,
    spatial=None,
    cv=5,
    groups=None,
    generalize=False,
    options=None,
    checkpoint=None,
    **settings,
):
    """When (and where on the scalp) the geometry of sensor patterns encodes each feature.

    Parameters
    ----------
    epochs : mne.BaseEpochs or str or Path
        Epochs or a ``-epo.fif`` path.
    features : None, str, list of str, DataFrame or array
        Metadata column name(s), a table with one row per epoch, or None for
        the "/" tags of the event names (see
        :func:`mlem_neuro.meeg.epochs_features`).
    tag_names : list of str, optional
        Names of the "/" tag positions when ``features`` is None.
    picks : str or list
        Channels, as MNE's ``picks``.
    noise_normalization : {"channel-type", "noise-cov", "mnn", None}
        How sensor types and units are made comparable (see
        :func:`mlem_neuro.meeg.epochs_patterns`).
    window, step : float or None
        Window width and step in seconds; None: one unit per time point.
        Both are rounded to whole samples; summary.json records the widths
        used (``window_used_s``, ``step_used_s``) beside the requested ones.
    spatial : None, "adjacency" or float
        None: every picked channel in each unit. "adjacency": one unit per
        channel neighbourhood (MNE channel adjacency) per window. A float:
        neighbourhoods of that radius in metres.
    cv : int, splitter or None
        Cross-validation over epochs (5 folds by default; GroupKFold when
        ``groups`` is given).
    groups : str or array of shape (n_epochs,), optional
        Session or run of each epoch (a metadata column name or the labels),
        so that folds never split one.
    generalize : bool
        Also compute the temporal-generalisation matrix (time-resolved only).
    options : FitOptions, optional
        Fit settings (see :class:`mlem_neuro.FitOptions`).
    checkpoint : str or Path, optional
        Folder for finished chunks of units: an interrupted run resumes
        there (see :func:`mlem_neuro.fit_units`).
    **settings
        Fields of :class:`mlem_neuro.FitOptions` replacing those of
        ``options`` (``random_state=0``, ``interactions=True``...).

    Returns
    -------
    TimecourseResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    with recorded_warnings() as messages:
        epochs = read_epochs(epochs)
        table = epochs_features(epochs, features, tag_names)
        groups = _groups(epochs, groups)
        conditions = table.astype(str).agg("/".join, axis=1).to_numpy()
        data, info = epochs_patterns(epochs, picks, noise_normalization, conditions)
        n_epochs, n_channels, n_times = data.shape
        samples, centres = time_windows(epochs.times, window, step)
        channel_groups = _channel_groups(info, spatial, generalize)
        units = channel_time_units(n_times, channel_groups, samples)
        results = fit_units(
            table,
            data.reshape(n_epochs, n_channels * n_times),
            units,
            options=options,
            cv=cv,
            groups=groups,
            generalize=generalize,
            checkpoint=checkpoint,
        )
    parameters = {
        "n_epochs": n_epochs,
        "n_channels": n_channels,
        "channel_types": sorted(set(info.get_channel_types())),
        "noise_normalization": noise_normalization,
        "window_s": window,
        "step_s": step,
        **_windows_used(samples, epochs.info["sfreq"]),
        "n_windows": len(samples),
        "spatial": spatial,
        **fit_parameters(options, cv, groups, n_epochs, started),
        "warnings": messages,
    }
    return TimecourseResult(
        times=centres,
        results=results,
        info=info,
        spatial=spatial is not None,
        parameters=parameters,
    )


def _channel_groups(info, spatial, generalize):
    """The channels of each spatial unit: all of them, or one neighbourhood per channel."""
    if spatial is None:
        return [np.arange(len(info["ch_names"]))]
    if generalize:
        raise ValueError(
            "generalize=True needs a time-resolved analysis (spatial=None): a "
            "spatio-temporal generalisation matrix would have (n_channels x n_windows)^2 "
            "entries."
        )
    if spatial == "adjacency":
        return sensor_neighbourhoods(info)
    if isinstance(spatial, str):
        raise ValueError(
            f"spatial must be None, 'adjacency' or a radius in metres, got {spatial!r}."
        )
    return sensor_neighbourhoods(info, radius=spatial)


def _groups(epochs, groups):
    if isinstance(groups, str):
        if epochs.metadata is None or groups not in epochs.metadata.columns:
            available = [] if epochs.metadata is None else list(epochs.metadata.columns)
            raise ValueError(
                f"groups={groups!r} is not a metadata column of the epochs (columns: {available})."
            )
        return epochs.metadata[groups].to_numpy()
    return check_epoch_groups(groups, len(epochs))


def check_epoch_groups(groups, n_epochs):
    """``groups`` as an array of one label per epoch, or None.

    Parameters
    ----------
    groups : array-like of shape (n_epochs,) or None
    n_epochs : int

    Returns
    -------
    array of shape (n_epochs,) or None
    """
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (n_epochs,):
        raise ValueError(
            f"groups must have one label per epoch, shape ({n_epochs},), got {groups.shape}."
        )
    return groups
