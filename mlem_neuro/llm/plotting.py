"""Figure of a layer profile."""

__all__ = ["plot_layer_profile"]


def plot_layer_profile(profile, path=None, title=None, cross_validated=True):
    """Score and importances across layers.

    Parameters
    ----------
    profile : DataFrame
        From :func:`mlem_neuro.llm.layer_profile` (columns layer, score,
        importance_<term>).
    path : str or Path, optional
        Save the figure there and close it.
    title : str, optional
    cross_validated : bool
        Whether scores are held-out (labels the axis).

    Returns
    -------
    matplotlib Figure (None when saved)
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
    axes[0].plot(profile["layer"], profile["score"], "o-", color="black")
    axes[0].set_ylabel("held-out Spearman" if cross_validated else "Spearman")
    axes[0].set_title("score" + (f": {title}" if title else ""))
    for column in profile.columns:
        if column.startswith("importance_"):
            axes[1].plot(
                profile["layer"], profile[column], "o-", label=column.removeprefix("importance_")
            )
    axes[1].set_title("permutation importance")
    axes[1].set_ylabel("importance (drop in Spearman)")
    axes[1].legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    for axis in axes:
        axis.set_xlabel("layer (0 = embeddings)")
        axis.axhline(0, color="grey", linewidth=0.5)
    if path is None:
        return figure
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return None
