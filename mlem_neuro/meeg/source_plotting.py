"""Figures of source-space results: the time course at the peak, the map at the peak time."""

import numpy as np
from scipy.spatial import cKDTree

from ..units import source_spacing

__all__ = ["plot_source_timecourse", "plot_source_peak_map"]


def plot_source_timecourse(result):
    """Score and importances over time at the peak place, with the mean over places.

    Parameters
    ----------
    result : SourceTimecourseResult

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    peak = result.peak()
    terms = result.results.term_names
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.75), constrained_layout=True)
    scores = result._grid("score")
    axes[0].plot(result.times, scores[peak["place"]], color="black", label=peak["name"])
    if len(result.places) > 1:
        axes[0].plot(result.times, scores.mean(axis=0), color="grey", label="mean over places")
    axes[0].set_title("score")
    axes[0].set_ylabel(
        "held-out Spearman" if result.results.fold_scores is not None else "in-sample Spearman"
    )
    for term in terms:
        axes[1].plot(result.times, result._grid(f"importance_{term}")[peak["place"]], label=term)
    axes[1].set_title(f"permutation importance at {peak['name']}")
    axes[1].set_ylabel("importance (drop in Spearman)")
    for axis in axes:
        axis.set_xlabel("time (s)")
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.axvline(0, color="grey", linewidth=0.5, linestyle=":")
        axis.axvline(peak["time_s"], color="tab:orange", linewidth=0.8, linestyle="--")
        axis.legend(fontsize="small")
    return figure


def plot_source_peak_map(result):
    """The score at the peak time on the cortex (surface sources).

    fsaverage sources without ``src`` are drawn on the inflated fsaverage5;
    others on the source space's own surface. Mesh vertices take the value of
    the nearest source within twice the source spacing, and are blank beyond.

    Parameters
    ----------
    result : SourceTimecourseResult

    Returns
    -------
    matplotlib Figure
    """
    from ..surface import plot_surface_map, surface_image

    space = result.space
    window = result.peak()["window"]
    values = result.to_stc("score").data[:, window]
    spacing = source_spacing(space.positions)
    data, start = {}, 0
    for hemisphere, part in zip(("left", "right"), space.vertices):
        coordinates = space.meshes[hemisphere][0]
        data[hemisphere] = np.full(len(coordinates), np.nan)
        if part.size:
            distance, nearest = cKDTree(coordinates[part]).query(coordinates)
            near = distance <= 2 * spacing
            data[hemisphere][near] = values[start + nearest[near]]
        start += len(part)
    on_fsaverage5 = len(space.meshes["left"][0]) == 10242 and space.subject == "fsaverage"
    mesh = "fsaverage5" if on_fsaverage5 else space.meshes
    title = f"score at {1000 * result.times[window]:.0f} ms"
    return plot_surface_map(surface_image(space.meshes, data), mesh, title=title)
