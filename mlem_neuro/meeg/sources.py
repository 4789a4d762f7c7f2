"""Where M/EEG sources are: positions, the cortical mesh beneath them, their neighbourhoods.

Surface source estimates name their sources by vertex numbers of a cortical
mesh (one array per hemisphere). With ``src`` (the source space of the
forward model), the mesh is the source space's own surface. Without it, for
``subject="fsaverage"``, it is nilearn's bundled fsaverage5: MNE's fsaverage
source spaces number vertices on the full fsaverage mesh, whose first 2,562
(ico-4) and 10,242 (ico-5) vertices are fsaverage5's vertices, so data morphed
to fsaverage needs nothing else. Neighbourhoods are discs along the cortex
(:func:`mlem_neuro.units.geodesic_discs`) or balls for volume sources; never
a dense n_sources x n_sources matrix.
"""

import dataclasses

import numpy as np

from ..core import warn
from ..units import geodesic_discs, radius_neighbourhoods

__all__ = ["SourceSpace", "source_space", "source_neighbourhoods", "source_label_units"]

HEMISPHERES = ("left", "right")
#: Vertices of nilearn's bundled fsaverage5 mesh, per hemisphere (ico-5).
FSAVERAGE5_VERTICES = 10242


@dataclasses.dataclass
class SourceSpace:
    """The sources of source estimates and the geometry around them.

    Attributes
    ----------
    vertices : list of int arrays
        Vertex numbers of the sources, as ``stc.vertices``: one array per
        hemisphere for surface sources, one for volume sources.
    kind : {"surface", "volume"}
    subject : str or None
    meshes : dict of str to tuple or None
        Surface sources: for "left" and "right", coordinates (n_vertices, 3) in mm
        and faces (n_faces, 3) of the mesh the sources lie on.
    positions : array of shape (n_sources, 3)
        Source positions in mm, in the order of the estimates' rows.
    """

    vertices: list
    kind: str
    subject: object
    meshes: dict
    positions: np.ndarray

    @property
    def n_sources(self):
        """Number of sources (rows of the estimates)."""
        return sum(len(part) for part in self.vertices)

    def hemisphere_of_sources(self):
        """The hemisphere ("left", "right") of each source; "volume" for volume sources."""
        if self.kind == "volume":
            return np.full(self.n_sources, "volume")
        return np.repeat(np.array(HEMISPHERES), [len(part) for part in self.vertices])


def source_space(vertices, kind, subject=None, src=None):
    """The geometry of the sources of source estimates.

    Parameters
    ----------
    vertices : list of int arrays
        ``stc.vertices``.
    kind : {"surface", "volume"}
    subject : str or None
        ``stc.subject``.
    src : mne.SourceSpaces, optional
        The source space of the forward model. Needed unless the estimates
        are surface estimates of ``subject="fsaverage"`` on ico-5 or coarser.

    Returns
    -------
    SourceSpace
    """
    vertices = [np.asarray(part, dtype=np.int64) for part in vertices]
    if src is not None:
        return _from_src(vertices, kind, subject, src)
    if kind == "volume":
        raise ValueError(
            "Volume source estimates need src (the forward model's source space) to place "
            "their sources; pass src=forward['src'] or inverse_operator['src']."
        )
    if subject != "fsaverage":
        raise ValueError(
            f"The estimates are of subject {subject!r}, not 'fsaverage': without src there is "
            "no mesh to measure distances on. Pass src (the forward model's source space), or "
            "morph the estimates to fsaverage (mne.compute_source_morph)."
        )
    largest = max(int(part.max()) for part in vertices if part.size)
    if largest >= FSAVERAGE5_VERTICES:
        raise ValueError(
            f"The estimates use fsaverage vertex {largest}, beyond ico-5 (the first "
            f"{FSAVERAGE5_VERTICES} vertices, the mesh bundled offline); pass src, or morph to "
            "an ico-5 or coarser fsaverage source space."
        )
    from ..surface import load_midthickness

    meshes = load_midthickness("fsaverage5")
    positions = np.vstack([meshes[h][0][part] for h, part in zip(HEMISPHERES, vertices)])
    return SourceSpace(vertices, kind, subject, meshes, positions)


