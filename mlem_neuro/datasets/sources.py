"""Simulated EEG epochs with a planted source, and an inverse operator, made offline.

MNE's fsaverage surfaces are a download; nilearn ships fsaverage5 (ico-5), whose
white, pial and sphere surfaces are all MNE needs for an ico-4 (or ico-5)
surface source space. With MNE's standard 10-20 montage, its bundled
fsaverage head-to-MRI transform and a spherical head model, this gives a
forward model, simulated epochs and an inverse operator with no network.
"""

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["fsaverage5_subjects_dir", "make_source_epochs"]

#: fsaverage vertex at the centre of the planted patch: lateral left temporal cortex, near the
#: scalp, where EEG localises best.
PLANTED_SOURCE_VERTEX = 2286


def fsaverage5_subjects_dir(path):
    """A FreeSurfer subjects folder holding fsaverage's white, pial and sphere (fsaverage5).

    Parameters
    ----------
    path : str or Path
        Created; ``path/fsaverage/surf/{lh,rh}.{white,pial,sphere}`` are written.

    Returns
    -------
    Path
        The subjects folder, for ``mne.setup_source_space(..., subjects_dir=)``.
    """
    import nibabel as nib
    from nilearn.datasets import load_fsaverage

    surf = Path(path) / "fsaverage" / "surf"
    surf.mkdir(parents=True, exist_ok=True)
    meshes = load_fsaverage("fsaverage5")
    for hemisphere, prefix in (("left", "lh"), ("right", "rh")):
        for name, key in (("white", "white_matter"), ("pial", "pial"), ("sphere", "sphere")):
            mesh = meshes[key].parts[hemisphere]
            coordinates = np.asarray(mesh.coordinates, dtype=float)
            if name == "sphere":  # FreeSurfer's spheres have a 100 mm radius
                coordinates = 100 * coordinates / np.linalg.norm(coordinates, axis=1)[:, None]
            nib.freesurfer.write_geometry(
                surf / f"{prefix}.{name}", coordinates, np.asarray(mesh.faces)
            )
    return Path(path)


def make_source_epochs(
    subjects_dir,
    n_epochs=60,
    spacing="ico4",
    effect=3.0,
    noise=1.0,
    planted_mm=10.0,
    window=(0.2, 0.3),
    random_state=0,
):
    """EEG epochs whose sources encode ``animate`` in a cortical patch during a time window.

    Parameters
    ----------
    subjects_dir : str or Path
        From :func:`fsaverage5_subjects_dir`.
    n_epochs : int
    spacing : {"ico4", "ico5"}
        The source space (2,562 or 10,242 sources per hemisphere).
    effect, noise : float
        Amplitude of the planted pattern and of the source noise (nAm).
    planted_mm : float
        Radius, along the cortex, of the patch around :data:`PLANTED_SOURCE_VERTEX`.
    window : tuple of float
        When the patch encodes ``animate``, in seconds.
    random_state : int

    Returns
    -------
    epochs : mne.EpochsArray
        60 EEG channels of the 10-20 montage, -0.1 to 0.4 s at 100 Hz, average
        reference, metadata column ``animate``.
    inverse_operator : mne.minimum_norm.InverseOperator
        Fixed orientation, noise covariance from the baseline.
    planted : int array
        fsaverage vertices of the planted patch (left hemisphere) that are sources.
    """
    import mne

    from ..units import geodesic_discs

    rng = np.random.default_rng(random_state)
    src = mne.setup_source_space(
        "fsaverage", spacing=spacing, subjects_dir=subjects_dir, add_dist=False, verbose="error"
    )
    montage = mne.channels.make_standard_montage(_montage_name(mne))
    info = mne.create_info(montage.ch_names[:60], 100.0, "eeg")
    info.set_montage(montage)
    sphere = mne.make_sphere_model("auto", "auto", info, verbose="error")
    forward = mne.make_forward_solution(
        info, trans="fsaverage", src=src, bem=sphere, eeg=True, meg=False, verbose="error"
    )
    forward = mne.convert_forward_solution(forward, surf_ori=True, verbose="error")
    fixed = mne.convert_forward_solution(forward, force_fixed=True, copy=True, verbose="error")
    used = forward["src"]
    white = (used[0]["rr"] * 1000, used[0]["tris"])
    sources = np.zeros(len(white[0]), bool)
    sources[used[0]["vertno"]] = True
    discs = geodesic_discs(*white, planted_mm, sources=sources)
    centre = np.searchsorted(used[0]["vertno"], _nearest_source(used[0], PLANTED_SOURCE_VERTEX))
    planted_rows = discs[[centre]].indices
    times = -0.1 + np.arange(51) / 100.0
    active = (times >= window[0]) & (times <= window[1])
    animate = rng.integers(0, 2, n_epochs).astype(bool)
    # Same-signed currents over the patch, as a patch of cortex gives, with varied strengths.
    direction = 0.5 + rng.random(len(planted_rows))
    gain = fixed["sol"]["data"]
    data = np.empty((n_epochs, len(info["ch_names"]), len(times)))
    for epoch, label in enumerate(animate):
        activity = noise * rng.standard_normal((gain.shape[1], len(times)))
        activity[np.ix_(planted_rows, active)] += effect * direction[:, None] * (2 * label - 1)
        data[epoch] = gain @ activity * 1e-9
    data += 0.2 * data.std() * rng.standard_normal(data.shape)
    metadata = pd.DataFrame({"animate": animate})
    epochs = mne.EpochsArray(data, info, tmin=times[0], metadata=metadata, verbose="error")
    epochs.set_eeg_reference(projection=True, verbose="error")
    covariance = mne.compute_covariance(epochs, tmax=0.0, verbose="error")
    inverse = mne.minimum_norm.make_inverse_operator(
        epochs.info, forward, covariance, loose=0.0, verbose="error"
    )
    return epochs, inverse, used[0]["vertno"][planted_rows]


def _nearest_source(space, vertex):
    """The source of a source space nearest (in 3-D) to a vertex of its surface."""
    positions = space["rr"][space["vertno"]]
    return space["vertno"][np.argmin(np.linalg.norm(positions - space["rr"][vertex], axis=1))]


def _montage_name(mne):
    builtin = mne.channels.get_builtin_montages()
    return "colin27_1020" if "colin27_1020" in builtin else "standard_1020"
