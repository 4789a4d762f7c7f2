import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.datasets import load_fsaverage
from nilearn.surface import SurfaceImage

from mlem_neuro.surface import (
    SurfacePatterns,
    check_vertex_counts,
    load_midthickness,
    load_surface_patterns,
)


def write_gifti(path, arrays, intent="NIFTI_INTENT_NONE"):
    darrays = [nib.gifti.GiftiDataArray(np.asarray(a, np.float32), intent=intent) for a in arrays]
    nib.save(nib.gifti.GiftiImage(darrays=darrays), path)
    return path


def write_surface(path, coordinates, faces):
    darrays = [
        nib.gifti.GiftiDataArray(coordinates.astype(np.float32), intent="NIFTI_INTENT_POINTSET"),
        nib.gifti.GiftiDataArray(faces.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE"),
    ]
    nib.save(nib.gifti.GiftiImage(darrays=darrays), path)
    return path


def tetrahedron(n_extra=0):
    """A closed mesh of 4 + n_extra vertices (extra vertices in a fan on one face)."""
    coordinates = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10.0]])
    faces = [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]
    for k in range(n_extra):
        coordinates = np.vstack([coordinates, [[3 + k, 3, 0]]])
        faces.append([0, 1, 4 + k])
    return coordinates, np.array(faces)


def test_gifti_pairs_are_read_by_hemisphere_whatever_their_order(tmp_path):
    rng = np.random.default_rng(0)
    left, right = rng.standard_normal((6, 10)), rng.standard_normal((6, 12))
    files = [
        write_gifti(tmp_path / "sub-01_hemi-R_space-fsnative_bold.func.gii", right),
        write_gifti(tmp_path / "sub-01_hemi-L_space-fsnative_bold.func.gii", left),
    ]
    patterns = load_surface_patterns(files)
    assert patterns.n_stimuli == 6
    np.testing.assert_allclose(patterns.left, left, rtol=1e-6)
    np.testing.assert_allclose(patterns.right, right, rtol=1e-6)


def test_surface_images_give_one_row_per_sample():
    mesh = load_fsaverage("fsaverage5")["pial"]
    rng = np.random.default_rng(1)
    data = {hemisphere: rng.standard_normal((10242, 4)) for hemisphere in ("left", "right")}
    patterns = load_surface_patterns(SurfaceImage(mesh=mesh, data=data))
    assert patterns.left.shape == patterns.right.shape == (4, 10242)
    np.testing.assert_allclose(patterns.right, data["right"].T)
    meshes = load_midthickness("fsaverage5")
    check_vertex_counts(patterns, meshes, "fsaverage5")  # no error
    surfaces = load_fsaverage("fsaverage5")
    expected = surfaces["white_matter"].parts["left"].coordinates + mesh.parts["left"].coordinates
    np.testing.assert_allclose(meshes["left"][0], expected / 2)


def test_the_subjects_white_and_pial_surfaces_give_their_midthickness(tmp_path):
    coordinates, faces = tetrahedron()
    white = write_surface(tmp_path / "sub-01_hemi-L_white.surf.gii", coordinates, faces)
    pial = write_surface(tmp_path / "sub-01_hemi-L_pial.surf.gii", coordinates + 2.0, faces)
    meshes = load_midthickness({"left": (white, pial), "right": white})
    np.testing.assert_allclose(meshes["left"][0], coordinates + 1.0)
    np.testing.assert_array_equal(meshes["right"][1], faces)


def test_bad_surface_inputs_get_one_line_errors(tmp_path):
    left = write_gifti(tmp_path / "x_hemi-L.func.gii", [np.zeros(5), np.zeros(6)])
    right = write_gifti(tmp_path / "x_hemi-R.func.gii", [np.zeros(7), np.zeros(7)])
    with pytest.raises(ValueError, match="data arrays differ in length \\(array 0 has 5 values, "):
        load_surface_patterns([left, right])
    unnamed = write_gifti(tmp_path / "x.func.gii", [np.zeros(7)])
    with pytest.raises(ValueError, match="one named with hemi-L and one with hemi-R"):
        load_surface_patterns([unnamed, right])
    with pytest.raises(FileNotFoundError, match="no file"):
        load_surface_patterns([tmp_path / "y_hemi-L.func.gii", right])
    with pytest.raises(ValueError, match="is not an fsaverage mesh"):
        load_midthickness("fsaverage9")


def test_vertex_counts_that_match_no_mesh_or_swapped_hemispheres_are_named(tmp_path):
    small, large = tetrahedron(), tetrahedron(n_extra=3)
    meshes = {"left": small, "right": large}  # fsnative meshes differ between hemispheres
    left = write_gifti(tmp_path / "run_hemi-L.func.gii", [np.zeros(7)] * 3)
    right = write_gifti(tmp_path / "run_hemi-R.func.gii", [np.zeros(4)] * 3)
    with pytest.raises(ValueError, match="are the hemi-L and hemi-R files swapped"):
        check_vertex_counts(load_surface_patterns([left, right]), meshes, "the subject's mesh")
    patterns = SurfacePatterns(left=np.zeros((2, 2562)), right=np.zeros((2, 2562)))
    with pytest.raises(
        ValueError,
        match=r"2562 \(left\) and 2562 \(right\) vertices \(the vertex "
        r"count of fsaverage4\), but fsaverage5 has 10242 and 10242",
    ):
        check_vertex_counts(patterns, load_midthickness("fsaverage5"), "fsaverage5")


