"""The results part of a report, for each kind of result folder."""

import dataclasses
import html
import os
from pathlib import Path

import numpy as np

from ..outputs import file_stem
from .figures import best_units
from .text import table_html

__all__ = ["Item", "result_items", "unit_labels"]


@dataclasses.dataclass
class Item:
    """One entry of a report: a figure or a piece of HTML, with its title."""

    title: str
    figure: object = None
    html: str | None = None
    caption: str | None = None


def _in_mni_space(summary):
    return str(summary.get("space") or "").upper().startswith("MNI")


def unit_labels(stored, results):
    """A readable label for every unit of a result (sphere centre, time, region, layer)."""
    kind = stored.kind
    if kind == "searchlight":
        from ..fmri import SearchlightResult

        centres = SearchlightResult.from_stored(stored).sphere_centres()
        return [f"sphere at ({x:.0f}, {y:.0f}, {z:.0f}) mm" for x, y, z in centres]
    if kind == "timecourse":
        times = np.asarray(stored.summary["times"])
        if stored.has("sensors-info.fif"):
            names = stored.info("sensors")["ch_names"]
            return [f"{name}, {1000 * t:.0f} ms" for name in names for t in times]
        return [f"{1000 * t:.0f} ms" for t in times]
    if kind == "roi":
        return [f"region {label}" for label in stored.table("roi")["label"]]
    if kind == "surface_searchlight":
        return [
            f"disc at vertex {vertex} ({('left', 'right')[hemisphere]})"
            for hemisphere, vertex in stored.array("disc_centres")
        ]
    if kind == "source_timecourse":
        table = stored.table("source_timecourse")
        place = table["label"] if "label" in table else table.get("vertex", "all sources")
        where = place.astype(str) + (
            " (" + table["hemisphere"] + ")" if "hemisphere" in table else ""
        )
        return [f"{name}, {1000 * t:.0f} ms" for name, t in zip(where, table["time"])]
    if kind == "layers":
        return [f"layer {layer}" for layer in stored.table("layers")["layer"]]
    return [f"unit {unit}" for unit in range(len(results.scores))]


def result_items(stored, link_from=None):
    """Report entries showing what a result folder found.

    Parameters
    ----------
    stored : StoredResult
    link_from : Path, optional
        Where the report will live, for relative links to other reports.

    Returns
    -------
    list of Item
    """
    builders = {
        "searchlight": _searchlight,
        "surface_searchlight": _surface_searchlight,
        "roi": _roi,
        "timecourse": _timecourse,
        "source_timecourse": _source_timecourse,
        "layers": _layers,
        "group": _group,
    }
    builder = builders.get(stored.kind)
    if builder is None:
        return []
    if stored.kind == "group":
        return builder(stored, link_from)
    return builder(stored)


def _searchlight(stored):
    from nilearn import plotting

    from ..fmri import SearchlightResult
    from ..fmri.plotting import background, plot_searchlight

    result = SearchlightResult.from_stored(stored)
    items = [
        Item(
            "Score and importance maps",
            figure=plot_searchlight(result),
            caption="Axial slices through the analysed voxels; each map has its own colour "
            "scale. Importances are the drop in Spearman when a term is shuffled.",
        )
    ]
    if _in_mni_space(stored.summary):
        display = plotting.plot_glass_brain(
            _finite(result.score_img), plot_abs=False, colorbar=True, title="score", cmap="RdBu_r"
        )
        items.append(Item("Glass brain of the score", figure=display.frame_axes.figure))
    shown_on = background(result.bg_img, result.parameters.get("space"))
    viewer = plotting.view_img(
        _finite(result.score_img),
        bg_img=shown_on if shown_on is not None else result.mask_img,
        threshold=None,
        title="score",
        black_bg=False,
        symmetric_cmap=True,
        draw_cross=False,
    )
    items.append(
        Item(
            "Interactive score map",
            html=viewer.get_iframe(width=760, height=300),
        )
    )
    items.append(Item("Best spheres", html=_best_units_table(result, result.sphere_centres())))
    return items


def _saved_figures(stored, figures):
    """Report items of the figures a result folder saved, those of ``figures`` it holds.

    Parameters
    ----------
    stored : StoredResult
    figures : dict of str to (str, str)
        File name of each figure to its title and caption, in report order.

    Returns
    -------
    list of Item
    """
    import matplotlib.image

    return [
        Item(title, figure=matplotlib.image.imread(stored.file(name)), caption=caption)
        for name, (title, caption) in figures.items()
        if stored.has(name)
    ]


