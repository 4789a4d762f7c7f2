import runpy
from pathlib import Path

import matplotlib
import pytest

TUTORIALS = sorted((Path(__file__).parents[1] / "tutorials").glob("plot_*.py"))


@pytest.mark.parametrize("path", TUTORIALS, ids=[path.stem for path in TUTORIALS])
def test_tutorial_runs(path):
    matplotlib.use("Agg")
    runpy.run_path(str(path), run_name="__main__")
