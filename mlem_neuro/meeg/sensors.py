"""Sensor neighbourhoods of MNE measurement info, for spatio-temporal MLEM and group tests."""

import numpy as np

from ..units import adjacency_neighbourhoods, neighbourhood_adjacency, radius_neighbourhoods

__all__ = ["sensor_neighbourhoods", "sensor_adjacency"]


def sensor_neighbourhoods(info, radius=None):
    """One neighbourhood per channel: the channel and the sensors around it.

    Parameters
    ----------
    info : mne.Info
        Measurement info of the picked channels, with sensor positions.
    radius : float or None
        None: MNE's channel adjacency (:func:`mne.channels.find_ch_adjacency`,
        a built-in neighbour template or a Delaunay triangulation), computed
        per channel type so that different sensor types do not mix. A float:
        every channel whose sensor lies within ``radius`` metres, whatever
        its type (a Neuromag location's gradiometers and magnetometer join).

    Returns
    -------
    list of n_channels int arrays
        Channel indices of each neighbourhood, centre included.
    """
    if radius is not None:
        positions = np.array([channel["loc"][:3] for channel in info["chs"]])
        if not np.isfinite(positions).all() or np.allclose(positions, 0):
            raise ValueError(
                "The channels have no sensor positions; set a montage "
                "(epochs.set_montage) or give radius=None for MNE's adjacency."
            )
        return radius_neighbourhoods(positions, radius)
    neighbourhoods = [None] * len(info["ch_names"])
    types = np.array(info.get_channel_types())
    for channel_type in np.unique(types):
        picks = np.flatnonzero(types == channel_type)
        for pick, unit in zip(picks, _type_neighbourhoods(info, picks, channel_type)):
            neighbourhoods[pick] = unit
    return neighbourhoods


def _type_neighbourhoods(info, picks, channel_type):
    """Neighbourhoods among the channels ``picks`` of one type, as indices into ``info``."""
    import mne

    if len(picks) == 1:
        return [np.array(picks)]
    try:
        adjacency, names = mne.channels.find_ch_adjacency(
            mne.pick_info(info, picks), ch_type=channel_type
        )
    except (RuntimeError, ValueError) as error:
        raise ValueError(
            f"MNE could not find the adjacency of the {channel_type} channels ({error}); "
            "set a montage or give a radius in metres."
        ) from error
    position = dict(zip(np.array(info["ch_names"])[picks], picks))
    local = np.array([position[name] for name in names])
    by_name = [local[unit] for unit in adjacency_neighbourhoods(adjacency)]
    order = np.argsort(local)  # find_ch_adjacency may list channels in its own order
    return [np.sort(by_name[row]) for row in order]


def sensor_adjacency(info, radius=None):
    """Channel adjacency for cluster tests, from the same neighbourhoods.

    Parameters
    ----------
    info : mne.Info
    radius : float or None
        As in :func:`sensor_neighbourhoods` (metres).

    Returns
    -------
    sparse array of shape (n_channels, n_channels)
    """
    return neighbourhood_adjacency(sensor_neighbourhoods(info, radius))
