"""The layering of the package, its size limits, and one definition of the fit settings."""

import ast
import dataclasses
import statistics
from pathlib import Path

import pytest

from mlem_neuro import MLEM, FitOptions
from mlem_neuro.cli import build_parser

PACKAGE = Path(__file__).parents[1] / "mlem_neuro"
ADAPTERS = {"fmri", "meeg", "llm", "stats", "surface"}


def layer_of(path):
    """The subpackage (or top-level module) a file belongs to."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def imported_layers(path):
    """Top-level mlem_neuro modules and third-party packages a module imports, anywhere in it."""
    inside, outside = set(), set()
    depth = len(path.relative_to(PACKAGE).parts) - 1
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = path.relative_to(PACKAGE).parts[: depth - node.level + 1]
                target = [*parts, *(node.module or "").split(".")]
                target = [part for part in target if part]
                if target:
                    inside.add(target[0])
                else:
                    inside.update(alias.name for alias in node.names)
            elif node.module.startswith("mlem_neuro"):
                inside.add(node.module.split(".")[1] if "." in node.module else "__init__")
            else:
                outside.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            outside.update(alias.name.split(".")[0] for alias in node.names)
    return inside, outside


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_layers_point_inwards(path):
    layer = layer_of(path)
    inside, outside = imported_layers(path)
    inside.discard(layer)
    if layer == "core":
        assert not inside, f"core imports {inside}"
        assert not outside & {"nibabel", "nilearn", "mne", "transformers"}
    if layer == "units":
        assert inside <= {"core"}, f"units imports {inside}"
        assert not outside & {"nibabel", "nilearn", "mne"}
    if layer == "outputs":
        assert inside <= {"core", "__version__"}, f"outputs imports {inside}"
    if layer in ADAPTERS:
        assert not inside & {"cli", "demo", "report", "study"}, f"{layer} imports {inside}"
    if layer == "report":
        assert not inside & {"cli", "demo", "study"}


def test_no_module_is_over_500_lines_and_functions_stay_short():
    lengths = []
    for path in MODULES:
        text = path.read_text()
        assert len(text.splitlines()) <= 500, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                lengths.append(node.end_lineno - node.lineno + 1)
    assert statistics.median(lengths) <= 20


def test_the_estimator_exposes_every_fit_setting_and_only_those():
    fields = [field.name for field in dataclasses.fields(FitOptions)]
    assert list(MLEM().get_params()) == sorted(fields)
    assert MLEM(learning_rate=0.5)._options() == FitOptions(learning_rate=0.5)


def fit_flags(command):
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    chosen = subparsers.choices[command]
    group = next(g for g in chosen._action_groups if g.title.startswith("fit options"))
    return {action.dest for action in group._group_actions}


@pytest.mark.parametrize("command", ["searchlight", "roi", "timecourse", "layers"])
def test_every_fitting_command_takes_every_fit_setting(command):
    flags = fit_flags(command)
    expected = set(FitOptions.field_names()) - {"verbose"}  # --quiet
    if command in ("timecourse", "layers"):
        expected -= {"precomputed_features"}  # their features are never distances
    assert flags - {"cv", "cv_groups"} == expected


def test_the_command_line_starts_without_torch_or_the_science_stack():
    import subprocess
    import sys

    code = (
        "import sys; from mlem_neuro.cli import build_parser; build_parser(); "
        "import mlem_neuro; mlem_neuro.__version__; "
        "heavy = {'torch', 'sklearn', 'scipy.stats', 'pandas', 'nilearn', 'mne'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