def test_surface_searchlight_finds_an_effect_planted_on_one_bank_only():
    from test_geodesic import opposite_banks

    from mlem_neuro.surface import searchlight
    from mlem_neuro.units import geodesic_discs

    meshes = load_midthickness("fsaverage5")
    coordinates, faces = meshes["left"]
    vertex, other_bank = opposite_banks(coordinates, faces)
    planted = geodesic_discs(coordinates, faces, 8.0)[[vertex]].indices
    region = geodesic_discs(coordinates, faces, 20.0)[[vertex, other_bank]].indices
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"animate": rng.integers(0, 2, 60).astype(bool)})
    # Only vertices around the two banks have signal (the rest is NaN, like a medial wall),
    # which keeps the test fast; the right hemisphere has a small noise patch.
    data = {"left": np.full((10242, 60), np.nan), "right": np.full((10242, 60), np.nan)}
    data["left"][region] = rng.standard_normal((len(region), 60))
    data["left"][planted] += 1.5 * np.outer(rng.standard_normal(len(planted)), features["animate"])
    data["right"][region] = rng.standard_normal((len(region), 60))
    image = SurfaceImage(mesh=load_fsaverage("fsaverage5")["pial"], data=data)
    result = searchlight(image, features, 6.0, cv=3, random_state=0)
    left = np.asarray(result.score_img.data.parts["left"])
    right = np.asarray(result.score_img.data.parts["right"])
    assert left[vertex] > 0.3 and left[other_bank] < 0.1
    assert np.nanmax(right) < 0.3  # the right hemisphere's same vertices carry nothing
    assert np.isnan(left[np.setdiff1d(np.arange(10242), region)]).all()
    assert set(result.importance_imgs) == {"animate"}
    assert result.parameters["disc_vertices"]["median"] >= 5


def test_surface_searchlight_saves_one_gifti_per_map_and_hemisphere(tmp_path):
    from mlem_neuro.surface import searchlight

    rng = np.random.default_rng(3)
    coordinates, faces = load_midthickness("fsaverage5")["left"]
    patch = np.flatnonzero(np.linalg.norm(coordinates - coordinates[0], axis=1) < 25)
    data = {h: np.full((10242, 30), np.nan) for h in ("left", "right")}
    for hemisphere in data:
        data[hemisphere][patch] = rng.standard_normal((len(patch), 30))
    features = pd.DataFrame({"size": rng.integers(0, 2, 30).astype(bool), "face": [0, 1] * 15})
    image = SurfaceImage(mesh=load_fsaverage("fsaverage5")["pial"], data=data)
    result = searchlight(image, features, 6.0, random_state=0, n_repeats=1)
    folder = result.save(tmp_path / "surface")
    for stem in ["score", "importance_size", "weight_face"]:
        for tag in ["hemi-L", "hemi-R"]:
            saved = nib.load(folder / f"{stem}_{tag}.func.gii").darrays[0].data
            assert saved.shape == (10242,) and np.isfinite(saved).sum() == len(patch)
    left = nib.load(folder / "score_hemi-L.func.gii").darrays[0].data
    np.testing.assert_allclose(left[patch], result.score_img.data.parts["left"][patch])
    assert (folder / "surface_searchlight.png").stat().st_size > 20_000
    assert (folder / "surface_importance_size.png").stat().st_size > 20_000
    best = result.results.importances.max().idxmax()
    assert result.most_important_terms(1) == [best]
    summary = __import__("json").loads((folder / "summary.json").read_text())
    assert summary["kind"] == "surface_searchlight" and summary["n_discs"] == 2 * len(patch)


def test_searchlight_command_takes_a_gifti_pair_and_writes_maps_and_a_report(tmp_path):
    from mlem_neuro.cli import main

    rng = np.random.default_rng(4)
    coordinates, _ = load_midthickness("fsaverage5")["left"]
    patch = np.flatnonzero(np.linalg.norm(coordinates - coordinates[0], axis=1) < 20)
    files = []
    for tag in ("hemi-L", "hemi-R"):
        data = np.full((24, 10242), np.nan)
        data[:, patch] = rng.standard_normal((24, len(patch)))
        files.append(write_gifti(tmp_path / f"run_{tag}_space-fsaverage5.func.gii", data))
    table = pd.DataFrame({"face": [0, 1, 2] * 8, "run": np.repeat(np.arange(4), 6)})
    table.to_csv(tmp_path / "features.csv", index=False)
    out = tmp_path / "out"
    command = [*map(str, files), "--features", str(tmp_path / "features.csv")]
    command += ["--radius", "6", "--cv-groups", "run", "--out", str(out), "--quiet"]
    assert main(["searchlight", *command]) == 0
    assert nib.load(out / "score_hemi-R.func.gii").darrays[0].data.shape == (10242,)
    html = (out / "report.html").read_text()
    assert "Score on the cortex" in html and "Best discs" in html
    assert "Importance of face on the cortex" in html
    assert main(["searchlight", str(files[0]), str(files[0]), *command[2:], "--overwrite"]) == 2
