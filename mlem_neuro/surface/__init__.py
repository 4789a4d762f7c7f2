"""Cortical surfaces: patterns, meshes, atlases, a searchlight of discs along the cortex, regions.

Patterns of both hemispheres come as GIFTI pairs or nilearn's SurfaceImage;
discs are :func:`mlem_neuro.units.geodesic_discs` on the midthickness.
"""

from .atlas import HemisphereRegions, load_surface_atlas
from .inputs import (
    HEMISPHERES,
    SurfacePatterns,
    check_vertex_counts,
    load_midthickness,
    load_surface_inputs,
    load_surface_patterns,
    load_surface_run,
    pair_hemisphere_files,
    sidecar_repetition_time,
)
from .maps import read_surface_map, surface_image, write_surface_map
from .plotting import plot_surface_map
from .roi import SurfaceRoiResult, roi_analysis
from .searchlight import SurfaceSearchlightResult, searchlight

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
    "SurfaceSearchlightResult",
    "searchlight",
    "plot_surface_map",
    "surface_image",
    "write_surface_map",
    "read_surface_map",
    "HemisphereRegions",
    "load_surface_atlas",
    "SurfaceRoiResult",
    "roi_analysis",
]
