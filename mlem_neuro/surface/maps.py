"""Maps of both hemispheres: built from arrays, saved and read as one GIFTI file per hemisphere."""

import nibabel as nib
import numpy as np

from ..outputs import file_stem
from .inputs import FILE_TAGS, HEMISPHERES, load_midthickness

__all__ = ["surface_image", "write_surface_map", "read_surface_map"]


def surface_image(meshes, data):
    """A ``SurfaceImage`` of one value per vertex on the midthickness meshes.

    Parameters
    ----------
    meshes : dict of str to tuple
        From :func:`mlem_neuro.surface.load_midthickness`.
    data : dict of str to array of shape (n_vertices,)
        Values of each hemisphere ("left", "right").

    Returns
    -------
    nilearn.surface.SurfaceImage
    """
    from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage

    polymesh = PolyMesh(**{h: InMemoryMesh(*meshes[h]) for h in HEMISPHERES})
    return SurfaceImage(mesh=polymesh, data={h: np.asarray(data[h]) for h in HEMISPHERES})


def write_surface_map(folder, name, img):
    """Write ``<name>_hemi-L.func.gii`` and ``<name>_hemi-R.func.gii`` (float32).

    Parameters
    ----------
    folder : ResultFolder
    name : str
        A measure ("score", "importance_a:b"...); interactions are written "a_x_b".
    img : nilearn.surface.SurfaceImage
        One value per vertex, or several samples (one data array each).
    """
    for hemisphere, tag in FILE_TAGS.items():
        values = np.asarray(img.data.parts[hemisphere], dtype=np.float32)
        samples = values[:, None] if values.ndim == 1 else values
        arrays = [nib.gifti.GiftiDataArray(np.ascontiguousarray(sample)) for sample in samples.T]
        gifti = nib.gifti.GiftiImage(darrays=arrays)
        nib.save(gifti, folder.file(f"{file_stem(name)}_{tag}.func.gii"))


def read_surface_map(stored, name, mesh):
    """The map ``name`` of a result folder, written by :func:`write_surface_map`.

    Parameters
    ----------
    stored : StoredResult
    name : str
    mesh : str or dict
        The mesh the map was computed on.

    Returns
    -------
    nilearn.surface.SurfaceImage
    """
    data = {
        hemisphere: np.asarray(
            nib.load(stored.file(f"{file_stem(name)}_{tag}.func.gii")).darrays[0].data, dtype=float
        )
        for hemisphere, tag in FILE_TAGS.items()
    }
    return surface_image(load_midthickness(mesh), data)
