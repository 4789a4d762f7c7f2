"""Sensor neighbourhoods for spatio-temporal M/EEG searchlights."""

import numpy as np
from scipy.spatial import cKDTree

from ..core import check_positive_float

__all__ = ["sensor_neighbourhoods"]


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
    import mne

    n_channels = len(info["ch_names"])
    if radius is not None:
        radius = check_positive_float("radius", radius)
        positions = np.array([channel["loc"][:3] for channel in info["chs"]])
        if not np.isfinite(positions).all() or np.allclose(positions, 0):
            raise ValueError(
                "The channels have no sensor positions; set a montage "
                "(epochs.set_montage) or give radius=None for MNE's adjacency."
            )
        tree = cKDTree(positions)
        members = tree.query_ball_point(positions, r=radius * (1 + 1e-9))
        return [np.array(sorted(unit)) for unit in members]
    neighbourhoods = [None] * n_channels
    types = np.array(info.get_channel_types())
    for channel_type in np.unique(types):
        picks = np.flatnonzero(types == channel_type)
        if len(picks) == 1:
            neighbourhoods[picks[0]] = np.array(picks)
            continue
        try:
            adjacency, names = mne.channels.find_ch_adjacency(
                mne.pick_info(info, picks), ch_type=channel_type
            )
        except (RuntimeError, ValueError) as error:
            raise ValueError(
                f"MNE could not find the adjacency of the {channel_type} channels ({error}); "
                "set a montage or give a radius in metres."
            ) from error
        adjacency = adjacency.tocsr()
        position = {name: pick for name, pick in zip(np.array(info["ch_names"])[picks], picks)}
        local = [position[name] for name in names]
        for row, pick in enumerate(local):
            around = adjacency.indices[adjacency.indptr[row] : adjacency.indptr[row + 1]]
            neighbourhoods[pick] = np.array(sorted({pick, *(local[index] for index in around)}))
    return neighbourhoods
