"""Geodesic discs on cortical meshes: time, peak memory and disc sizes.

Meshes: nilearn's bundled fsaverage5 (10,242 vertices per hemisphere), both
hemispheres, on the midthickness (mean of white and pial); and an fsnative-sized
mesh made offline by subdividing fsaverage5's left midthickness twice (each
triangle into four, new vertices at edge midpoints: 163,842 vertices, edges of
about 0.7 mm). The baseline in the same run is a 3-D ball of the same radius
around every vertex (scipy's KD-tree), which is what a volume searchlight's
spheres cost.

Usage::

    python benchmarks/bench_surface.py [--radii 6,10] [--subdivisions 2]
"""

import argparse
import time

import numpy as np
from memory import PeakMemory
from nilearn.datasets import load_fsaverage
from scipy.spatial import cKDTree

from mlem_neuro.units.geodesic import geodesic_discs, mesh_edges


def midthickness(hemisphere):
    mesh = load_fsaverage("fsaverage5")
    pial, white = mesh["pial"].parts[hemisphere], mesh["white_matter"].parts[hemisphere]
    return (pial.coordinates + white.coordinates) / 2, np.asarray(pial.faces)


def subdivided(coordinates, faces):
    """Each triangle split into four at its edge midpoints."""
    edges, _ = mesh_edges(coordinates, faces)
    middle = {tuple(edge): len(coordinates) + k for k, edge in enumerate(edges.tolist())}
    coordinates = np.vstack([coordinates, coordinates[edges].mean(axis=1)])

    def mid(a, b):
        return np.array([middle[(min(x, y), max(x, y))] for x, y in zip(a, b)])

    a, b, c = faces.T
    ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
    faces = np.concatenate(
        [np.column_stack(f) for f in ([a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca])]
    )
    return coordinates, faces


def measure(name, coordinates, faces, radius):
    with PeakMemory() as memory:
        started = time.perf_counter()
        discs = geodesic_discs(coordinates, faces, radius)
        seconds = time.perf_counter() - started
    sizes = np.asarray(discs.sum(axis=1))
    started = time.perf_counter()
    balls = cKDTree(coordinates).query_ball_point(coordinates, radius, workers=-1)
    ball_seconds = time.perf_counter() - started
    ball_median = np.median([len(ball) for ball in balls])
    print(
        f"| {name} | {len(coordinates):,} | {radius:g} | {seconds:.2f} | {memory.extra_mib:.0f} | "
        f"{sizes.min()} / {np.median(sizes):.0f} / {sizes.max()} | {ball_seconds:.2f} | "
        f"{ball_median:.0f} |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--radii", default="6,10")
    parser.add_argument("--subdivisions", type=int, default=2)
    args = parser.parse_args()
    print(
        "| mesh | vertices | radius (mm) | discs (s) | peak extra MiB | disc vertices min / "
        "median / max | 3-D balls (s) | ball vertices, median |"
    )
    print("|---|---|---|---|---|---|---|---|")
    fine = midthickness("left")
    for _ in range(args.subdivisions):
        fine = subdivided(*fine)
    for radius in [float(value) for value in args.radii.split(",")]:
        for hemisphere in ("left", "right"):
            measure(f"fsaverage5 {hemisphere}", *midthickness(hemisphere), radius)
        measure(f"fsaverage5 left, subdivided {args.subdivisions}x", *fine, radius)


if __name__ == "__main__":
    main()
