"""Throughput of batched fitting: many units at once against a loop over units.

1,000 units of 30 columns, 100 stimuli, 8 binary features, diagonal metric,
fit + permutation importance (5 repeats). A third of the units carry the
feature geometry, the rest are noise. The loop baseline fits units one at a
time with the same engine (``fit_units`` on a single unit), on a subset, and is
extrapolated per unit. Peak memory is measured in a fresh process per chunk
size (resident set size above the process's size before the fit).

Usage::

    python benchmarks/bench_many_units.py [--units 1000] [--loop-units 25] \
        [--device cpu] [--chunk-sizes 50,200,1000]
"""

import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from memory import PeakMemory

from mlem_neuro import fit_units
from mlem_neuro.core.simulation import make_metric_data


def make_units(n_units, width=30, n_stimuli=100, n_features=8, seed=0):
    features, latent, _ = make_metric_data(n_stimuli, n_features, 0, width, 0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    blocks = [
        latent * (unit % 3 == 0) + 0.5 * rng.standard_normal(latent.shape)
        for unit in range(n_units)
    ]
    Y = np.concatenate(blocks, axis=1).astype(np.float32)
    units = [np.arange(unit * width, (unit + 1) * width) for unit in range(n_units)]
    return features, Y, units


def peak_memory(args):
    """Run one fit in this process and print its extra peak RSS in MiB as JSON."""
    features, Y, units = make_units(args.units)
    with PeakMemory() as memory:
        started = time.perf_counter()
        fit_units(
            features,
            Y,
            units,
            device=args.device,
            random_state=0,
            units_per_chunk=args.memory_child,
        )
        seconds = time.perf_counter() - started
    print(json.dumps({"peak_mib": memory.extra_mib, "seconds": seconds}))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--loop-units", type=int, default=25)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--chunk-sizes", default="50,200,1000")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.simplefilter("ignore", UserWarning)
    if args.memory_child is not None:
        return peak_memory(args)

    features, Y, units = make_units(args.units)
    started = time.perf_counter()
    results = fit_units(features, Y, units, device=args.device, random_state=0)
    batched = time.perf_counter() - started
    planted = np.arange(args.units) % 3 == 0
    print(f"batched: {args.units} units in {batched:.1f} s on {args.device}")
    print(
        f"  mean score planted {results.scores[planted].mean():.3f}, "
        f"noise {results.scores[~planted].mean():.3f}"
    )

    started = time.perf_counter()
    for unit in units[: args.loop_units]:
        fit_units(features, Y, [unit], device=args.device, random_state=0)
    per_unit = (time.perf_counter() - started) / args.loop_units
    print(
        f"loop: {per_unit:.3f} s per unit ({args.loop_units} units), "
        f"{per_unit * args.units:.0f} s extrapolated"
    )
    print(f"throughput ratio batched / loop: {per_unit * args.units / batched:.1f}x")

    for chunk in [int(value) for value in args.chunk_sizes.split(",") if value]:
        command = [
            sys.executable,
            __file__,
            "--units",
            str(args.units),
            "--device",
            args.device,
            "--memory-child",
            str(chunk),
        ]
        child = json.loads(
            subprocess.run(command, capture_output=True, text=True, check=True).stdout
        )
        print(
            f"units_per_chunk={chunk}: peak +{child['peak_mib']:.0f} MiB, {child['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
