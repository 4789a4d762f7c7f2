"""The words and tables of a report: methods paragraph, design, warnings, provenance."""

import html

import pandas as pd

from ..core.options import GROUPED_PATIENCE

__all__ = [
    "methods_paragraph",
    "headline",
    "features_table",
    "warnings_html",
    "provenance_table",
    "table_html",
    "group_methods_paragraph",
]

_UNITS = {
    "searchlight": "searchlight spheres",
    "roi": "regions of interest",
    "timecourse": "time windows",
    "layers": "network layers",
}


def table_html(table, float_format="{:.4g}"):
    """A DataFrame as a compact HTML table that scrolls sideways rather than overflow."""
    formatters = {
        str(column): float_format.format
        for column in table.columns
        if pd.api.types.is_float_dtype(table[column])
    }
    # A zero-width space after each underscore lets long headers wrap.
    headers = {str(column): str(column).replace("_", "_\u200b") for column in table.columns}
    body = table.rename(columns=str).to_html(
        index=False,
        classes="table table-sm table-striped",
        border=0,
        formatters=formatters,
        justify="left",
        header=list(headers.values()),
    )
    return f'<div style="overflow-x: auto">{body}</div>'


def _names(names):
    names = [str(name) for name in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _folds(summary):
    info = summary.get("fit_info", {})
    n_folds = info.get("n_folds", 1)
    if summary.get("cv") in (None, "None"):
        return (
            "Scores are in-sample Spearman correlations over every pair (no "
            "cross-validation): they are biased upward and should not enter a group test."
        )
    grouped = " over groups (runs or sessions)" if summary.get("grouped_cv") else ""
    return (
        f"Scores are Spearman correlations between predicted and neural distances on "
        f"held-out pairs, averaged over {n_folds}-fold cross-validation{grouped}; only pairs "
        "within the training stimuli were fitted and only pairs within the test stimuli "
        "scored, so no pair mixed the two."
    )


def _units_sentence(summary):
    kind = summary.get("kind")
    n_units = len(summary.get("unit_labels", [])) or summary.get("n_spheres")
    what = _UNITS.get(kind, "units")
    if kind == "searchlight":
        return f"in {summary['n_spheres']:,} searchlight spheres of {summary['radius_mm']:g} mm"
    if kind == "surface_searchlight":
        sizes = summary.get("disc_vertices", {})
        return (
            f"in {summary['n_discs']:,} discs of {summary['radius_mm']:g} mm along the cortex "
            f"(midthickness; {sizes.get('median', '?'):g} vertices at the median, "
            f"{sizes.get('min', '?')} to {sizes.get('max', '?')})"
        )
    if kind == "source_timecourse":
        return _source_units(summary)
    if kind == "timecourse":
        spatial = " and sensor neighbourhoods" if summary.get("spatial") else ""
        return f"in {summary.get('n_windows', '?')} time windows{spatial}"
    if kind == "layers":
        return f"in each of the {summary.get('n_layers', '?')} layers"
    return f"in {n_units or 'each of the'} {what}"


def _source_units(summary):
    windows = f"{summary.get('n_windows', '?')} time windows"
    sources = f"{summary.get('n_sources', 0):,} {summary.get('source_kind', '')} sources"
    if summary.get("mode") == "searchlight":
        shape = "disc along the cortex" if summary.get("source_kind") == "surface" else "ball"
        return (
            f"in {windows} of the {sources}, each with the sources within "
            f"{summary.get('radius_mm'):g} mm (a {shape}; "
            f"{summary['place_sources']['median']:g} sources at the median)"
        )
    if summary.get("mode") == "labels":
        return f"in {windows} of each of {summary.get('n_places')} labels of the {sources}"
    return f"in {windows} of all {sources}"


_GROUP_TESTS = {
    "searchlight": "nilearn's non-parametric second-level inference (max-t for voxels, "
    "cluster size and mass above a cluster-forming threshold of p < {threshold}{tfce})",
    "surface_searchlight": "the maximum statistic across vertices (the largest t), and MNE's "
    "cluster-based permutation test over the mesh adjacency of each hemisphere (cluster mass "
    "above a cluster-forming threshold of p < {threshold}{tfce})",
    "timecourse": "MNE's cluster-based permutation test over time (and sensors), clusters formed "
    "at the t value of p < 0.05",
    "layers": "the maximum statistic across layers (the largest t, not the largest |t|)",
    "roi": "the maximum statistic across regions (the largest t, not the largest |t|)",
}


def group_methods_paragraph(summary):
    """The methods paragraph of a group test, from its summary.json (HTML)."""
    arguments = summary.get("arguments", {})
    test = _GROUP_TESTS[summary["kind_tested"]].format(
        threshold=arguments.get("cluster_threshold", 0.001),
        tfce=", and TFCE" if arguments.get("tfce") else "",
    )
    flips = (
        f"all {summary['n_permutations_run'] + 1} sign flips, the identity included (exact test)"
        if summary.get("exact_test")
        else f"{summary['n_permutations_run']:,} random sign flips and the identity"
    )
    baseline = summary.get("baseline") or 0
    against = f"{baseline:g}" if baseline else "zero"
    return (
        f"<p>The {summary['measure']} of each of the {summary['n_subjects']} subjects was "
        f"tested against {against} with a one-sided, one-sample sign-flip permutation test, using "
        f"{test}, with {flips}; p-values are corrected for the family of tests "
        f"(family-wise error). The smallest p-value this test can give is "
        f"{summary['smallest_possible_pvalue']:.3g}.</p>"
    )


def methods_paragraph(summary):
    """A methods paragraph written from summary.json, ready to adapt.

    Parameters
    ----------
    summary : dict

    Returns
    -------
    str
        HTML.
    """
    if summary.get("kind") == "group":
        return group_methods_paragraph(summary)
    options = summary.get("options", {})
    versions = summary.get("versions", {})
    method = options.get("method", "mlem")
    fitted = (
        "Metric Learning Encoding Models (MLEM; Jalouzot et al., 2024)"
        if method == "mlem"
        else f"metrics by {_REGRESSIONS[method]}, the feature-reweighted RSA baseline of Metric "
        "Learning Encoding Models (MLEM; Jalouzot et al., 2024),"
    )
    sentences = [
        f"We fitted {fitted} with mlem_neuro {versions.get('mlem_neuro', '')} (PyTorch "
        f"{versions.get('torch', '')}) {_units_sentence(summary)}.",
        _model_sentence(summary),
        _mlem_sentence(summary) if options.get("method", "mlem") == "mlem" else "",
        _folds(summary),
        _importance_sentence(summary),
    ]
    return "<p>" + " ".join(sentence for sentence in sentences if sentence) + "</p>"


_REGRESSIONS = {
    "nnls": "non-negative least squares",
    "ols": "ordinary least squares",
}


def _model_sentence(summary):
    """What was learned for each unit, and by which criterion."""
    options = summary.get("options", {})
    info = summary.get("fit_info", {})
    features = summary.get("features", [])
    metric = (
        "a full symmetric positive semi-definite metric W (features and their pairwise "
        "interactions)"
        if options.get("interactions")
        else "a diagonal metric W"
    )
    over = f"over the {len(features)} feature{'s' if len(features) > 1 else ''} {_names(features)}"
    extra = [":".join(term) for term in options.get("extra_terms", ())]
    if extra:
        over += (
            f", with the products of feature distances {_names(extra)} as extra terms, each "
            "with a free weight (W and those weights normalised together),"
        )
    pairs = f"the {info.get('n_pairs', 0):,} pairs of the {summary.get('n_stimuli', '?')} stimuli"
    distance = options.get("distance", "euclidean")
    method = options.get("method", "mlem")
    if method != "mlem":
        target = "squared euclidean" if distance == "euclidean" else distance
        return (
            f"For each unit, {metric} {over} was fitted by {_REGRESSIONS[method]}: a regression "
            f"of the {target} neural distances of the training pairs among {pairs} on the "
            "terms of the predicted distance d<sup>T</sup>W d, with an intercept, as in "
            "feature-reweighted RSA (Kaniuth &amp; Hebart, 2022). Its weights are scaled to "
            "unit norm and scored as MLEM's are."
        )
    optimiser = (
        "by BFGS with a backtracking line search per unit"
        if info.get("training", "").startswith("exact")
        else f"with AdamW (learning rate {options.get('learning_rate')})"
    )
    return (
        f"For each unit, {metric} {over} was learned so that the predicted distance "
        f"d<sup>T</sup>W d ranks {pairs} like their {distance} neural distances, by "
        "maximising a differentiable Spearman correlation (l2 soft ranks, regularisation "
        f"{options.get('regularization')}) {optimiser}."
    )


def _mlem_sentence(summary):
    """How MLEM's optimisation went over the pairs, started and stopped."""
    options = summary.get("options", {})
    training = summary.get("fit_info", {}).get("training", "")
    patience = options.get("patience")
    if training.startswith("exact"):
        patience = GROUPED_PATIENCE if patience == "auto" else patience
        stalls = (
            "at the first iteration" if patience == 1 else f"after {patience} iterations in a row"
        )
        return (
            "Each fit started from the closed-form optimum of the Pearson correlation with "
            "neural ranks; every step used every training pair, grouped by feature-distance "
            f"pattern ({training.removeprefix('exact over ')} in the first fold). A unit "
            f"stopped {stalls} without an improvement of "
            f"{options.get('tol')} of its training score, or when its line search found no "
            f"rise (at most {options.get('max_steps')} evaluations). W is scaled to unit "
            "Frobenius norm."
        )
    patience = 30 if patience == "auto" else patience
    regularization = options.get("regularization", 1.0)
    return (
        "Each fit started from the closed-form optimum of the Pearson correlation with neural "
        f"ranks on a sample of pairs; each step drew a batch of pairs "
        f"({training.removeprefix('sampled: ')}). Progress was judged every 10 steps by the "
        "exact Spearman correlation on a fixed sample of 50,000 training pairs, keeping the "
        "best parameters; a unit's step size halved at each evaluation without improvement, "
        f"and it stopped after {patience} steps without one. This ran twice, with soft-rank "
        f"regularisation {regularization:g} then {0.3 * regularization:g}, the second from the "
        f"best parameters of the first (at most {options.get('max_steps')} steps in all). "
        "W is scaled to unit Frobenius norm."
    )


def _importance_sentence(summary):
    """How importances were measured, when they were."""
    repeats = summary.get("options", {}).get("n_repeats")
    if not repeats:
        return ""
    pairs = summary.get("fit_info", {}).get("importance_pairs", "all")
    sampled = (
        ""
        if pairs == "all"
        else f", each repeat scored on its own random sample of {pairs:,} pairs; standard "
        "errors from the spread over repeats"
    )
    return (
        "The importance of a feature (or interaction) is the mean drop in that score when "
        f"its distances are shuffled across pairs ({repeats} shuffles{sampled})."
    )


def headline(summary):
    """One or two sentences with the main number of the result, as HTML."""
    kind = summary.get("kind")
    if kind == "searchlight":
        text = f"Best sphere: held-out score {summary.get('max_score', float('nan')):.3f}."
    elif kind == "surface_searchlight":
        text = f"Best disc: held-out score {summary.get('max_score', float('nan')):.3f}."
    elif kind == "source_timecourse":
        peak = summary.get("peak", {})
        text = (
            f"Peak score {peak.get('score', float('nan')):.3f} at "
            f"{1000 * peak.get('time_s', float('nan')):.0f} ms, {peak.get('name', '')}."
        )
    elif kind == "timecourse":
        peak = summary.get("peak", {})
        text = (
            f"Peak score {peak.get('score', float('nan')):.3f} at "
            f"{1000 * peak.get('time_s', float('nan')):.0f} ms"
            + (f" ({peak['channel']})" if "channel" in peak else "")
            + "."
        )
    elif kind == "layers":
        text = f"Best layer: {summary.get('best_layer')}."
    elif kind == "roi":
        text = f"{summary.get('n_regions', '?')} region(s) analysed."
    elif kind == "group":
        text = (
            f"Group test of {summary.get('measure')} across {summary.get('n_subjects')} "
            f"subjects ({summary.get('kind_tested')})."
        )
    else:
        text = ""
    return f"<p><strong>{html.escape(text)}</strong></p>"


def features_table(design):
    """The features, their kind and levels or range, and how often pairs differ on them."""
    rows = []
    differing = design.get("pairs_differing", [])
    for index, feature in enumerate(design.get("features", [])):
        if feature["kind"] == "numeric":
            values = f"{feature['min']:.4g} to {feature['max']:.4g}"
        elif feature["kind"] in ("categorical", "ordinal"):
            shown = ", ".join(feature["levels"])
            more = feature["n_levels"] - len(feature["levels"])
            values = f"{feature['n_levels']} levels: {shown}" + (f" (+{more})" if more else "")
        else:
            values = "precomputed distances"
        rows.append(
            {
                "feature": feature["name"],
                "kind": feature["kind"],
                "values": values,
                "pairs that differ": f"{100 * differing[index]:.0f}%" if differing else "",
            }
        )
    return table_html(pd.DataFrame(rows))


def warnings_html(messages):
    """The warnings raised during the run, or a line saying there were none."""
    if not messages:
        return "<p>No warning was raised during the run.</p>"
    items = "".join(f"<li>{html.escape(message)}</li>" for message in messages)
    return f"<ul>{items}</ul>"


def provenance_table(summary):
    """Command line, seed, device, timings, memory and versions, as an HTML table."""
    options = summary.get("options", {})
    info = summary.get("fit_info", {})
    rows = {
        "kind": summary.get("kind"),
        "command line": summary.get("command_line") or "(Python call)",
        "seed (random_state)": options.get("random_state"),
        "device": info.get("device", options.get("device")),
        "fit time (s)": round(info["seconds"], 2) if "seconds" in info else None,
        "analysis time (s)": summary.get("seconds"),
        "wall time to write (s)": summary.get("wall_seconds"),
        "peak memory (MiB)": summary.get("peak_memory_mib"),
        "created": summary.get("created"),
    }
    rows.update(
        {f"version of {name}": value for name, value in summary.get("versions", {}).items()}
    )
    table = pd.DataFrame(
        {"": list(rows), "value": [html.escape(str(value)) for value in rows.values()]}
    )
    return table_html(table)