def _surface_searchlight(stored):
    """The saved figures of the score and importances on the cortex, and the best discs."""
    results = stored.unit_results()
    figures = {
        "surface_searchlight.png": (
            "Score on the cortex",
            "Held-out (or in-sample) score of the disc around each vertex, lateral and medial "
            "views; vertices without signal are blank.",
        )
    }
    for term in results.term_names:
        figures[f"surface_importance_{file_stem(term)}.png"] = (
            f"Importance of {term} on the cortex",
            "Drop in the disc's score when the term's distances are shuffled.",
        )
    items = _saved_figures(stored, figures)
    centres = stored.array("disc_centres")
    chosen = best_units(results.scores, 10)
    table = results.to_dataframe().iloc[chosen]
    table.insert(0, "vertex", centres[chosen, 1])
    table.insert(0, "hemisphere", np.array(["left", "right"])[centres[chosen, 0]])
    items.append(Item("Best discs", html=table_html(table.round(3))))
    return items


def _finite(img):
    from nilearn import image

    return image.new_img_like(img, np.nan_to_num(img.get_fdata()))


def _best_units_table(result, centres, n=10):
    chosen = best_units(result.results.scores, n)
    table = result.results.to_dataframe().iloc[chosen]
    table.insert(0, "z (mm)", centres[chosen, 2].round(1))
    table.insert(0, "y (mm)", centres[chosen, 1].round(1))
    table.insert(0, "x (mm)", centres[chosen, 0].round(1))
    return table_html(table)


def _roi(stored):
    """Regions of a volume or surface atlas: their scores, their table, and on the cortex."""
    from ..fmri.plotting import plot_regions

    table = stored.table("roi")
    items = [Item("Regions", figure=plot_regions(table))]
    items += _saved_figures(
        stored,
        {
            "roi_surface.png": (
                "Regions on the cortex",
                "Score of each region painted on its vertices, lateral and medial views; "
                "vertices outside the regions are blank.",
            )
        },
    )
    items.append(Item("Region table", html=table_html(table)))
    return items


def _source_timecourse(stored):
    """The saved figures of the peak's time course and map, and the best places and times."""
    figures = {
        "source_timecourse.png": (
            "Time course at the peak",
            "Score and importances over time at the best place (a source's disc, or a "
            "label), with the mean over places; the dashed line marks the peak time.",
        ),
        "source_peak.png": (
            "Score at the peak time on the cortex",
            "Each vertex shows its nearest source's score (blank beyond twice the source "
            "spacing), lateral and medial views.",
        ),
    }
    items = _saved_figures(stored, figures)
    table = stored.table("source_timecourse")
    best = table.iloc[best_units(table["score"].to_numpy(), 10)]
    items.append(Item("Best places", html=table_html(best.round(4))))
    return items


def _timecourse(stored):
    from ..meeg import TimecourseResult
    from ..meeg.plotting import generalization_caveat

    result = TimecourseResult.from_stored(stored)
    items = [
        Item(
            "Time course",
            figure=result.plot(),
            caption="Score and importances over time"
            + (" (mean over sensors)" if result.spatial else "")
            + "; with the temporal generalisation matrix when computed.",
        )
    ]
    if result.generalization is not None:
        caveat = generalization_caveat(result.generalization)
        items.append(
            Item(
                "About the generalisation matrix",
                html=f"<p>{html.escape(caveat)}</p>"
                if caveat
                else "<p>Rows are metrics learned at one time, scored at every time on "
                "held-out epochs; the diagonal equals the time course.</p>",
            )
        )
    if result.spatial:
        items.append(Item("Topographies at the peaks", figure=_peak_topomaps(result)))
    return items


def _peak_topomaps(result, n=4):
    score = result.to_evoked()["score"]
    by_time = score.data.max(axis=0)
    peaks = np.sort(result.times[np.argsort(by_time)[::-1][:n]])
    return score.plot_topomap(times=peaks, show=False, units="Spearman", scalings=1.0)


def _layers(stored):
    from ..llm import LayerProfileResult

    result = LayerProfileResult.from_stored(stored)
    return [
        Item("Layer profile", figure=result.plot()),
        Item("Layer table", html=table_html(result.to_dataframe())),
    ]


