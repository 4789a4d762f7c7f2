"""Figures of M/EEG results: time courses and temporal generalisation."""

import textwrap

import numpy as np

__all__ = ["plot_timecourse", "row_similarity", "generalization_caveat"]


def row_similarity(generalization):
    """Median correlation between the rows of a generalisation matrix.

    Rows are the metrics learned at each time. When the features let a metric
    rank pairs in only a few ways (two binary features and a diagonal metric
    give two), every row predicts like every other, whatever the time it was
    learned at, and rows correlate near 1.

    Parameters
    ----------
    generalization : array of shape (n_windows, n_windows)

    Returns
    -------
    float
    """
    rows = np.nan_to_num(np.asarray(generalization, dtype=float))
    centred = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    keep = norms > 0
    if keep.sum() < 2:
        return 1.0
    unit = centred[keep] / norms[keep, None]
    correlations = unit @ unit.T
    return float(np.median(correlations[np.triu_indices(len(unit), k=1)]))


def generalization_caveat(generalization, threshold=0.95, short=False):
    """A sentence for readers when the rows of the matrix are nearly all alike, else None.

    ``short`` gives the version drawn on the figure.
    """
    if len(generalization) < 3:
        return None
    similarity = row_similarity(generalization)
    if similarity < threshold:
        return None
    if short:
        return (
            f"Rows nearly identical (median r = {similarity:.2f}): metrics learned at "
            "different times rank pairs alike. Read the diagonal and the columns."
        )
    return (
        f"Rows are nearly identical (median correlation {similarity:.2f}): metrics learned at "
        "different times rank pairs the same way, as they must when the features allow few "
        "rankings (two binary features and a diagonal metric allow two). Read the diagonal "
        "and the columns (when the geometry follows the features), not the rows."
    )


def plot_timecourse(result, path=None):
    """Score and importances over time (mean over sensors when spatial), and generalisation.

    Parameters
    ----------
    result : TimecourseResult
    path : str or Path, optional
        Save the figure there and close it.

    Returns
    -------
    matplotlib Figure (None when saved)
    """
    import matplotlib.pyplot as plt

    table = result.to_dataframe()
    if result.spatial:
        table = table.drop(columns="channel").groupby("time", sort=True).mean().reset_index()
    panels = 3 if result.generalization is not None else 2
    figure, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 3.75), constrained_layout=True)
    cross_validated = result.results.fold_scores is not None
    score_label = "held-out Spearman" if cross_validated else "in-sample Spearman"
    axes[0].plot(table["time"], table["score"], color="black")
    axes[0].set_ylabel(score_label)
    axes[0].set_title("score" + (" (mean over sensors)" if result.spatial else ""))
    for column in table.columns:
        if column.startswith("importance_"):
            axes[1].plot(table["time"], table[column], label=column.removeprefix("importance_"))
    axes[1].set_ylabel("importance (drop in Spearman)")
    axes[1].set_title("permutation importance")
    axes[1].legend(fontsize="small")
    for axis in axes[:2]:
        axis.set_xlabel("time (s)")
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.axvline(0, color="grey", linewidth=0.5, linestyle=":")
    if result.generalization is not None:
        _plot_generalization(figure, axes[2], result.generalization, result.times, score_label)
    if path is None:
        return figure
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return None


def _plot_generalization(figure, axis, matrix, times, label):
    extent = [times[0], times[-1], times[0], times[-1]]
    limit = np.nanmax(np.abs(matrix)) or 1.0
    image = axis.imshow(
        matrix, origin="lower", extent=extent, cmap="RdBu_r", vmin=-limit, vmax=limit
    )
    axis.set_xlabel("scored at (s)")
    axis.set_ylabel("learned at (s)")
    axis.set_title("temporal generalisation")
    figure.colorbar(image, ax=axis, shrink=0.8, label=label)
    caveat = generalization_caveat(matrix, short=True)
    if caveat:
        axis.text(
            0.02,
            0.98,
            textwrap.fill(caveat, 38),
            transform=axis.transAxes,
            va="top",
            fontsize="x-small",
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.6"},
        )
