"""Builders of units: spheres, geodesic discs, regions, sensor neighbourhoods, time windows.

A unit is a set of columns of one pattern matrix; builders return them as a
scipy.sparse membership matrix or a list of column-index arrays, ready for
:func:`mlem_neuro.fit_units`. Arrays only: the fMRI and M/EEG adapters turn
images and sensors into the coordinates and adjacencies these functions take.
"""

from .geodesic import geodesic_discs, mesh_edges, source_spacing
from .regions import label_units, warn_about_small_regions
from .sensors import adjacency_neighbourhoods, neighbourhood_adjacency, radius_neighbourhoods
from .spheres import searchlight_spheres
from .windows import channel_time_units, time_windows

__all__ = [
    "searchlight_spheres",
    "geodesic_discs",
    "mesh_edges",
    "source_spacing",
    "label_units",
    "warn_about_small_regions",
    "radius_neighbourhoods",
    "adjacency_neighbourhoods",
    "neighbourhood_adjacency",
    "time_windows",
    "channel_time_units",
]
