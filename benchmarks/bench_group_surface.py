"""Group tests of surface maps: time of each correction, against nilearn's volume test.

Twelve subjects' maps on fsaverage5 (20,484 vertices, both hemispheres): noise,
with a 10 mm disc of effect on the left hemisphere. Timed:
``stats.group_surface_test`` with and without TFCE. Baseline in the same run:
``stats.group_map_test`` (nilearn's ``non_parametric_inference``) on a volume
with as many in-mask voxels (a 28 x 28 x 27 box at 3 mm), with and without TFCE.
Both run the same number of sign flips.

Usage::

    python benchmarks/bench_group_surface.py [--subjects 12] [--permutations 1000]
"""

import argparse
import time

import nibabel as nib
import numpy as np

from mlem_neuro.stats import group_map_test, group_surface_test
from mlem_neuro.surface import load_midthickness, surface_image
from mlem_neuro.units import geodesic_discs


def surface_maps(n_subjects, rng):
    meshes = load_midthickness("fsaverage5")
    coordinates, faces = meshes["left"]
    disc = geodesic_discs(coordinates, faces, 10.0)[[1000]].indices
    maps = []
    for _ in range(n_subjects):
        data = {h: rng.standard_normal(len(meshes[h][0])) for h in meshes}
        data["left"][disc] += 1.0
        maps.append(surface_image(meshes, data))
    return maps, disc


def volume_maps(n_subjects, rng, shape=(28, 28, 27)):
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    maps = []
    for _ in range(n_subjects):
        data = rng.standard_normal(shape)
        data[10:14, 10:14, 10:14] += 1.0
        maps.append(nib.Nifti1Image(data, affine))
    return maps


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--permutations", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    surfaces, disc = surface_maps(args.subjects, rng)
    volumes = volume_maps(args.subjects, rng)
    options = dict(n_permutations=args.permutations, random_state=0)
    print("| test | elements | TFCE | seconds | ratio to nilearn's volume test |")
    print("|---|---|---|---|---|")
    for tfce in (False, True):
        _, volume_seconds = timed(
            group_map_test, volumes, tfce=tfce, cluster_table=False, **options
        )
        result, seconds = timed(group_surface_test, surfaces, tfce=tfce, **options)
        found = np.asarray(result.logp_imgs["vertex"].data.parts["left"]) > -np.log10(0.05)
        print(
            f"| group_surface_test, fsaverage5 | 20,484 | {tfce} | {seconds:.1f} | "
            f"{seconds / volume_seconds:.2f} |"
        )
        print(f"| group_map_test (nilearn), volume | 21,168 | {tfce} | {volume_seconds:.1f} | 1 |")
        print(
            f"<!-- vertices found (max-t p < 0.05): {found.sum()}, in the disc: "
            f"{np.isin(np.flatnonzero(found), disc).sum()} of {len(disc)} -->"
        )


if __name__ == "__main__":
    main()
