"""Time windows and channel x time units for epoched M/EEG patterns."""

import numpy as np

from ..core import check_positive_float

__all__ = ["time_windows", "channel_time_units"]


def time_windows(times, window=None, step=None):
    """Samples of each time window.

    Parameters
    ----------
    times : array of shape (n_times,)
        Sample times in seconds, increasing and regularly spaced.
    window : float or None
        Window width in seconds. None: one window per time point.
    step : float or None
        Seconds between window starts; None: one sample (windows centred on
        every sample that a full window fits around).

    Returns
    -------
    samples : list of int arrays
        Sample indices of each window.
    centres : array of shape (n_windows,)
        Mean time of each window's samples, in seconds.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 1:
        raise ValueError(f"times must be a non-empty 1D array, got shape {times.shape}.")
    if times.size > 1 and not np.all(np.diff(times) > 0):
        raise ValueError("times must be strictly increasing.")
    if window is None:
        if step is not None:
            raise ValueError("step can only be given together with window.")
        samples = [np.array([index]) for index in range(times.size)]
        return samples, times.copy()
    window = check_positive_float("window", window)
    period = np.median(np.diff(times)) if times.size > 1 else np.inf
    duration = times[-1] - times[0] + period
    if window > duration * (1 + 1e-9):
        raise ValueError(
            f"window={window} s is wider than the epoch ({duration:.4g} s from "
            f"{times[0]:.4g} to {times[-1]:.4g} s at {1 / period:.4g} Hz)."
        )
    width = max(1, int(round(window / period)))
    hop = 1 if step is None else max(1, int(round(check_positive_float("step", step) / period)))
    starts = np.arange(0, times.size - width + 1, hop)
    samples = [np.arange(start, start + width) for start in starts]
    centres = np.array([times[indices].mean() for indices in samples])
    return samples, centres


def channel_time_units(n_times, channel_groups, samples):
    """Columns of channel-major flattened epochs for every (channel group, window).

    Epochs of shape (n_epochs, n_channels, n_times) flattened to
    (n_epochs, n_channels * n_times) put channel ``c`` at time ``t`` in
    column ``c * n_times + t``.

    Parameters
    ----------
    n_times : int
    channel_groups : list of int arrays
        Channels of each spatial unit (all channels, or one sensor
        neighbourhood per channel).
    samples : list of int arrays
        Samples of each time window, from :func:`time_windows`.

    Returns
    -------
    list of int arrays
        ``len(channel_groups) * len(samples)`` units, group-major: unit
        ``g * len(samples) + w`` is group ``g`` in window ``w``.
    """
    return [
        (np.asarray(channels)[:, None] * n_times + np.asarray(window)[None, :]).ravel()
        for channels in channel_groups
        for window in samples
    ]