def _from_src(vertices, kind, subject, src):
    expected = "volume" if kind == "volume" else "surface"
    kinds = [space["type"] for space in src]
    if kind == "surface" and (len(src) != 2 or kinds != ["surf", "surf"]):
        raise ValueError(
            f"src must be a surface source space of two hemispheres for surface estimates, got "
            f"{len(src)} space(s) of type {kinds}."
        )
    if kind == "volume" and (len(src) != 1 or kinds[0] not in ("vol", "discrete")):
        raise ValueError(f"src must be one volume source space for volume estimates, got {kinds}.")
    for part, space in zip(vertices, src):
        missing = np.setdiff1d(part, space["vertno"])
        if missing.size:
            raise ValueError(
                f"The estimates use vertices that src does not ({missing[:5].tolist()}...); "
                f"give the {expected} source space the estimates were computed with."
            )
    positions = np.vstack([space["rr"][part] * 1000 for part, space in zip(vertices, src)])
    meshes = None
    if kind == "surface":
        meshes = {h: (space["rr"] * 1000, space["tris"]) for h, space in zip(HEMISPHERES, src)}
    return SourceSpace(vertices, kind, subject, meshes, positions)


def source_neighbourhoods(space, radius):
    """One neighbourhood per source: a disc along the cortex, or a ball for volume sources.

    Parameters
    ----------
    space : SourceSpace
    radius : float
        In mm.

    Returns
    -------
    list of n_sources int arrays
        Source indices (rows of the estimates) of each neighbourhood.
    """
    if space.kind == "volume":
        return radius_neighbourhoods(space.positions, radius)
    neighbourhoods, offset = [], 0
    for hemisphere, part in zip(HEMISPHERES, space.vertices):
        if not part.size:
            continue
        coordinates, faces = space.meshes[hemisphere]
        sources = np.zeros(len(coordinates), dtype=bool)
        sources[part] = True
        discs = geodesic_discs(coordinates, faces, radius, sources=sources)
        # Discs come in vertex order; estimates list their sources in the order of part.
        order = np.argsort(part)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(part))
        for source in range(len(part)):
            row = discs.indices[discs.indptr[rank[source]] : discs.indptr[rank[source] + 1]]
            neighbourhoods.append(order[row] + offset)
        offset += len(part)
    return neighbourhoods


def source_label_units(space, labels):
    """The sources of each label.

    Parameters
    ----------
    space : SourceSpace
    labels : list of mne.Label, or pair of str or Path
        Surface labels (``hemi`` "lh" or "rh", vertex numbers of the source
        mesh), or an annotation: its ``lh.`` and ``rh.`` ``.annot`` files (or
        label GIFTIs), read by :func:`mlem_neuro.surface.load_surface_atlas`.

    Returns
    -------
    names : list of str
    units : list of int arrays
        Source indices of each label; labels without any source are left out
        with a ``ValueError`` when none is left.
    """
    if space.kind == "volume":
        raise ValueError("labels apply to surface source estimates; use radius for volumes.")
    if not all(hasattr(label, "hemi") for label in labels):
        labels = _annotation_labels(labels)
    offsets = {"lh": 0, "rh": len(space.vertices[0])}
    parts = {"lh": space.vertices[0], "rh": space.vertices[1]}
    names, units, empty = [], [], []
    for label in labels:
        if getattr(label, "hemi", None) not in offsets:
            raise ValueError(
                f"labels must be mne.Label objects of hemisphere 'lh' or 'rh', got {label!r}."
            )
        inside = np.flatnonzero(np.isin(parts[label.hemi], label.vertices))
        if inside.size:
            names.append(label.name)
            units.append(inside + offsets[label.hemi])
        else:
            empty.append(label.name)
    if not units:
        raise ValueError(f"No label holds any source of the estimates (labels: {empty[:5]}).")
    if empty:
        warn(
            f"{len(empty)} label(s) hold no source of the estimates and are left out: {empty[:5]}."
        )
    return names, units


def _annotation_labels(files):
    """mne.Label objects ("<name>-lh"...) of an annotation's regions."""
    import mne

    from ..surface import load_surface_atlas

    regions = load_surface_atlas(files)
    return [
        mne.Label(vertices, hemi=hemi, name=f"{name}-{hemi}")
        for hemisphere, hemi in zip(HEMISPHERES, ("lh", "rh"))
        for name, vertices in zip(regions[hemisphere].names, regions[hemisphere].vertices)
    ]
