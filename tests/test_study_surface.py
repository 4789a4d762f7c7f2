"""Surface studies end to end: fMRIPrep's GIFTI runs in, surface maps and group maps out."""

import nibabel as nib
import numpy as np
import pytest

from mlem_neuro import FitOptions
from mlem_neuro.cli import main
from mlem_neuro.datasets.synthetic import PLANTED_VERTEX, add_surface_runs, make_fmri_study
from mlem_neuro.outputs import read_result
from mlem_neuro.study import LayoutError, StudyConfig, run_group, run_participants, study_inputs
from mlem_neuro.surface import load_midthickness

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:With 5 subjects:UserWarning"),
]


def config(**changes):
    settings = dict(
        task="objects",
        analysis="searchlight",
        features=("animate", "size"),
        options=FitOptions(random_state=0, n_repeats=1),
        radius=6.0,
        space="fsaverage5",
        report=False,
    )
    return StudyConfig(**(settings | changes))


@pytest.fixture(scope="module")
def surface_study(tmp_path_factory):
    root = make_fmri_study(tmp_path_factory.mktemp("bids") / "fmri", n_subjects=5, shape=(5, 6, 5))
    return add_surface_runs(root, "fsaverage5")


def far_vertex_on_the_same_patch():
    """A vertex of the left patch 15 mm or more from the planted disc's centre."""
    coordinates = load_midthickness("fsaverage5")["left"][0]
    distance = np.linalg.norm(coordinates - coordinates[PLANTED_VERTEX], axis=1)
    return int(np.flatnonzero((distance > 15) & (distance < 18))[0])


def test_surface_study_finds_the_planted_disc_in_every_subject_and_the_group(
    surface_study, tmp_path
):
    out = tmp_path / "out"
    outcome = run_participants(surface_study, out, config(), verbose=False)
    assert outcome.succeeded and len(outcome.folders) == 5
    far = far_vertex_on_the_same_patch()
    for folder in sorted(out.glob("sub-*/task-objects_searchlight")):
        stored = read_result(folder)
        assert stored.kind == "surface_searchlight" and stored.summary["mesh"] == "fsaverage5"
        left = nib.load(folder / "score_hemi-L.func.gii").darrays[0].data
        assert left[PLANTED_VERTEX] > 0.2 and left[far] < left[PLANTED_VERTEX] / 2
        assert np.isfinite(left).sum() < 1000  # only the patch has signal
    group = run_group(out, "objects", "searchlight", n_permutations=100, report=False)
    logp = nib.load(group / "logp_vertex_hemi-L.func.gii").darrays[0].data
    assert logp[PLANTED_VERTEX] > 1.3
    right = nib.load(group / "logp_cluster_mass_hemi-R.func.gii").darrays[0].data
    assert np.nanmax(right) < 1.3


def test_fsnative_runs_use_the_subjects_own_surfaces(tmp_path):
    root = make_fmri_study(tmp_path / "fmri", n_subjects=1, n_runs=3, shape=(5, 6, 5))
    add_surface_runs(root, "fsnative")
    (subject,) = study_inputs(root, config(space="fsnative"))
    white, pial = subject.mesh["left"]
    assert white.name == "sub-01_hemi-L_white.surf.gii" and pial.name.endswith("pial.surf.gii")
    assert [run.bold_right.name[:32] for run in subject.runs] == [
        f"sub-01_task-objects_run-{run}_hemi-R" for run in (1, 2, 3)
    ]
    out = tmp_path / "out"
    assert run_participants(root, out, config(space="fsnative"), verbose=False).succeeded
    stored = read_result(out / "sub-01" / "task-objects_searchlight")
    assert stored.summary["mesh"] == "subject"
    (pial.parent / "sub-01_hemi-R_pial.surf.gii").unlink()
    with pytest.raises(LayoutError, match="fsnative runs need the subject's hemi-R_white"):
        study_inputs(root, config(space="fsnative"))


def test_bids_command_lists_surface_spaces_and_runs_surface_rois(surface_study, tmp_path, capsys):
    out = tmp_path / "out"
    common = [str(surface_study), str(out), "participant", "--task", "objects"]
    common += [
        "--features",
        "animate,size",
        "--quiet",
        "--n-repeats",
        "1",
        "--no-report",
        "--seed",
        "0",
    ]
    assert main(["bids", *common, "--analysis", "searchlight"]) == 2
    error = capsys.readouterr().err
    assert "fsaverage5" in error and "MNI152NLin2009cAsym" in error and "--space" in error
    annots = []
    for hemisphere in ("lh", "rh"):
        labels = np.full(10242, -1)
        labels[:5000] = 1
        path = tmp_path / f"{hemisphere}.half.annot"
        ctab = np.array([[0, 0, 0, 0, 0], [200, 30, 30, 0, 0]], np.int32)
        nib.freesurfer.write_annot(path, labels, ctab, [b"unknown", b"half"], fill_ctab=True)
        annots.append(str(path))
    command = [*common, "--analysis", "roi", "--space", "fsaverage5", "--atlas", ",".join(annots)]
    command += ["--participant-label", "01", "02"]
    assert main(["bids", *command]) == 0
    table = read_result(out / "sub-01" / "task-objects_roi").table("roi")
    assert list(table["label"]) == ["L_half", "R_half"]
