import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.datasets import load_fsaverage
from nilearn.surface import SurfaceImage
from test_surface_inputs import write_gifti

from mlem_neuro.surface import load_midthickness, load_surface_atlas, roi_analysis

N_VERTICES = 10242


def write_annot(path, labels, names):
    """A FreeSurfer annotation: labels index ``names`` (-1 for no label)."""
    ctab = np.zeros((len(names), 5), dtype=np.int32)
    ctab[:, :3] = np.arange(len(names))[:, None] * [40, 80, 120] % 256
    nib.freesurfer.write_annot(path, np.asarray(labels), ctab, names, fill_ctab=True)
    return path


def write_label_gifti(path, labels, names):
    """A label GIFTI: integer keys per vertex and their names in a label table."""
    table = nib.gifti.GiftiLabelTable()
    for key, name in names.items():
        label = nib.gifti.GiftiLabel(key=key, red=0.5, green=0.5, blue=0.5, alpha=1.0)
        label.label = name
        table.labels.append(label)
    array = nib.gifti.GiftiDataArray(
        np.asarray(labels, dtype=np.int32), intent="NIFTI_INTENT_LABEL"
    )
    nib.save(nib.gifti.GiftiImage(darrays=[array], labeltable=table), path)
    return path


def patches(coordinates, centres, radius=12.0):
    """Vertices within ``radius`` mm (in 3-D) of each centre vertex."""
    return [
        np.flatnonzero(np.linalg.norm(coordinates - coordinates[centre], axis=1) < radius)
        for centre in centres
    ]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Two regions per hemisphere on fsaverage5; an effect in the left 'target' only."""
    folder = tmp_path_factory.mktemp("surface_roi")
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"animate": rng.integers(0, 2, 48).astype(bool)})
    data, atlases = {}, {}
    for hemisphere, prefix in (("left", "lh"), ("right", "rh")):
        coordinates = load_midthickness("fsaverage5")[hemisphere][0]
        target, other = patches(coordinates, [100, 5000])
        labels = np.full(N_VERTICES, -1)
        labels[target], labels[other] = 1, 2
        atlases[hemisphere] = write_annot(
            folder / f"{prefix}.test.annot", labels, [b"unknown", b"target", b"other"]
        )
        values = np.full((N_VERTICES, 48), np.nan)
        values[labels >= 0] = rng.standard_normal(((labels >= 0).sum(), 48))
        if hemisphere == "left":
            values[target] += 1.2 * np.outer(rng.standard_normal(len(target)), features["animate"])
        data[hemisphere] = values
    image = SurfaceImage(mesh=load_fsaverage("fsaverage5")["pial"], data=data)
    return image, features, atlases, folder


def test_surface_regions_find_the_planted_one_in_its_hemisphere_only(planted):
    image, features, atlases, _ = planted
    result = roi_analysis(
        image, features, [atlases["right"], atlases["left"]], cv=3, random_state=0
    )
    table = result.to_dataframe().set_index("label")
    assert list(table.index) == ["L_target", "L_other", "R_target", "R_other"]
    assert table.loc["L_target", "score"] > 0.3
    assert table.loc[["L_other", "R_target", "R_other"], "score"].max() < 0.1
    assert table.loc["L_target", "importance_animate"] > 0.1
    assert (table["hemisphere"] == ["left", "left", "right", "right"]).all()
    assert (table["n_vertices"] > 10).all() and (table["n_vertices_without_data"] == 0).all()


def test_label_giftis_and_annotations_give_the_same_regions(planted, tmp_path):
    image, features, atlases, _ = planted
    files = []
    for hemisphere, tag in (("left", "hemi-L"), ("right", "hemi-R")):
        labels, _, names = nib.freesurfer.read_annot(atlases[hemisphere])
        keys = {0: "???", 7: "target", 9: "other"}
        coded = np.select([labels == 1, labels == 2], [7, 9], 0)
        files.append(write_label_gifti(tmp_path / f"atlas_{tag}.label.gii", coded, keys))
    from_gifti = load_surface_atlas(files)
    from_annot = load_surface_atlas(atlases)
    for hemisphere in ("left", "right"):
        assert from_gifti[hemisphere].names == from_annot[hemisphere].names == ["target", "other"]
        for a, b in zip(from_gifti[hemisphere].vertices, from_annot[hemisphere].vertices):
            np.testing.assert_array_equal(a, b)


def test_surface_regions_save_the_volume_table_and_a_map_on_the_cortex(planted, tmp_path):
    image, features, atlases, _ = planted
    result = roi_analysis(image, features, atlases, cv=None, n_repeats=1, random_state=0)
    folder = result.save(tmp_path / "roi")
    table = pd.read_csv(folder / "roi.tsv", sep="\t")
    assert list(table.columns[:4]) == [
        "label",
        "hemisphere",
        "n_vertices",
        "n_vertices_without_data",
    ]
    assert {"score", "importance_animate", "weight_animate"} <= set(table.columns)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "roi" and summary["mesh"] == "fsaverage5"
    assert (folder / "roi.png").stat().st_size > 10_000
    assert (folder / "roi_surface.png").stat().st_size > 20_000


def test_surface_atlas_errors_name_what_is_wrong(planted, tmp_path):
    image, features, atlases, _ = planted
    with pytest.raises(ValueError, match="atlas must be two files, one for each hemisphere"):
        load_surface_atlas([atlases["left"]])
    short = write_annot(tmp_path / "lh.short.annot", np.ones(642, int), [b"unknown", b"a"])
    with pytest.raises(ValueError, match="atlas of the left hemisphere has 642 vertices"):
        roi_analysis(image, features, {"left": short, "right": atlases["right"]})
    empty = write_annot(tmp_path / "rh.empty.annot", np.full(N_VERTICES, -1), [b"unknown"])
    with pytest.raises(ValueError, match="no region in the right hemisphere"):
        load_surface_atlas({"left": atlases["left"], "right": empty})


def test_roi_command_takes_gifti_patterns_and_annotations(planted, tmp_path):
    from mlem_neuro.cli import main

    image, features, atlases, _ = planted
    files = [
        write_gifti(tmp_path / f"p_{tag}.func.gii", np.asarray(image.data.parts[h]).T)
        for h, tag in (("left", "hemi-L"), ("right", "hemi-R"))
    ]
    features.astype(int).to_csv(tmp_path / "features.csv", index=False)
    out = tmp_path / "out"
    command = ["roi", *map(str, files), "--features", str(tmp_path / "features.csv")]
    command += ["--atlas", f"{atlases['left']},{atlases['right']}", "--cv", "3", "--seed", "0"]
    assert main([*command, "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "roi.tsv", sep="\t").set_index("label")
    assert table["score"].idxmax() == "L_target"
    html = (out / "report.html").read_text()
    assert "Regions on the cortex" in html and "L_target" in html
    bad = [*command[:3], "--features", str(tmp_path / "features.csv"), "--atlas", "x.nii.gz"]
    assert main([*bad, "--out", str(tmp_path / "bad"), "--quiet"]) == 2


def test_volume_options_with_gifti_and_mesh_with_nifti_are_refused(tmp_path, capsys):
    from mlem_neuro.cli import main

    files = [
        write_gifti(tmp_path / f"p_{tag}.func.gii", [np.zeros(4)]) for tag in ("hemi-L", "hemi-R")
    ]
    volume = tmp_path / "patterns.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 3), np.float32), np.eye(4)), volume)
    pd.DataFrame({"a": [0, 1, 0]}).to_csv(tmp_path / "f.csv", index=False)
    common = ["--features", str(tmp_path / "f.csv"), "--radius", "6", "--out", str(tmp_path / "o")]
    assert main(["searchlight", *map(str, files), *common, "--mask", str(volume)]) == 2
    assert "--mask: only for NIfTI patterns" in capsys.readouterr().err
    assert main(["searchlight", str(volume), *common, "--mesh", "fsaverage5"]) == 2
    assert "--mesh: only for GIFTI patterns" in capsys.readouterr().err


def test_vertices_without_data_are_counted_and_empty_regions_named(planted):
    image, features, atlases, _ = planted
    labels = {h: np.zeros(N_VERTICES) for h in ("left", "right")}
    with_data = np.isfinite(np.asarray(image.data.parts["left"])[:, 0])
    inside, outside = np.flatnonzero(with_data), np.flatnonzero(~with_data)
    labels["left"][inside[:40]] = 3
    labels["left"][outside[:25]] = 3  # 25 vertices of region 3 have no data
    labels["left"][outside[25:35]] = 4  # region 4 has none
    labels["right"][np.flatnonzero(np.isfinite(np.asarray(image.data.parts["right"])[:, 0]))] = 5
    atlas = SurfaceImage(mesh=image.mesh, data=labels)
    with pytest.warns(UserWarning, match=r"35 vertices .* Region\(s\) \['L_4'\] have no vertex"):
        result = roi_analysis(image, features, atlas, n_repeats=1, random_state=0)
    table = result.to_dataframe().set_index("label")
    assert list(table.index) == ["L_3", "R_5"]
    assert (
        table.loc["L_3", "n_vertices"] == 40 and table.loc["L_3", "n_vertices_without_data"] == 25
    )
