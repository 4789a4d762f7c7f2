"""Layer profiles: MLEM on every layer of a network, fitted in one batched call."""

import numpy as np

from ..core import fit_units

__all__ = ["layer_profile", "layer_units"]


def layer_units(hidden_states):
    """Stack layers side by side and give each layer's columns as a unit.

    Parameters
    ----------
    hidden_states : array of shape (n_layers, n_sentences, hidden) or list of arrays
        One array of shape (n_sentences, width) per layer; widths may differ.

    Returns
    -------
    Y : array of shape (n_sentences, total_width), float32
    units : list of int arrays
        Columns of each layer.
    """
    layers = list(hidden_states)
    if not layers:
        raise ValueError("hidden_states holds no layer.")
    shapes = [np.shape(layer) for layer in layers]
    if any(len(shape) != 2 for shape in shapes):
        raise ValueError(
            "hidden_states must be (n_layers, n_sentences, hidden) or a list of "
            f"(n_sentences, width) arrays, got layer shapes {shapes[:3]}..."
        )
    if len({shape[0] for shape in shapes}) != 1:
        raise ValueError(f"Layers have different numbers of sentences: {[s[0] for s in shapes]}.")
    Y = np.concatenate([np.asarray(layer, dtype=np.float32) for layer in layers], axis=1)
    bounds = np.cumsum([0] + [shape[1] for shape in shapes])
    return Y, [np.arange(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def layer_profile(
    features, hidden_states, *, layers=None, cv=5, return_results=False, **fit_kwargs
):
    """Which features each layer's geometry encodes, every layer in one batched fit.

    Parameters
    ----------
    features : DataFrame of shape (n_sentences, n_features)
    hidden_states : array of shape (n_layers, n_sentences, hidden) or list of arrays
        From :func:`mlem_neuro.llm.hidden_states`, or layers of different
        widths as a list of (n_sentences, width) arrays.
    layers : list, optional
        Label of each layer (default 0 ... n_layers - 1, 0 being the
        embeddings for :func:`hidden_states` output).
    cv : int, splitter or None
        Cross-validation over sentences (5 folds by default): scores are
        Spearman correlations on held-out sentences' pairs.
    return_results : bool
        Also return the :class:`mlem_neuro.UnitResults` (metrics, fold
        scores), e.g. for :func:`mlem_neuro.llm.compare_metrics`.
    **fit_kwargs
        Passed to :func:`mlem_neuro.fit_units` (interactions, distance,
        groups, device, random_state...).

    Returns
    -------
    DataFrame with columns ``layer``, ``score``, ``importance_<term>``
        One row per layer. With ``return_results``, a tuple (table, results).
    """
    Y, units = layer_units(hidden_states)
    if len(features) != Y.shape[0]:
        raise ValueError(
            f"features has {len(features)} rows but the hidden states have {Y.shape[0]} "
            "sentences; give one row per sentence, in order."
        )
    labels = np.arange(len(units)) if layers is None else np.asarray(layers)
    if len(labels) != len(units):
        raise ValueError(f"layers has {len(labels)} labels for {len(units)} layers.")
    results = fit_units(features, Y, units, cv=cv, **fit_kwargs)
    table = results.to_dataframe()
    table.insert(0, "layer", labels)
    return (table, results) if return_results else table
