import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from mlem_neuro.stats import group_test
from mlem_neuro.stats.group_surface import group_surface_test
from mlem_neuro.surface import load_midthickness, surface_image
from mlem_neuro.units import geodesic_discs


@pytest.fixture(scope="module")
def fsaverage5():
    return load_midthickness("fsaverage5")


def planted_maps(meshes, effect, n_subjects=10, seed=0, vertex=1000, radius=10.0):
    """Noise maps with ``effect`` added in a geodesic disc of the left hemisphere."""
    rng = np.random.default_rng(seed)
    coordinates, faces = meshes["left"]
    disc = geodesic_discs(coordinates, faces, radius)[[vertex]].indices
    maps = []
    for _ in range(n_subjects):
        data = {h: rng.standard_normal(len(meshes[h][0])) for h in ("left", "right")}
        data["left"][disc] += effect
        maps.append(surface_image(meshes, data))
    return maps, disc


def significant(img, hemisphere):
    return np.flatnonzero(np.asarray(img.data.parts[hemisphere]) > -np.log10(0.05))


def test_a_planted_disc_is_found_there_and_nowhere_else(fsaverage5):
    maps, disc = planted_maps(fsaverage5, 1.5)
    result = group_surface_test(maps, n_permutations=500, random_state=0)
    for name in ("vertex", "cluster_mass"):
        found = significant(result.logp_imgs[name], "left")
        assert found.size and np.isin(found, disc).all(), name
        assert significant(result.logp_imgs[name], "right").size == 0
    assert significant(result.logp_imgs["cluster_mass"], "left").size > len(disc) // 2
    best = result.clusters.iloc[0]
    assert best["hemisphere"] == "left" and best["pvalue_fwer"] < 0.01
    assert best["peak_vertex"] in disc and best["mass"] > 0
    assert (result.clusters["pvalue_fwer"].iloc[1:] > 0.05).all()


def test_a_negative_effect_is_not_significant_one_sided(fsaverage5):
    maps, disc = planted_maps(fsaverage5, -1.5, seed=1)
    result = group_surface_test(maps, n_permutations=200, random_state=0)
    t = np.asarray(result.t_img.data.parts["left"])
    assert t[disc].mean() < -3
    assert significant(result.logp_imgs["vertex"], "left").size == 0
    assert significant(result.logp_imgs["cluster_mass"], "left").size == 0


def test_clusters_follow_the_mesh_not_the_space_between_hemispheres(fsaverage5):
    """Vertices planted on both medial walls face each other but never form one cluster."""
    from scipy.spatial.distance import cdist

    left, right = fsaverage5["left"][0], fsaverage5["right"][0]
    rng = np.random.default_rng(2)
    medial_left = np.argsort(np.abs(left[:, 0]))[:300]
    medial_right = np.argsort(np.abs(right[:, 0]))[:300]
    assert cdist(left[medial_left], right[medial_right]).min() < 10  # close in space
    maps = []
    for _ in range(10):
        data = {h: rng.standard_normal(10242) for h in ("left", "right")}
        data["left"][medial_left] += 2.0
        data["right"][medial_right] += 2.0
        maps.append(surface_image(fsaverage5, data))
    result = group_surface_test(maps, n_permutations=100, random_state=0)
    strong = result.clusters[result.clusters["n_vertices"] > 50]
    assert set(strong["hemisphere"]) == {"left", "right"}
    assert strong["n_vertices"].max() <= 300


def test_tfce_finds_the_disc(fsaverage5):
    maps, disc = planted_maps(fsaverage5, 1.5, n_subjects=8)
    result = group_surface_test(maps, n_permutations=40, tfce=True, random_state=0)
    found = significant(result.logp_imgs["tfce"], "left")
    assert found.size and np.isin(found, disc).mean() > 0.9
    assert significant(result.logp_imgs["tfce"], "right").size == 0


def test_maps_on_different_meshes_are_refused(fsaverage5):
    maps, _ = planted_maps(fsaverage5, 0.0, n_subjects=3)
    coarse = {h: (c[:642], np.array([[0, 1, 2]])) for h, (c, _) in fsaverage5.items()}
    maps.append(surface_image(coarse, {h: np.ones(642) for h in ("left", "right")}))
    with pytest.raises(ValueError, match="Map 3 has 642 values on the left hemisphere"):
        group_surface_test(maps)


def subject_folders(tmp_path, n_subjects=6, mesh="fsaverage5"):
    """Surface searchlights of subjects with one planted patch each, saved as result folders."""
    from mlem_neuro.surface import searchlight

    meshes = load_midthickness("fsaverage5")
    coordinates = meshes["left"][0]
    patch = np.flatnonzero(np.linalg.norm(coordinates - coordinates[1000], axis=1) < 15)
    rng = np.random.default_rng(5)
    features = pd.DataFrame({"animate": [0, 1] * 12})
    folders = []
    for subject in range(n_subjects):
        data = {h: np.full((10242, 24), np.nan) for h in ("left", "right")}
        for hemisphere in data:
            data[hemisphere][patch] = rng.standard_normal((len(patch), 24))
        signal = np.outer(rng.standard_normal(len(patch)), features["animate"])
        data["left"][patch] += 1.5 * signal
        image = surface_image(meshes, data)
        result = searchlight(image, features, 6.0, cv=3, n_repeats=1, random_state=0)
        folders.append(result.save(tmp_path / f"sub-{subject}"))
    return folders, patch


def test_group_command_tests_surface_folders_and_reports_them(tmp_path):
    from mlem_neuro.cli import main

    folders, patch = subject_folders(tmp_path)
    out = tmp_path / "group"
    command = ["group", *map(str, folders), "--n-permutations", "100", "--out", str(out)]
    assert main([*command, "--quiet"]) == 0
    t = nib.load(out / "t_hemi-L.func.gii").darrays[0].data
    assert np.nanmean(t[patch]) > 2 and np.isnan(t[np.setdiff1d(np.arange(10242), patch)]).all()
    logp = nib.load(out / "logp_vertex_hemi-L.func.gii").darrays[0].data
    assert logp[patch].max() > 1.3
    assert nib.load(out / "logp_cluster_mass_hemi-R.func.gii").darrays[0].data.max() < 1.3
    clusters = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert clusters.loc[0, "hemisphere"] == "left" and clusters.loc[0, "pvalue_fwer"] < 0.05
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind_tested"] == "surface_searchlight" and summary["mesh"] == "fsaverage5"
    assert summary["exact_test"] is True and summary["n_permutations_run"] == 2**6 - 1
    html = (out / "report.html").read_text()
    assert "Group t on the cortex" in html and "mesh adjacency" in html


def test_group_tests_of_the_subjects_own_meshes_are_refused(tmp_path):
    folders, _ = subject_folders(tmp_path, n_subjects=2)
    summary = json.loads((folders[1] / "summary.json").read_text())
    (folders[1] / "summary.json").write_text(json.dumps({**summary, "mesh": "subject"}))
    with pytest.raises(ValueError, match="not on an fsaverage template"):
        group_test(folders, n_permutations=10)
