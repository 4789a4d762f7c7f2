"""From MNE epochs to unit-free sensor patterns and a feature table."""

from pathlib import Path

import numpy as np
import pandas as pd

from ..core import check_option

__all__ = ["read_epochs", "epochs_features", "epochs_patterns", "NOISE_NORMALIZATIONS"]

NOISE_NORMALIZATIONS = ("channel-type", "noise-cov", "mnn", None)


def read_epochs(epochs):
    """Return ``epochs`` as an :class:`mne.Epochs`, reading it when given a path.

    Parameters
    ----------
    epochs : mne.BaseEpochs or str or Path
        Epochs, or the path of a ``-epo.fif`` file.

    Returns
    -------
    mne.BaseEpochs
        Data loaded in memory.
    """
    import mne

    if isinstance(epochs, (str, Path)):
        path = Path(epochs)
        if not path.exists():
            raise FileNotFoundError(f"epochs file not found: {path}")
        epochs = mne.read_epochs(path, preload=True, verbose="error")
    if not isinstance(epochs, mne.BaseEpochs):
        raise TypeError(
            f"epochs must be an mne.Epochs object or the path of a -epo.fif file, got "
            f"{type(epochs).__name__}."
        )
    if len(epochs) < 3:
        raise ValueError(f"epochs has {len(epochs)} epochs; MLEM needs at least 3.")
    return epochs.load_data()


def _event_names(epochs):
    names_by_code = {code: name for name, code in epochs.event_id.items()}
    return [names_by_code[code] for code in epochs.events[:, 2]]


def epochs_features(epochs, features=None, tag_names=None):
    """The feature table of the epochs, one row per epoch.

    Parameters
    ----------
    epochs : mne.BaseEpochs
    features : None, str, list of str, DataFrame or array
        - str or list of str: columns of ``epochs.metadata``;
        - DataFrame or array of shape (n_epochs, n_features): a table aligned
          with the epochs;
        - None: features from the "/"-separated tags of the event names
          ("audio/left" gives one feature per position: "audio", "left").
    tag_names : list of str, optional
        Names of the tag positions when ``features`` is None (default
        "tag1", "tag2"...).

    Returns
    -------
    DataFrame of shape (n_epochs, n_features)
    """
    n_epochs = len(epochs)
    if isinstance(features, str):
        features = [features]
    if isinstance(features, (list, tuple)):
        if epochs.metadata is None:
            raise ValueError(
                f"features names metadata columns {list(features)}, but the epochs have no "
                "metadata; set epochs.metadata or pass a feature table."
            )
        unknown = [name for name in features if name not in epochs.metadata.columns]
        if unknown:
            raise ValueError(
                f"Unknown metadata column(s) {unknown}; the epochs' metadata has "
                f"{list(epochs.metadata.columns)}."
            )
        table = epochs.metadata[list(features)].reset_index(drop=True)
    elif features is None:
        table = _tag_features(_event_names(epochs), tag_names)
    else:
        table = pd.DataFrame(features)
        if len(table) != n_epochs:
            raise ValueError(
                f"features has {len(table)} rows but there are {n_epochs} epochs; give one "
                "row per epoch, in epoch order."
            )
        table = table.reset_index(drop=True)
    single = [name for name in table.columns if table[name].nunique(dropna=True) < 2]
    if single:
        raise ValueError(
            f"Feature(s) {single} take a single value over the {n_epochs} epochs; a feature "
            "needs at least two levels."
        )
    return table


def _tag_features(event_names, tag_names):
    parts = [name.split("/") for name in event_names]
    lengths = sorted({len(tags) for tags in parts})
    if len(lengths) != 1:
        raise ValueError(
            "Event names have different numbers of '/' tags "
            f"({sorted(set(event_names))}); give features or metadata columns instead."
        )
    if lengths[0] < 2 and tag_names is None:
        raise ValueError(
            f"Event names {sorted(set(event_names))} have no '/' tags; name metadata columns "
            "or pass a feature table as features."
        )
    if tag_names is None:
        tag_names = [f"tag{position + 1}" for position in range(lengths[0])]
    if len(tag_names) != lengths[0]:
        raise ValueError(
            f"tag_names has {len(tag_names)} names but the event names have {lengths[0]} "
            f"'/' tags (e.g. {event_names[0]!r})."
        )
    return pd.DataFrame(parts, columns=list(tag_names))


