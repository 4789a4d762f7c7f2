"""Assemble a report from result folders, on MNE's Report (one self-contained HTML file)."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..outputs import ResultFolder, read_result
from .figures import (
    best_units,
    distance_correlation_figure,
    fold_scores_figure,
    metric_heatmaps,
    steps_figure,
)
from .results import Item, result_items, unit_labels
from .text import (
    features_table,
    headline,
    methods_paragraph,
    provenance_table,
    table_html,
    warnings_html,
)

__all__ = ["make_report", "write_report", "REPORT"]

REPORT = "report.html"
FITTED_KINDS = (
    "searchlight",
    "surface_searchlight",
    "roi",
    "timecourse",
    "source_timecourse",
    "layers",
)

logger = logging.getLogger("mlem_neuro")


def _expanded(results):
    """Result folders, with the parts of a demo or a study in place of the whole."""
    expanded = []
    for stored in results:
        parts = stored.parts() if stored.kind in ("demo", "study") else {}
        expanded.extend(parts.values() if parts else [stored])
    return expanded


def make_report(results, title=None, link_from=None):
    """An :class:`mne.Report` of one or several result folders.

    Parameters
    ----------
    results : list of StoredResult, str or Path
        Result folders (see :func:`mlem_neuro.outputs.read_result`); a demo
        or study folder stands for its parts.
    title : str, optional
    link_from : Path, optional
        Where the report will be saved, for relative links to subjects'
        reports in a group report.

    Returns
    -------
    mne.Report
    """
    import matplotlib
    import matplotlib.pyplot as plt
    import mne

    matplotlib.use("Agg")
    results = _expanded(
        [read_result(item) if isinstance(item, (str, Path)) else item for item in results]
    )
    names = [stored.path.name.removeprefix(".").removesuffix(".partial") for stored in results]
    report = mne.Report(title=title or _title(results, names), verbose="error")
    for stored, name in zip(results, names):
        prefix = f"{name}: " if len(results) > 1 else ""
        for section, items in _sections(stored, link_from):
            for item in items:
                _add(report, item, prefix + section)
    plt.close("all")
    return report


def _title(results, names):
    if len(results) == 1:
        return f"mlem_neuro {results[0].kind} result: {names[0]}"
    return f"mlem_neuro results: {', '.join(names)}"


def _add(report, item, section):
    tags = ("-".join(section.lower().replace(":", "").split()),)
    if item.figure is not None:
        report.add_figure(
            item.figure,
            title=item.title,
            caption=item.caption,
            section=section,
            image_format="png",
            tags=tags,
        )
    else:
        report.add_html(item.html, title=item.title, section=section, tags=tags)


def _sections(stored, link_from):
    summary = stored.summary
    sections = [("Summary", [Item("Methods", html=headline(summary) + methods_paragraph(summary))])]
    design = summary.get("fit_info", {}).get("design")
    if design:
        sections.append(("Design", _design_items(design, summary)))
    else:
        sections.append(
            ("Warnings", [Item("Warnings", html=warnings_html(summary.get("warnings")))])
        )
    sections.append(("Results", result_items(stored, link_from)))
    if stored.kind in FITTED_KINDS and stored.has("units.npz"):
        results = stored.unit_results()
        labels = unit_labels(stored, results)
        sections.append(("Learned metrics", _metric_items(results, labels)))
        sections.append(("Diagnostics", _diagnostic_items(results, summary)))
    sections.append(("Provenance", [Item("Provenance", html=provenance_table(summary))]))
    return sections


def _design_items(design, summary):
    items = [Item("Features", html=features_table(design))]
    if len(design["features"]) > 1:
        items.append(
            Item(
                "Correlations between features",
                figure=distance_correlation_figure(design),
                caption="Importances of strongly correlated features share credit and are hard "
                "to tell apart.",
            )
        )
    items.append(
        Item("Warnings raised during the run", html=warnings_html(summary.get("warnings")))
    )
    return items


def _metric_items(results, labels, n=4):
    chosen = best_units(results.scores, n)
    weights = results.term_weights().iloc[chosen]
    weights.insert(0, "unit", [labels[unit] for unit in chosen])
    return [
        Item(
            "Metrics of the best units",
            figure=metric_heatmaps(results, labels, n),
            caption="Learned metric W of the best-scoring units (diagonal without interactions).",
        ),
        Item("Term weights of the best units", html=table_html(weights)),
    ]


def _diagnostic_items(results, summary):
    options, info = summary.get("options", {}), results.info
    steps = np.asarray(info.get("unit_steps", []))
    budget = options.get("max_steps")
    at_budget = int((steps >= budget).sum()) if budget and steps.size else 0
    facts = pd.DataFrame(
        {
            "": [
                "units",
                "training",
                "pairs in the pool",
                "units that used the whole step budget",
                "units with an undefined (NaN) score",
            ],
            "value": [
                len(results.scores),
                info.get("training", ""),
                info.get("n_pairs", ""),
                f"{at_budget} of {len(results.scores)}",
                int(np.isnan(results.scores).sum()),
            ],
        }
    )
    items = [Item("Fit diagnostics", html=table_html(facts))]
    if steps.size:
        items.append(
            Item(
                "Training length",
                figure=steps_figure(steps, budget),
                caption="Units at the budget stopped because the budget ran out, not because "
                "they stopped improving: typical of units without signal, whose held-out "
                "scores stay near zero.",
            )
        )
    if results.fold_scores is not None:
        items.append(Item("Scores of each fold", figure=fold_scores_figure(results.fold_scores)))
    return items


def write_report(target, out=None, title=None):
    """Write the HTML report of a result folder (or of several) to a file.

    Parameters
    ----------
    target : ResultFolder, str, Path or list of them
        An open :class:`~mlem_neuro.outputs.ResultFolder` (the report goes
        into it before it is committed), a finished result folder, or
        several (then ``out`` is required).
    out : str or Path, optional
        The HTML file; default ``report.html`` in the (single) folder.
    title : str, optional

    Returns
    -------
    Path
        The report.
    """
    if isinstance(target, ResultFolder):
        report = make_report([target.stored()], title, link_from=target.path)
        path, final = target.file(REPORT), target.path / REPORT
    else:
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
        if out is None and len(targets) > 1:
            raise ValueError("out is required for a report of several result folders.")
        path = Path(out) if out is not None else Path(targets[0]) / REPORT
        report = make_report(targets, title, link_from=path.parent)
        final = path
    report.save(path, open_browser=False, overwrite=True, verbose="error")
    logger.info("Report written to %s.", final)
    return final
