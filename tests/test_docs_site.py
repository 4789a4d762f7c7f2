"""The documentation site builds offline with warnings as errors (slow: pytest -m slow)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_the_site_builds_with_its_gallery_api_and_command_pages(tmp_path):
    pytest.importorskip("sphinx_gallery")
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-d", str(tmp_path / "doctrees")]
    built = subprocess.run(
        [*command, str(ROOT / "docs"), str(tmp_path / "html")], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr[-3000:]
    html = tmp_path / "html"
    tutorials = sorted((ROOT / "tutorials").glob("plot_*.py"))
    for tutorial in tutorials:
        page = (html / "auto_tutorials" / f"{tutorial.stem}.html").read_text()
        assert f"sphx_glr_{tutorial.stem}_001.png" in page  # its first figure is shown
    assert (html / "generated_api" / "stubs" / "mlem_neuro.fit_units.html").exists()
    assert "--baseline" in (html / "generated_cli" / "group.html").read_text()
    assert "Unreleased" in (html / "changelog.html").read_text()
