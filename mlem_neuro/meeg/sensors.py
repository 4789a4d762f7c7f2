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
        a built-in neighbour template or a Delaunay triangulation, restricted
        to the channels present: bad channels and subsets are fine), computed
        per channel type so that different sensor types do not mix. A float:
        every channel whose sensor lies within ``radius`` metres, whatever
        its type (a Neuromag location's gradiometers and magnetometer join),
        with every position in the head frame (MEG sensors moved there by
        ``info["dev_head_t"]``).

    Returns
    -------
    list of n_channels int arrays
        Channel indices of each neighbourhood, centre included.
    """
    if radius is not None:
        return radius_neighbourhoods(_head_positions(info), radius)
    neighbourhoods = [None] * len(info["ch_names"])
    types = np.array(info.get_channel_types())
    for channel_type in np.unique(types):
        picks = np.flatnonzero(types == channel_type)
        for pick, unit in zip(picks, _type_neighbourhoods(info, picks, channel_type)):
            neighbourhoods[pick] = unit
    return neighbourhoods


def _head_positions(info):
    """Sensor positions in the head frame: array of shape (n_channels, 3), metres."""
    from mne.io.constants import FIFF
    from mne.transforms import apply_trans

    positions = np.array([channel["loc"][:3] for channel in info["chs"]])
    if not np.isfinite(positions).all() or np.allclose(positions, 0):
        raise ValueError(
            "The channels have no sensor positions; set a montage "
            "(epochs.set_montage) or give radius=None for MNE's adjacency."
        )
    in_device = np.array(
        [channel["coord_frame"] == FIFF.FIFFV_COORD_DEVICE for channel in info["chs"]]
    )
    if in_device.any() and not in_device.all():
        if info["dev_head_t"] is None:
            raise ValueError(
                "The MEG sensors are in the device frame and the other sensors in the head "
                "frame, but info['dev_head_t'] is None: radius neighbourhoods cannot mix "
                "them. Set the device-to-head transform, or pick one sensor family."
            )
        positions[in_device] = apply_trans(info["dev_head_t"], positions[in_device])
    return positions


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
    # A template lists every sensor of its system: keep those present (bads and subsets out).
    present = [index for index, name in enumerate(names) if name in position]
    missing = sorted(set(position) - {names[index] for index in present})
    if missing:
        raise ValueError(
            f"MNE's adjacency of the {channel_type} channels does not list {missing[:5]}; "
            "give a radius in metres instead."
        )
    adjacency = adjacency.tocsr()[present][:, present]
    local = np.array([position[names[index]] for index in present])
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