def _group(stored, link_from):
    kind = stored.summary.get("kind_tested")
    builders = {
        "searchlight": _group_maps,
        "surface_searchlight": _group_surface_maps,
        "timecourse": _group_timecourse,
        "layers": _group_layers,
        "roi": _group_layers,
    }
    items = builders[kind](stored)
    items.append(Item("Subjects' reports", html=_subject_links(stored, link_from)))
    return items


def _group_maps(stored):
    from ..fmri.plotting import plot_map_rows

    names = [name for name in ("voxel", "cluster_mass", "cluster_size", "tfce")]
    rows = [(stored.map("t"), "one-sample t", "t")]
    rows += [
        (stored.map(f"logp_{name}"), f"-log10 p, FWER ({name.replace('_', ' ')})", "-log10 p")
        for name in names
        if stored.has(f"logp_{name}.nii.gz")
    ]
    mask = _nonzero_mask(rows[0][0])
    items = [
        Item(
            "Group maps",
            figure=plot_map_rows(rows, mask, title=f"group test of {stored.summary['measure']}"),
            caption="-log10 p above 1.3 is p < 0.05, corrected family-wise.",
        )
    ]
    if stored.has("clusters.tsv"):
        items.append(Item("Clusters", html=table_html(stored.table("clusters"))))
    return items


def _group_surface_maps(stored):
    """The saved figures of the t map and the corrected p-values on the cortex, and clusters."""
    figures = {
        "group_t.png": ("Group t on the cortex", "One-sample t of each tested vertex."),
        "group_logp.png": (
            "Corrected p-values on the cortex",
            "-log10 p, family-wise corrected (TFCE when computed, else cluster mass), at the "
            "vertices with p < 0.05 (-log10 p above 1.3); the cortex is blank where none is.",
        ),
    }
    items = _saved_figures(stored, figures)
    items.append(Item("Clusters", html=table_html(stored.table("clusters"))))
    return items


def _nonzero_mask(img):
    import nibabel as nib

    data = np.nan_to_num(img.get_fdata()) != 0
    return nib.Nifti1Image(data.astype(np.uint8), img.affine)


def _group_timecourse(stored):
    import matplotlib.pyplot as plt

    items = []
    if stored.has("group_timecourse.tsv"):
        table = stored.table("group_timecourse")
        figure, axis = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
        axis.plot(table["time"], table["mean"], color="black", label="mean over subjects")
        significant = table["significant"].astype(bool).to_numpy()
        axis.fill_between(
            table["time"],
            0,
            1,
            where=significant,
            color="tab:orange",
            alpha=0.3,
            transform=axis.get_xaxis_transform(),
            label="cluster p < 0.05",
        )
        axis.set_xlabel("time (s)")
        axis.set_ylabel(stored.summary["measure"])
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.legend(fontsize="small")
        items.append(Item("Group time course", figure=figure))
    items.append(Item("Clusters", html=table_html(stored.table("clusters"))))
    return items


def _group_layers(stored):
    import matplotlib.pyplot as plt

    name, column = (
        ("group_roi", "label") if stored.has("group_roi.tsv") else ("group_layers", "layer")
    )
    table = stored.table(name)
    figure, axis = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    positions = np.arange(len(table))
    axis.plot(positions, table["mean"], "o-", color="black")
    significant = (table["pvalue_fwer"] < 0.05).to_numpy()
    axis.plot(positions[significant], table["mean"][significant], "o", color="tab:orange")
    axis.set_xticks(positions, [str(label) for label in table[column]])
    axis.set_xlabel(column)
    axis.set_ylabel(f"mean {stored.summary['measure']}")
    axis.set_title("orange: FWER p < 0.05")
    title = "Group region profile" if column == "label" else "Group layer profile"
    return [Item(title, figure=figure), Item("Tests", html=table_html(table))]


def _subject_links(stored, link_from):
    here = Path(link_from) if link_from is not None else stored.path
    rows = []
    for folder in stored.summary.get("results", []):
        report = Path(folder) / "report.html"
        target = os.path.relpath(report.resolve(), here.resolve())
        label = html.escape(Path(folder).name)
        exists = "" if report.exists() else " (no report found)"
        rows.append(f'<li><a href="{html.escape(target)}">{label}</a>{exists}</li>')
    return "<ul>" + "".join(rows) + "</ul>"
