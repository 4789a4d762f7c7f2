"""Sphinx extension: the API reference, every public name of every subpackage.

Public means listed in a module's ``__all__``; functions and classes get a page each
(autosummary), so a new public name appears without editing the docs.
"""

import importlib
import inspect
from pathlib import Path

FOLDER = "generated_api"
MODULES = {
    "mlem_neuro": "Estimator and batched fits",
    "mlem_neuro.fmri": "fMRI: patterns, searchlights, regions",
    "mlem_neuro.meeg": "M/EEG: time courses and sensor maps",
    "mlem_neuro.llm": "Language models: layer profiles",
    "mlem_neuro.surface": "Cortical surfaces: patterns and meshes",
    "mlem_neuro.stats": "Statistics: permutation, ceilings, group tests",
    "mlem_neuro.study": "Studies: BIDS in, Dask engine, group stage",
    "mlem_neuro.outputs": "Result folders",
    "mlem_neuro.report": "HTML reports",
    "mlem_neuro.units": "Units: spheres, geodesic discs, windows, neighbourhoods",
    "mlem_neuro.datasets": "Bundled data",
    "mlem_neuro.tables": "User tables",
}


def _documented(module_name):
    module = importlib.import_module(module_name)
    return [
        name
        for name in module.__all__
        if inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))
    ]


def _index():
    lines = ["API reference", "=============", ""]
    for module_name, title in MODULES.items():
        lines += [title, "-" * len(title), "", f".. currentmodule:: {module_name}", ""]
        lines += [".. autosummary::", "   :toctree: stubs", ""]
        lines += [f"   {name}" for name in _documented(module_name)] + [""]
    return "\n".join(lines)


def write_index(app, config=None):
    """Write generated_api/index.rst into the source folder."""
    folder = Path(app.srcdir) / FOLDER
    folder.mkdir(exist_ok=True)
    path = folder / "index.rst"
    text = _index()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def setup(app):
    """Register the index writer (before Sphinx looks for source files)."""
    app.connect("config-inited", write_index)
    return {"parallel_read_safe": True, "version": "1"}
