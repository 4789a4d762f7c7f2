"""Regions on the cortical surface: FreeSurfer annotations or label GIFTIs, one per hemisphere."""

import dataclasses
from pathlib import Path

import nibabel as nib
import numpy as np

from .inputs import FILE_TAGS, HEMISPHERES

__all__ = ["HemisphereRegions", "load_surface_atlas"]

#: Label names that mark vertices outside every region (FreeSurfer and GIFTI conventions).
BACKGROUND_NAMES = {"unknown", "???", "medial_wall", "medial wall"}
#: How FreeSurfer names each hemisphere's files (``lh.aparc.annot``).
FREESURFER_PREFIXES = {"left": "lh.", "right": "rh."}


@dataclasses.dataclass
class HemisphereRegions:
    """The regions of one hemisphere.

    Attributes
    ----------
    names : list of str
        Region names, in the order of the atlas's keys.
    vertices : list of int arrays
        Vertices of each region.
    n_vertices : int
        Vertices of the hemisphere the atlas was drawn on.
    """

    names: list
    vertices: list
    n_vertices: int


def load_surface_atlas(atlas):
    """The regions of both hemispheres from a surface atlas.

    Parameters
    ----------
    atlas : pair of str or Path, dict, or nilearn.surface.SurfaceImage
        One file per hemisphere, told apart by ``hemi-L``/``hemi-R`` (BIDS)
        or ``lh.``/``rh.`` (FreeSurfer) in their names, or a dict from
        "left" and "right" to them: FreeSurfer annotations (``.annot``) or
        label GIFTIs (``.label.gii``). A ``SurfaceImage`` of integer labels
        names its regions by their numbers. Vertices labelled -1, 0 in a
        SurfaceImage, or named unknown, ??? or medial_wall belong to no
        region.

    Returns
    -------
    dict of str to HemisphereRegions
        For "left" and "right".
    """
    if hasattr(atlas, "data") and hasattr(atlas, "mesh"):
        parts = {h: _numbered_labels(np.asarray(atlas.data.parts[h])) for h in HEMISPHERES}
    else:
        files = _atlas_files(atlas)
        parts = {hemisphere: _read_labels(path) for hemisphere, path in files.items()}
    regions = {}
    for hemisphere, (keys, names) in parts.items():
        regions[hemisphere] = _regions(keys, names, hemisphere)
    return regions


def _atlas_files(atlas):
    if isinstance(atlas, dict) and set(atlas) == set(HEMISPHERES):
        return {hemisphere: Path(atlas[hemisphere]) for hemisphere in HEMISPHERES}
    paths = [Path(path) for path in atlas] if isinstance(atlas, (list, tuple)) else [atlas]
    found = {}
    for hemisphere in HEMISPHERES:
        matches = [
            path
            for path in paths
            if FILE_TAGS[hemisphere] in path.name
            or path.name.startswith(FREESURFER_PREFIXES[hemisphere])
        ]
        if len(paths) != 2 or len(matches) != 1:
            raise ValueError(
                "atlas must be two files, one for each hemisphere, named with hemi-L/hemi-R or "
                f"lh./rh. (a dict from 'left' and 'right' to them also works), got {atlas!r}."
            )
        found[hemisphere] = matches[0]
    return found


def _read_labels(path):
    """Key of every vertex and the name of every key, from an annotation or a label GIFTI."""
    if not path.exists():
        raise FileNotFoundError(f"atlas: no file {path}.")
    if path.name.endswith(".annot"):
        keys, _, names = nib.freesurfer.read_annot(path)
        return keys, {index: name.decode() for index, name in enumerate(names)}
    if path.name.endswith(".gii"):
        img = nib.load(path)
        if len(img.darrays) != 1:
            raise ValueError(
                f"atlas: {path} holds {len(img.darrays)} data arrays; a label GIFTI holds one."
            )
        names = img.labeltable.get_labels_as_dict() if img.labeltable else {}
        return np.asarray(img.darrays[0].data).ravel(), names
    raise ValueError(
        f"atlas: {path} is neither a FreeSurfer annotation (.annot) nor a label GIFTI (.label.gii)."
    )


def _numbered_labels(values):
    values = np.asarray(values).ravel()
    if not np.all(values == np.round(values)):
        raise ValueError("atlas: a SurfaceImage atlas must hold integer labels.")
    keys = values.astype(np.int64)
    return np.where(keys == 0, -1, keys), {}


def _regions(keys, names, hemisphere):
    keys = np.asarray(keys, dtype=np.int64)
    regions = HemisphereRegions([], [], len(keys))
    for key in np.unique(keys[keys >= 0]):
        name = str(names.get(key, key))
        if name.lower() in BACKGROUND_NAMES or (key == 0 and key not in names):
            continue
        regions.names.append(name)
        regions.vertices.append(np.flatnonzero(keys == key))
    if not regions.names:
        raise ValueError(f"atlas: there is no region in the {hemisphere} hemisphere.")
    return regions
