"""The wheel and the sdist carry the package and its data, nothing else, with full metadata."""

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mlem_neuro

ROOT = Path(__file__).parents[1]

pytest.importorskip("build")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return out


def test_the_wheel_holds_every_module_and_the_bundled_data_and_no_tests(dist):
    wheel = next(dist.glob("mlem_neuro-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "mlem_neuro").rglob("*.py")}
    assert modules <= names
    data = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "mlem_neuro" / "datasets" / "data").rglob("*")
        if path.is_file()
    }
    assert data and data <= names
    assert "mlem_neuro/datasets/data/haxby/run01_bold.nii.gz" in names
    top = {name.split("/")[0] for name in names}
    assert not top & {"tests", "benchmarks", "docs", "tutorials", "scripts"}


def test_the_metadata_is_complete_and_twine_accepts_both_files(dist):
    wheel = next(dist.glob("mlem_neuro-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        info = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(info))
    assert metadata["Version"] == mlem_neuro.__version__
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata["Requires-Python"] == ">=3.10"
    assert {"llm", "cluster", "dev", "docs"} <= set(metadata.get_all("Provides-Extra"))
    assert any("Python :: 3.12" in value for value in metadata.get_all("Classifier"))
    assert len(list(dist.glob("mlem_neuro-*.tar.gz"))) == 1
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", *map(str, dist.iterdir())],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
