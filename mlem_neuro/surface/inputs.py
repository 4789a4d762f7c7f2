"""Patterns on the cortical surface and the meshes they live on, checked against each other.

Patterns come as nilearn's ``SurfaceImage`` (one sample per stimulus) or as
the two GIFTI files fMRIPrep writes per run, named ``hemi-L`` and ``hemi-R``,
each holding one data array per stimulus. Meshes are nilearn's fsaverage
(fsaverage5 ships with nilearn and works offline) or the subject's own white
and pial surfaces; distances along the cortex are measured on their mean, the
midthickness.
"""

import dataclasses
from pathlib import Path

import nibabel as nib
import numpy as np

from ..core import check_feature_rows

__all__ = [
    "HEMISPHERES",
    "SurfacePatterns",
    "load_surface_patterns",
    "load_midthickness",
    "check_vertex_counts",
    "load_surface_inputs",
    "load_surface_run",
    "pair_hemisphere_files",
    "sidecar_repetition_time",
]

HEMISPHERES = ("left", "right")
#: How fMRIPrep (BIDS) names each hemisphere in file names.
FILE_TAGS = {"left": "hemi-L", "right": "hemi-R"}
#: Vertices per hemisphere of nilearn's fsaverage meshes.
FSAVERAGE_VERTICES = {
    "fsaverage3": 642,
    "fsaverage4": 2562,
    "fsaverage5": 10242,
    "fsaverage6": 40962,
    "fsaverage7": 163842,
    "fsaverage": 163842,
}


@dataclasses.dataclass
class SurfacePatterns:
    """Neural patterns on both hemispheres, one row per stimulus.

    Attributes
    ----------
    left : array of shape (n_stimuli, n_left_vertices)
    right : array of shape (n_stimuli, n_right_vertices)
    """

    left: np.ndarray
    right: np.ndarray

    @property
    def n_stimuli(self):
        """Number of stimuli (rows)."""
        return self.left.shape[0]

    def parts(self):
        """Each hemisphere's patterns: dict of "left" and "right" to arrays."""
        return {"left": self.left, "right": self.right}


def load_surface_patterns(patterns):
    """Patterns of both hemispheres from a ``SurfaceImage`` or a pair of GIFTI files.

    Parameters
    ----------
    patterns : nilearn.surface.SurfaceImage or pair of str or Path
        A ``SurfaceImage`` whose data hold one sample per stimulus, or two
        GIFTI files (either order) whose names contain ``hemi-L`` and
        ``hemi-R``, each with one data array per stimulus.

    Returns
    -------
    SurfacePatterns
    """
    if hasattr(patterns, "data") and hasattr(patterns, "mesh"):
        parts = {
            hemisphere: _samples_first(np.asarray(patterns.data.parts[hemisphere]))
            for hemisphere in HEMISPHERES
        }
    elif isinstance(patterns, (list, tuple)):
        files = _files_by_hemisphere(patterns, "patterns")
        parts = {hemisphere: _gifti_samples(path) for hemisphere, path in files.items()}
    else:
        raise TypeError(
            "patterns must be a nilearn SurfaceImage or a pair of GIFTI files named hemi-L and "
            f"hemi-R, got {type(patterns).__name__}."
        )
    if parts["left"].shape[0] != parts["right"].shape[0]:
        raise ValueError(
            f"The left hemisphere has {parts['left'].shape[0]} stimuli but the right one "
            f"{parts['right'].shape[0]}; give both hemispheres of the same patterns."
        )
    return SurfacePatterns(**parts)


def load_midthickness(mesh="fsaverage5"):
    """The midthickness surface of each hemisphere: the mean of the white and pial surfaces.

    Parameters
    ----------
    mesh : str or dict
        A nilearn fsaverage mesh ("fsaverage5" ships with nilearn; the others
        are fetched, which needs the network once), or the subject's own
        surfaces: a dict from "left" and "right" to a pair of GIFTI files
        (white, pial), as fMRIPrep's ``*_hemi-L_white.surf.gii`` and
        ``*_hemi-L_pial.surf.gii``, or to one midthickness GIFTI file.

    Returns
    -------
    dict of str to tuple
        For "left" and "right": coordinates (n_vertices, 3) in mm and faces
        (n_faces, 3).
    """
    if isinstance(mesh, str):
        return _fsaverage_midthickness(mesh)
    if not isinstance(mesh, dict) or set(mesh) != set(HEMISPHERES):
        raise TypeError(
            "mesh must be the name of an fsaverage mesh or a dict from 'left' and 'right' to "
            f"the subject's (white, pial) GIFTI surfaces, got {mesh!r}."
        )
    return {hemisphere: _gifti_midthickness(mesh[hemisphere]) for hemisphere in HEMISPHERES}


