"""Source-space searchlight: time and peak memory on fsaverage ico-4 and ico-5.

Simulated per-epoch ``mne.SourceEstimate`` objects of ``subject="fsaverage"``
on MNE's ico-4 (2 x 2,562 sources) or ico-5 (2 x 10,242) numbering, 60 epochs,
16 windows of 50 ms (100 Hz), one binary feature planted in the first 20 sources
(the icosahedron's first vertices, scattered over the hemisphere) at 200-300 ms.
``meeg.source_timecourse`` runs with discs of ``--radius`` mm along
the cortex and 5-fold cross-validation. Baseline in the same run: the dense
n_sources x n_sources distance matrix that a searchlight built on pairwise
distances (mne-rsa's) needs, timed and measured with ``scipy.spatial.distance.cdist``.

Usage::

    python benchmarks/bench_sources.py [--spacings ico4,ico5] [--radius 10]
"""

import argparse
import time

import mne
import numpy as np
import pandas as pd
from memory import PeakMemory
from scipy.spatial.distance import cdist

from mlem_neuro.meeg import source_timecourse
from mlem_neuro.meeg.sources import source_neighbourhoods, source_space

SOURCES = {"ico4": 2562, "ico5": 10242}


def estimates(n_per_hemisphere, n_epochs=60, n_times=80, seed=0):
    rng = np.random.default_rng(seed)
    vertices = [np.arange(n_per_hemisphere), np.arange(n_per_hemisphere)]
    features = pd.DataFrame({"animate": rng.integers(0, 2, n_epochs).astype(bool)})
    patch = np.arange(20)
    direction = rng.standard_normal(len(patch))
    stcs = []
    for animate in features["animate"]:
        data = rng.standard_normal((2 * n_per_hemisphere, n_times)).astype(np.float32)
        data[patch, 30:40] += 1.5 * direction[:, None] * (1 if animate else -1)
        stcs.append(mne.SourceEstimate(data, vertices, -0.1, 0.01, "fsaverage"))
    return stcs, features


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spacings", default="ico4,ico5")
    parser.add_argument("--radius", type=float, default=10.0)
    args = parser.parse_args()
    print(
        "| sources | units | disc sources min / median / max | discs: s, MiB | dense distance "
        "matrix: s, MiB | fit, 5-fold CV (s) | fit peak extra MiB |"
    )
    print("|---|---|---|---|---|---|---|")
    for spacing in args.spacings.split(","):
        stcs, features = estimates(SOURCES[spacing])
        space = source_space(stcs[0].vertices, "surface", "fsaverage")
        with PeakMemory() as disc_memory:
            started = time.perf_counter()
            discs = source_neighbourhoods(space, args.radius)
            disc_seconds = time.perf_counter() - started
        with PeakMemory() as dense_memory:
            started = time.perf_counter()
            distances = cdist(space.positions, space.positions)
            dense_seconds = time.perf_counter() - started
        del distances, discs
        with PeakMemory() as memory:
            started = time.perf_counter()
            result = source_timecourse(
                stcs, features, radius=args.radius, window=0.05, step=0.05, random_state=0
            )
            seconds = time.perf_counter() - started
        sizes = result.parameters["place_sources"]
        print(
            f"| {spacing}, {space.n_sources:,} | {len(result.results.scores):,} | "
            f"{sizes['min']} / {sizes['median']:g} / {sizes['max']} | {disc_seconds:.2f}, "
            f"{disc_memory.extra_mib:.0f} | {dense_seconds:.2f}, {dense_memory.extra_mib:.0f} | "
            f"{seconds:.1f} | {memory.extra_mib:.0f} |"
        )
        print(f"<!-- peak: {result.peak()} -->")


if __name__ == "__main__":
    main()
