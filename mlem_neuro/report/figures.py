"""Figures every report shares: feature correlations, learned metrics, training diagnostics."""

import numpy as np

__all__ = [
    "distance_correlation_figure",
    "metric_heatmaps",
    "steps_figure",
    "fold_scores_figure",
    "best_units",
]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def distance_correlation_figure(design):
    """Heat map of the correlations between features' distances across pairs."""
    plt = _plt()
    names = [feature["name"] for feature in design["features"]]
    matrix = np.asarray(design["distance_correlations"])
    # Sizes in quarter inches: MNE renders figures at whole pixels.
    size = 1.5 + 0.5 * len(names)
    figure, axis = plt.subplots(figsize=(size + 1.25, size), constrained_layout=True)
    image = axis.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axis.set_yticks(range(len(names)), names)
    if len(names) <= 12:
        for (row, column), value in np.ndenumerate(matrix):
            axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize="small")
    figure.colorbar(image, ax=axis, label="Pearson r across pairs")
    axis.set_title("correlation of feature distances")
    return figure


def best_units(scores, n):
    """Indices of the ``n`` best-scoring units (finite scores only), best first."""
    scores = np.asarray(scores, dtype=float)
    finite = np.flatnonzero(np.isfinite(scores))
    return finite[np.argsort(scores[finite])[::-1][:n]]


def metric_heatmaps(results, labels, n=4):
    """Heat maps of the learned metric W of the best units.

    Parameters
    ----------
    results : UnitResults
    labels : list of str
        A label for every unit (sphere centre, time, layer).
    n : int
        Units shown.

    Returns
    -------
    matplotlib Figure
    """
    plt = _plt()
    chosen = best_units(results.scores, n)
    names = results.feature_names
    size = 1.25 + 0.25 * len(names)  # quarter inches: MNE renders at whole pixels
    figure, axes = plt.subplots(
        1,
        len(chosen),
        figsize=(size * len(chosen) + 1.5, size + 0.75),
        squeeze=False,
        constrained_layout=True,
    )
    limit = float(np.abs(results.metrics[chosen]).max()) or 1.0
    for axis, unit in zip(axes[0], chosen):
        image = axis.imshow(results.metrics[unit], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axis.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize="small")
        axis.set_yticks(range(len(names)), names, fontsize="small")
        axis.set_title(f"{labels[unit]}\nscore {results.scores[unit]:.3f}", fontsize="small")
    figure.colorbar(image, ax=axes[0, -1], label="W (unit Frobenius norm)", shrink=0.8)
    return figure


def steps_figure(steps, max_steps=None):
    """Histogram of the optimisation steps each unit ran, with the step budget marked."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(6, 3.25), constrained_layout=True)
    axis.hist(steps, bins=min(50, max(5, len(np.unique(steps)))), color="0.4")
    title = "training length"
    if max_steps and np.max(steps) >= max_steps / 2:
        axis.axvline(max_steps, color="tab:red", linestyle="--", label=f"budget ({max_steps})")
        axis.legend(fontsize="small")
    elif max_steps:  # a line far to the right would squeeze the histogram into a sliver
        title += f" (budget {max_steps}, far from reached)"
    axis.set_xlabel("steps run (grouped fits: evaluations; the most over folds)")
    axis.set_ylabel("units")
    axis.set_title(title)
    return figure


def fold_scores_figure(fold_scores):
    """Score distribution of every cross-validation fold across units."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(6, 3.25), constrained_layout=True)
    folds = [row[np.isfinite(row)] for row in np.asarray(fold_scores)]
    axis.boxplot(folds, showfliers=False)
    axis.set_xticks(range(1, len(folds) + 1), [str(k + 1) for k in range(len(folds))])
    axis.set_xlabel("fold")
    axis.set_ylabel("held-out Spearman (units)")
    axis.axhline(0, color="grey", linewidth=0.5)
    axis.set_title("scores of each fold")
    return figure