def check_vertex_counts(patterns, meshes, mesh_name="the mesh"):
    """Refuse patterns whose vertex counts do not match the mesh's, saying which differ.

    Parameters
    ----------
    patterns : SurfacePatterns
    meshes : dict of str to tuple
        From :func:`load_midthickness`.
    mesh_name : str
        How to name the mesh in errors.
    """
    data = {hemisphere: part.shape[1] for hemisphere, part in patterns.parts().items()}
    mesh = {hemisphere: len(meshes[hemisphere][0]) for hemisphere in HEMISPHERES}
    if data == mesh:
        return
    if data["left"] != data["right"] and (data["left"], data["right"]) == (
        mesh["right"],
        mesh["left"],
    ):
        raise ValueError(
            f"The patterns' left hemisphere has {data['left']} vertices and their right one "
            f"{data['right']}, the other way round from {mesh_name} (left {mesh['left']}, right "
            f"{mesh['right']}): are the hemi-L and hemi-R files swapped?"
        )
    known = [name for name, count in FSAVERAGE_VERTICES.items() if count == data["left"]]
    hint = f" (the vertex count of {known[0]})" if known and data["left"] == data["right"] else ""
    raise ValueError(
        f"The patterns have {data['left']} (left) and {data['right']} (right) vertices{hint}, "
        f"but {mesh_name} has {mesh['left']} and {mesh['right']}; give the mesh the patterns "
        "were sampled on."
    )


def load_surface_inputs(patterns, features, mesh):
    """Patterns, their mesh and their features, checked against each other.

    Parameters
    ----------
    patterns : SurfaceImage or pair of str or Path
        As in :func:`load_surface_patterns`.
    features : DataFrame of shape (n_stimuli, n_features)
    mesh : str or dict
        As in :func:`load_midthickness`.

    Returns
    -------
    patterns : SurfacePatterns
    meshes : dict of str to tuple
        From :func:`load_midthickness`.
    features : DataFrame
    """
    surface = load_surface_patterns(patterns)
    meshes = load_midthickness(mesh)
    check_vertex_counts(surface, meshes, mesh if isinstance(mesh, str) else "the given mesh")
    features = check_feature_rows(features, surface.n_stimuli, sample="sample")
    return surface, meshes, features


def pair_hemisphere_files(paths, name):
    """GIFTI files grouped in hemi-L/hemi-R pairs, in the order of their hemi-L files.

    Parameters
    ----------
    paths : list of str or Path
        Files named as fMRIPrep names them (``..._hemi-L_...`` and the same
        name with ``hemi-R``), in any order.
    name : str
        The parameter, for errors.

    Returns
    -------
    list of (Path, Path)
    """
    paths = [Path(path) for path in paths]
    lefts = [path for path in paths if FILE_TAGS["left"] in path.name]
    pairs = [(left, left.with_name(left.name.replace("hemi-L", "hemi-R"))) for left in lefts]
    unpaired = sorted(set(map(str, paths)) - {str(path) for pair in pairs for path in pair})
    unpaired += [str(right) for _, right in pairs if right not in paths]
    if unpaired or not pairs:
        raise ValueError(
            f"{name}: GIFTI files come in pairs named with hemi-L and hemi-R (fMRIPrep's "
            f"naming); no partner for {unpaired or [str(path) for path in paths]}."
        )
    return pairs


def load_surface_run(run, mesh="fsaverage5"):
    """One BOLD run on the surface, as a ``SurfaceImage`` with one sample per volume.

    Parameters
    ----------
    run : SurfaceImage or pair of str or Path
        A ``SurfaceImage``, or the run's hemi-L and hemi-R GIFTI files, each
        with one data array per volume (as fMRIPrep writes ``*_bold.func.gii``).
    mesh : str or dict
        The mesh of the data (see :func:`load_midthickness`).

    Returns
    -------
    nilearn.surface.SurfaceImage
        Data of shape (n_vertices, n_volumes) per hemisphere.
    """
    from .maps import surface_image

    if hasattr(run, "data") and hasattr(run, "mesh"):
        return run
    patterns = load_surface_patterns(run)
    meshes = load_midthickness(mesh)
    check_vertex_counts(patterns, meshes, mesh if isinstance(mesh, str) else "the given mesh")
    return surface_image(meshes, {h: part.T for h, part in patterns.parts().items()})


