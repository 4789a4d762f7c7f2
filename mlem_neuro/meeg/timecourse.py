"""Time-resolved and spatio-temporal MLEM on M/EEG epochs."""

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from ..core import UnitResults, fit_units
from ..units import channel_time_units, sensor_neighbourhoods, time_windows
from .epochs import epochs_features, epochs_patterns, read_epochs

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

    def save(self, out_dir):
        """Write timecourse.tsv, generalization.npy (if computed), summary.json, timecourse.png.

        Spatio-temporal results also get sensors-info.fif (the channels' info,
        for group tests that need their adjacency).

        Returns
        -------
        Path
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        table = self.to_dataframe()
        table.to_csv(out_dir / "timecourse.tsv", sep="\t", index=False, float_format="%.6g")
        if self.generalization is not None:
            np.save(out_dir / "generalization.npy", self.generalization)
        if self.spatial:
            import mne

            mne.io.write_info(out_dir / "sensors-info.fif", self.info, overwrite=True)
        summary = dict(self.parameters)
        peak = int(np.nanargmax(self.results.scores))
        summary["peak"] = {
            "time_s": float(table["time"].iloc[peak]),
            "score": float(self.results.scores[peak]),
            **({"channel": str(table["channel"].iloc[peak])} if self.spatial else {}),
        }
        summary["fit_info"] = {
            key: value for key, value in self.results.info.items() if key != "seconds"
        }
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        self.plot(out_dir / "timecourse.png")
        return out_dir

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
        import matplotlib.pyplot as plt

        table = self.to_dataframe()
        if self.spatial:
            table = table.drop(columns="channel").groupby("time", sort=True).mean().reset_index()
        panels = 3 if self.generalization is not None else 2
        figure, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), constrained_layout=True)
        axes[0].plot(table["time"], table["score"], color="black")
        axes[0].set_ylabel("held-out Spearman" if self.parameters.get("cv") else "Spearman")
        axes[0].set_title("score" + (" (mean over sensors)" if self.spatial else ""))
        for column in table.columns:
            if column.startswith("importance_"):
                axes[1].plot(table["time"], table[column], label=column.removeprefix("importance_"))
        axes[1].set_title("permutation importance")
        axes[1].legend(fontsize="small")
        for axis in axes[:2]:
            axis.set_xlabel("time (s)")
            axis.axhline(0, color="grey", linewidth=0.5)
            axis.axvline(0, color="grey", linewidth=0.5, linestyle=":")
        if self.generalization is not None:
            extent = [self.times[0], self.times[-1], self.times[0], self.times[-1]]
            limit = np.nanmax(np.abs(self.generalization))
            image = axes[2].imshow(
                self.generalization,
                origin="lower",
                extent=extent,
                cmap="RdBu_r",
                vmin=-limit,
                vmax=limit,
            )
            axes[2].set_xlabel("scored at (s)")
            axes[2].set_ylabel("learned at (s)")
            axes[2].set_title("temporal generalisation")
            figure.colorbar(image, ax=axes[2], shrink=0.8)
        if path is None:
            return figure
        figure.savefig(path, dpi=120)
        plt.close(figure)
        return None


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
    interactions=False,
    cv=5,
    groups=None,
    generalize=False,
    device="cpu",
    random_state=None,
    verbose=False,
    **fit_kwargs,
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
    spatial : None, "adjacency" or float
        None: every picked channel in each unit. "adjacency": one unit per
        channel neighbourhood (MNE channel adjacency) per window. A float:
        neighbourhoods of that radius in metres.
    interactions : bool
    cv : int, splitter or None
        Cross-validation over epochs (5 folds by default; GroupKFold when
        ``groups`` is given).
    groups : str or array of shape (n_epochs,), optional
        Session or run of each epoch (a metadata column name or the labels),
        so that folds never split one.
    generalize : bool
        Also compute the temporal-generalisation matrix (time-resolved only).
    device : str
    random_state : int or None
    verbose : bool
    **fit_kwargs
        Passed to :func:`mlem_neuro.fit_units` (distance, n_repeats, ...).

    Returns
    -------
    TimecourseResult
    """
    started = time.perf_counter()
    epochs = read_epochs(epochs)
    table = epochs_features(epochs, features, tag_names)
    groups = _groups(epochs, groups)
    conditions = table.astype(str).agg("/".join, axis=1).to_numpy()
    data, info = epochs_patterns(epochs, picks, noise_normalization, conditions)
    n_epochs, n_channels, n_times = data.shape
    samples, centres = time_windows(epochs.times, window, step)
    if spatial is None:
        channel_groups = [np.arange(n_channels)]
    else:
        if generalize:
            raise ValueError(
                "generalize=True needs a time-resolved analysis (spatial=None): a "
                "spatio-temporal generalisation matrix would have (n_channels x n_windows)^2 "
                "entries."
            )
        if spatial == "adjacency":
            channel_groups = sensor_neighbourhoods(info)
        elif isinstance(spatial, str):
            raise ValueError(
                f"spatial must be None, 'adjacency' or a radius in metres, got {spatial!r}."
            )
        else:
            channel_groups = sensor_neighbourhoods(info, radius=spatial)
    units = channel_time_units(n_times, channel_groups, samples)
    results = fit_units(
        table,
        data.reshape(n_epochs, n_channels * n_times),
        units,
        interactions=interactions,
        cv=cv,
        groups=groups,
        generalize=generalize,
        device=device,
        random_state=random_state,
        verbose=verbose,
        **fit_kwargs,
    )
    parameters = {
        "n_epochs": n_epochs,
        "n_channels": n_channels,
        "channel_types": sorted(set(info.get_channel_types())),
        "features": list(table.columns),
        "interactions": bool(interactions),
        "noise_normalization": noise_normalization,
        "window_s": window,
        "step_s": step,
        "n_windows": len(samples),
        "spatial": spatial,
        "cv": str(cv) if cv is not None else None,
        "grouped_cv": groups is not None,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return TimecourseResult(
        times=centres,
        results=results,
        info=info,
        spatial=spatial is not None,
        parameters=parameters,
    )


def _groups(epochs, groups):
    if isinstance(groups, str):
        if epochs.metadata is None or groups not in epochs.metadata.columns:
            available = [] if epochs.metadata is None else list(epochs.metadata.columns)
            raise ValueError(
                f"groups={groups!r} is not a metadata column of the epochs (columns: {available})."
            )
        return epochs.metadata[groups].to_numpy()
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (len(epochs),):
        raise ValueError(
            f"groups must have one label per epoch, shape ({len(epochs)},), got {groups.shape}."
        )
    return groups
