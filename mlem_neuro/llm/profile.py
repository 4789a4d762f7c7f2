"""Layer profiles: MLEM on every layer of a network, fitted in one batched call."""

import dataclasses
import time

import numpy as np

from ..core import FitOptions, UnitResults, fit_units, recorded_warnings
from ..outputs import fit_parameters, open_result_folder

__all__ = ["LayerProfileResult", "layer_profile", "layer_units"]


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


@dataclasses.dataclass
class LayerProfileResult:
    """What MLEM found in every layer of a network.

    Attributes
    ----------
    layers : array of shape (n_layers,)
        Label of each layer (0 is the embeddings for :func:`hidden_states`).
    results : UnitResults
        Per-layer arrays (metrics, fold scores...), for example for
        :func:`mlem_neuro.llm.compare_metrics`.
    parameters : dict
        How the profile was made (for summary.json).
    """

    layers: np.ndarray
    results: UnitResults
    parameters: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored):
        """The result of a layers result folder (see :func:`mlem_neuro.outputs.read_result`)."""
        return cls(
            layers=stored.table("layers")["layer"].to_numpy(),
            results=stored.unit_results(),
            parameters=stored.summary,
        )

    def to_dataframe(self):
        """One row per layer: ``layer``, ``score``, ``importance_<term>``.

        Returns
        -------
        DataFrame
        """
        table = self.results.to_dataframe()
        table.insert(0, "layer", self.layers)
        return table

    def plot(self, path=None, title=None):
        """Score and importances across layers (see :func:`plot_layer_profile`)."""
        from .plotting import plot_layer_profile

        cross_validated = self.results.fold_scores is not None
        return plot_layer_profile(self.to_dataframe(), path, title, cross_validated)

    def save(self, out_dir, *, overwrite=False, title=None):
        """Write layers.tsv, units.npz, layers.png and summary.json.

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        overwrite : bool
        title : str, optional
            Title of the figure (the model's name).

        Returns
        -------
        Path
        """
        with open_result_folder(out_dir, "layers", overwrite=overwrite) as folder:
            table = self.to_dataframe()
            folder.write_table("layers", table)
            folder.write_units(self.results)
            folder.write_figure("layers", self.plot(title=title))
            best = table.loc[table["score"].idxmax(), "layer"]
            folder.update_summary(
                **self.parameters,
                n_layers=len(self.layers),
                best_layer=best.item() if hasattr(best, "item") else best,
            )
        return folder.path


def layer_profile(
    features,
    hidden_states,
    *,
    layers=None,
    cv=5,
    groups=None,
    options=None,
    checkpoint=None,
    **settings,
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
    groups : array of shape (n_sentences,), optional
        Group of each sentence (an item or a template), kept within folds.
    options : FitOptions, optional
        Fit settings (see :class:`mlem_neuro.FitOptions`).
    checkpoint : str or Path, optional
        Folder for finished chunks: an interrupted profile resumes there.
    **settings
        Fields of :class:`mlem_neuro.FitOptions` replacing those of
        ``options``.

    Returns
    -------
    LayerProfileResult
    """
    started = time.perf_counter()
    options = FitOptions.resolve(options, **settings)
    Y, units = layer_units(hidden_states)
    if len(features) != Y.shape[0]:
        raise ValueError(
            f"features has {len(features)} rows but the hidden states have {Y.shape[0]} "
            "sentences; give one row per sentence, in order."
        )
    labels = np.arange(len(units)) if layers is None else np.asarray(layers)
    if len(labels) != len(units):
        raise ValueError(f"layers has {len(labels)} labels for {len(units)} layers.")
    with recorded_warnings() as messages:
        results = fit_units(
            features, Y, units, options=options, cv=cv, groups=groups, checkpoint=checkpoint
        )
    parameters = fit_parameters(options, cv, groups, len(features), started)
    parameters["warnings"] = messages
    parameters["layer_widths"] = [len(unit) for unit in units]
    return LayerProfileResult(layers=labels, results=results, parameters=parameters)