def sidecar_repetition_time(path):
    """RepetitionTime (s) of the JSON sidecar beside a GIFTI run, or None.

    fMRIPrep writes ``..._bold.json`` beside ``..._bold.func.gii``.
    """
    import json

    sidecar = Path(str(path).removesuffix(".func.gii").removesuffix(".gii") + ".json")
    if not sidecar.exists():
        return None
    value = json.loads(sidecar.read_text()).get("RepetitionTime")
    return float(value) if value else None


def _samples_first(data):
    """(n_vertices,) or (n_vertices, n_samples) data as (n_samples, n_vertices)."""
    return data[None] if data.ndim == 1 else data.T


def _files_by_hemisphere(paths, name):
    """The file of each hemisphere among two, told apart by hemi-L and hemi-R in their names."""
    paths = [Path(path) for path in paths]
    found = {}
    for hemisphere, tag in FILE_TAGS.items():
        matches = [path for path in paths if tag in path.name]
        if len(paths) != 2 or len(matches) != 1:
            raise ValueError(
                f"{name} must be two GIFTI files, one named with hemi-L and one with hemi-R "
                f"(fMRIPrep's naming), got {[str(path) for path in paths]}."
            )
        found[hemisphere] = matches[0]
    for path in found.values():
        if not path.exists():
            raise FileNotFoundError(f"{name}: no file {path}.")
    return found


def _gifti_samples(path):
    """One row per data array of a GIFTI file: array of shape (n_arrays, n_vertices)."""
    arrays = [np.asarray(array.data).ravel() for array in nib.load(path).darrays]
    if not arrays:
        raise ValueError(f"{path} holds no data array; expected one per stimulus.")
    lengths = [len(array) for array in arrays]
    if len(set(lengths)) > 1:
        other = next(index for index, length in enumerate(lengths) if length != lengths[0])
        raise ValueError(
            f"{path}: its data arrays differ in length (array 0 has {lengths[0]} values, array "
            f"{other} has {lengths[other]}); each must hold one value per vertex."
        )
    return np.stack(arrays)


def _gifti_midthickness(surfaces):
    """Coordinates and faces of one hemisphere from (white, pial) GIFTI files, or one file."""
    if isinstance(surfaces, (str, Path)):
        return _gifti_surface(surfaces)
    white, pial = (_gifti_surface(path) for path in surfaces)
    if white[0].shape != pial[0].shape or not np.array_equal(white[1], pial[1]):
        raise ValueError(
            f"The white ({surfaces[0]}) and pial ({surfaces[1]}) surfaces must share their "
            f"vertices and faces, got {len(white[0])} and {len(pial[0])} vertices."
        )
    return (white[0] + pial[0]) / 2, white[1]


def _gifti_surface(path):
    if not Path(path).exists():
        raise FileNotFoundError(f"mesh: no file {path}.")
    coordinates, faces = nib.load(path).agg_data(("pointset", "triangle"))
    return np.asarray(coordinates, dtype=float), np.asarray(faces)


def _fsaverage_midthickness(name):
    from nilearn.datasets import load_fsaverage

    if name not in FSAVERAGE_VERTICES:
        raise ValueError(
            f"mesh={name!r} is not an fsaverage mesh; expected one of "
            f"{sorted(FSAVERAGE_VERTICES)} or the subject's (white, pial) GIFTI surfaces."
        )
    try:
        surfaces = load_fsaverage(name)
    except Exception as error:  # noqa: BLE001 - nilearn's download errors vary
        raise OSError(
            f"mesh={name!r} must be fetched by nilearn, which failed ({error}); use 'fsaverage5' "
            "(bundled with nilearn) or the subject's own surfaces."
        ) from error
    return {
        hemisphere: (
            (
                surfaces["white_matter"].parts[hemisphere].coordinates
                + surfaces["pial"].parts[hemisphere].coordinates
            )
            / 2,
            np.asarray(surfaces["pial"].parts[hemisphere].faces),
        )
        for hemisphere in HEMISPHERES
    }