def epochs_patterns(epochs, picks="data", noise_normalization="channel-type", conditions=None):
    """Sensor patterns of the epochs, rescaled so no sensor type or unit dominates.

    Parameters
    ----------
    epochs : mne.BaseEpochs
    picks : str, list or None
        Channels to keep, as MNE's ``picks`` ("data", "meg", "eeg",
        ["grad", "mag"], channel names...). Bad channels are left out.
    noise_normalization : {"channel-type", "noise-cov", "mnn", None}
        - "channel-type" (default): each sensor type divided by the standard
          deviation of its baseline (all samples when the epochs have no
          baseline), pooled over its channels;
        - "noise-cov": whitened with the baseline noise covariance
          (:func:`mne.compute_covariance`, shrunk), MNE's way of combining
          sensor types;
        - "mnn": multivariate noise normalisation (Guggenmos et al. 2018):
          each sensor type first scaled by the standard deviation of its
          residuals (so that the result does not depend on units: EEG in
          volts would otherwise swamp magnetometers in tesla), then whitened
          with the Ledoit-Wolf shrunk covariance of the residuals of each
          epoch around its condition's mean, pooled over time. Needs
          conditions with at least 2 epochs;
        - None: the data as they are (distances then mix units across types).
    conditions : array of shape (n_epochs,), optional
        Condition of each epoch for "mnn" (default: the event codes).

    Returns
    -------
    data : array of shape (n_epochs, n_channels, n_times)
        Unit-free patterns, float64.
    info : mne.Info
        Info of the kept channels.
    """
    import mne

    check_option("noise_normalization", noise_normalization, NOISE_NORMALIZATIONS)
    try:
        picked = epochs.copy().pick(picks, exclude="bads")
    except ValueError as error:
        raise ValueError(f"picks={picks!r} selects no usable channel: {error}") from error
    data = picked.get_data(copy=True).astype(np.float64)
    if not np.isfinite(data).all():
        raise ValueError("The epochs contain NaN or infinite values.")
    has_baseline = (picked.times <= 0).sum() >= 2
    baseline = picked.times <= 0 if has_baseline else slice(None)
    types = np.array(picked.get_channel_types())
    if noise_normalization == "channel-type":
        data = data / _type_scales(types, data[..., baseline])[:, None]
    elif noise_normalization == "noise-cov":
        covariance = mne.compute_covariance(
            picked, tmax=0 if has_baseline else None, method="shrunk", verbose="error"
        )
        whitener, _ = mne.cov.compute_whitener(covariance, picked.info, verbose="error")
        data = np.einsum("ij,ejt->eit", whitener, data)
    elif noise_normalization == "mnn":
        data = _multivariate_noise_normalization(
            data, types, epochs.events[:, 2] if conditions is None else np.asarray(conditions)
        )
    return data, picked.info


def _type_scales(types, reference):
    """Each channel's scale: the standard deviation of its type's ``reference`` values.

    Parameters
    ----------
    types : array of shape (n_channels,)
    reference : array of shape (n_epochs, n_channels, n_times)

    Returns
    -------
    array of shape (n_channels,)
    """
    scales = np.empty(len(types))
    for channel_type in np.unique(types):
        rows = types == channel_type
        scales[rows] = reference[:, rows].std()
        if scales[rows][0] == 0:
            raise ValueError(f"The {channel_type} channels are flat (zero variance).")
    return scales


def _multivariate_noise_normalization(data, types, conditions):
    from scipy.linalg import eigh
    from sklearn.covariance import ledoit_wolf

    if len(conditions) != len(data):
        raise ValueError(f"conditions has {len(conditions)} labels for {len(data)} epochs.")
    labels, counts = np.unique(conditions, return_counts=True)
    if (counts < 2).all():
        raise ValueError(
            f"noise_normalization='mnn' needs conditions with at least 2 epochs (residuals "
            f"around each condition's mean), but each of the {len(labels)} conditions has a "
            "single epoch (continuous features make every epoch its own condition); use "
            "noise_normalization='noise-cov' or 'channel-type' instead."
        )
    residuals = data.copy()
    for condition in labels:
        rows = conditions == condition
        residuals[rows] -= data[rows].mean(axis=0)
    scales = _type_scales(types, residuals)[:, None]
    data, residuals = data / scales, residuals / scales
    # Residuals of all time points stacked: the covariance averaged over time.
    stacked = residuals.transpose(0, 2, 1).reshape(-1, data.shape[1])
    covariance, _ = ledoit_wolf(stacked, assume_centered=True)
    values, vectors = eigh(covariance)
    inverse_sqrt = (vectors / np.sqrt(values)) @ vectors.T
    return np.einsum("ij,ejt->eit", inverse_sqrt, data)
