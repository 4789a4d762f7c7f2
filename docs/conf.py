"""Sphinx configuration of the mlem_neuro site: user guide (Markdown), gallery, API, CLI.

Build it offline with warnings as errors::

    pip install -e ".[docs]" && sphinx-build -W docs docs/_build/html
"""

import sys
import urllib.request
import warnings
from pathlib import Path

import mlem_neuro

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "mlem_neuro"
author = "mlem_neuro developers"
copyright = "2026, mlem_neuro developers"
release = version = mlem_neuro.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "cli_pages",
    "api_pages",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_tutorials/*.ipynb", "auto_tutorials/*.py", "**.zip"]
myst_heading_anchors = 3
smartquotes = False  # keep "--flag" and quotes as typed

autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"mlem_neuro {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 4,
}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../tutorials",
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # A cell ending in axis.legend() shows the figure, not "<matplotlib.legend.Legend...>".
    "ignore_repr_types": r"(matplotlib\.(text|axes|legend|colorbar|lines|image|figure)|nilearn)",
}


def _short_warning(message, category, filename, lineno, line=None):
    """Warnings in the gallery as readers would see them: no path of the build machine."""
    return f"{category.__name__}: {message}\n"


warnings.formatwarning = _short_warning
# nilearn's note that NaN outside the mask is drawn as 0 is not the tutorials' point.
warnings.filterwarnings("ignore", message="Non-finite values detected")


def _reachable(inventories):
    """The intersphinx inventories this machine can reach (none offline: no failed build)."""
    found = {}
    for name, url in inventories.items():
        try:
            with urllib.request.urlopen(f"{url}/objects.inv", timeout=3):
                found[name] = (url, None)
        except OSError:
            continue
    return found


intersphinx_mapping = _reachable(
    {
        "python": "https://docs.python.org/3",
        "numpy": "https://numpy.org/doc/stable",
        "pandas": "https://pandas.pydata.org/docs",
        "torch": "https://docs.pytorch.org/docs/stable",
        "nilearn": "https://nilearn.github.io/stable",
        "mne": "https://mne.tools/stable",
    }
)
