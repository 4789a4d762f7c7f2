"""Statistics benchmarks: calibration and power of permutation_test, its speed, group maps.

- ``calibration``: ``--simulations`` null data sets (40 stimuli, 3 binary
  features, 20 pure-noise units of 10 columns), each tested with 199
  permutations. Reports the rejection rate of uncorrected p <= 0.05 (all
  units), the family-wise error rate of ``pvalues_fwer <= 0.05`` (any unit
  of a data set), and a Kolmogorov-Smirnov distance of the pooled
  uncorrected p-values from uniform. The same data sets with 5 of the 20
  units carrying the feature geometry give the power.
- ``speed``: 1,000 units x ``--permutations`` (100 stimuli, 8 binary
  features, the many-units benchmark's data), extrapolated from
  ``--measured-permutations`` when fewer are run.
- ``group``: 20 subjects' 3 mm MNI maps (noise plus a blob), one-sample
  sign-flip test with TFCE: ``group_map_test`` against nilearn's
  ``non_parametric_inference`` called directly with the same options.
- ``searchlight``: whole-brain 3 mm searchlight (96 stimuli, 8 features)
  with ``--permutations`` permutations (GPU target).

Usage::

    python benchmarks/bench_stats.py calibration [--simulations 300]
    python benchmarks/bench_stats.py speed [--measured-permutations 20]
    python benchmarks/bench_stats.py group [--group-permutations 100]
    python benchmarks/bench_stats.py searchlight --device cuda --permutations 100
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from scipy import stats

from mlem_neuro.stats import group_map_test, permutation_pvalues, permutation_test


def simulated(seed, n_planted, strength=0.35):
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(rng.integers(0, 2, (40, 3)), columns=["a", "b", "c"])
    Y = rng.standard_normal((40, 200))
    directions = rng.standard_normal((3, 10))
    for unit in range(n_planted):
        Y[:, unit * 10 : (unit + 1) * 10] += strength * features.to_numpy() @ directions
    units = [np.arange(unit * 10, (unit + 1) * 10) for unit in range(20)]
    return features, Y, units


def calibration(args):
    statistics = {
        "in-sample": ("in-sample, closed-form fit (max_steps=1)", dict(cv=None, max_steps=1)),
        "cv": ("5-fold CV, closed-form fit (max_steps=1)", dict(cv=5, max_steps=1)),
    }
    for name in args.statistics.split(","):
        label, options = statistics[name]
        for n_planted in (0,) if args.null_only else (0, 5):
            started = time.perf_counter()
            pvalues, any_fwer, detected, false_detected = [], [], [], []
            for seed in range(args.simulations):
                features, Y, units = simulated(seed, n_planted)
                result = permutation_test(
                    features,
                    Y,
                    units,
                    n_permutations=199,
                    # Not the data's seed: permutations drawn from the stream that drew
                    # the features would depend on them.
                    random_state=1_000_000 + seed,
                    n_repeats=0,
                    **options,
                )
                pvalues.append(result.pvalues[n_planted:])
                noise_rejected = result.pvalues_fwer[n_planted:] <= 0.05
                any_fwer.append(noise_rejected.any())
                detected.append(
                    (result.pvalues_fwer[:n_planted] <= 0.05).mean() if n_planted else 0
                )
                false_detected.append(noise_rejected.mean())
            pooled = np.concatenate(pvalues)
            seconds = time.perf_counter() - started
            if n_planted == 0:
                print(
                    f"{label}, null, {args.simulations} data sets x 20 units, 199 permutations: "
                    f"uncorrected p <= 0.05 in {np.mean(pooled <= 0.05):.3f} of units; FWER "
                    f"{np.mean(any_fwer):.3f} (95% CI +- "
                    f"{1.96 * np.sqrt(0.05 * 0.95 / args.simulations):.3f}); KS distance from "
                    f"uniform {stats.kstest(pooled, 'uniform').statistic:.3f}; {seconds:.0f} s"
                )
            else:
                print(
                    f"{label}, 5 planted units of 20: power (FWER <= 0.05) "
                    f"{np.mean(detected):.3f}; "
                    f"family-wise error on the 15 noise units {np.mean(any_fwer):.3f}; "
                    f"{seconds:.0f} s"
                )


def speed(args):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_many_units import make_units

    features, Y, units = make_units(1000)
    configurations = [
        (
            "in-sample, closed-form fit (max_steps=1), importance 1 repeat",
            dict(cv=None, max_steps=1),
        ),
        ("5-fold CV, closed-form fit (max_steps=1), importance 1 repeat", dict(cv=5, max_steps=1)),
        ("in-sample, full fit (defaults), importance 1 repeat", dict(cv=None)),
        (
            "5-fold CV, closed-form fit (max_steps=1), scores only",
            dict(cv=5, max_steps=1, n_repeats=0),
        ),
    ]
    chosen = [configurations[int(index)] for index in args.configs.split(",")]
    for label, options in chosen:
        measured = args.measured_permutations
        started = time.perf_counter()
        permutation_test(
            features,
            Y,
            units,
            n_permutations=measured,
            random_state=0,
            device=args.device,
            **options,
        )
        seconds = time.perf_counter() - started
        estimate = seconds / (measured + 1) * (args.permutations + 1)
        print(
            f"{label}: {measured} permutations x 1000 units in {seconds:.1f} s on {args.device} -> "
            f"{args.permutations} permutations: {estimate / 60:.1f} min"
            + (" (measured)" if measured == args.permutations else " (extrapolated)")
        )


def group(args):
    import nibabel as nib
    from nilearn.datasets import load_mni152_brain_mask
    from nilearn.glm.second_level import non_parametric_inference

    mask_img = load_mni152_brain_mask(resolution=3)
    mask = mask_img.get_fdata() > 0
    rng = np.random.default_rng(0)
    centre = np.argwhere(mask).mean(axis=0).astype(int)
    maps = []
    for _ in range(20):
        data = np.full(mask.shape, np.nan)
        data[mask] = rng.standard_normal(mask.sum()) * 0.05
        data[tuple(slice(c - 3, c + 4) for c in centre)] += 0.04
        maps.append(nib.Nifti1Image(data, mask_img.affine))
    options = dict(n_permutations=args.group_permutations, tfce=True, random_state=0)
    started = time.perf_counter()
    ours = group_map_test(maps, mask_img, cluster_table=False, **options)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    finite = [nib.Nifti1Image(np.nan_to_num(img.get_fdata()), img.affine) for img in maps]
    non_parametric_inference(
        finite,
        design_matrix=pd.DataFrame({"intercept": np.ones(20)}),
        second_level_contrast="intercept",
        mask=mask_img,
        n_perm=args.group_permutations,
        threshold=0.001,
        tfce=True,
        random_state=0,
    )
    nilearn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    group_map_test(maps, mask_img, n_permutations=1, random_state=0)
    table_seconds = time.perf_counter() - started
    peak = ours.logp_imgs["tfce"].get_fdata()[tuple(centre)]
    print(
        f"group: 20 subjects, {int(mask.sum())} voxels, {args.group_permutations} sign flips, "
        f"TFCE: group_map_test {ours_seconds:.1f} s, nilearn directly {nilearn_seconds:.1f} s, "
        f"ratio {ours_seconds / nilearn_seconds:.2f}; TFCE -log10 p at the blob {peak:.2f}; "
        f"with the cluster table (clusters of 10+ voxels), one sign flip: {table_seconds:.1f} s"
    )


def searchlight(args):
    import sys
    from pathlib import Path

    from nilearn import masking

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_searchlight import brain_mask, planted_data

    from mlem_neuro.units import searchlight_spheres

    mask, mask_img = brain_mask(3, args.max_spheres)
    patterns, features, _ = planted_data(mask, mask_img.affine, 96, 8)
    spheres = searchlight_spheres(mask, mask_img.affine, 6.0)
    Y = masking.apply_mask(patterns, mask_img)
    # Spheres go in batches that share the permutation orders (same random_state), so
    # the batches' nulls join into one; progress shows the throughput as it goes.
    n_spheres = spheres.shape[0]
    scores, nulls = [], []
    started = time.perf_counter()
    for start in range(0, n_spheres, args.sphere_batch):
        result = permutation_test(
            features,
            Y,
            spheres[start : start + args.sphere_batch],
            n_permutations=args.permutations,
            cv=None,
            max_steps=1,
            n_repeats=0,
            device=args.device,
            random_state=0,
        )
        scores.append(result.scores)
        nulls.append(result.null)
        done = min(n_spheres, start + args.sphere_batch)
        seconds = time.perf_counter() - started
        print(
            f"  {done} of {n_spheres} spheres x {args.permutations + 1} fits: {seconds:.1f} s "
            f"({seconds / done * n_spheres:.0f} s projected for all)"
        )
    _, fwer = permutation_pvalues(np.concatenate(scores), np.concatenate(nulls, axis=1))
    print(
        f"searchlight permutation test: {n_spheres} spheres x {args.permutations} permutations "
        f"(in-sample, closed-form fit): {seconds:.1f} s on {args.device}; "
        f"{(fwer <= 0.05).sum()} spheres FWER <= 0.05"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "cases", nargs="+", choices=["calibration", "speed", "group", "searchlight"]
    )
    parser.add_argument("--simulations", type=int, default=300)
    parser.add_argument("--statistics", default="in-sample,cv", help="calibration: which")
    parser.add_argument("--null-only", action="store_true", help="calibration: skip power")
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--measured-permutations", type=int, default=20)
    parser.add_argument("--group-permutations", type=int, default=100)
    parser.add_argument("--configs", default="0,1,2", help="speed: which configurations")
    parser.add_argument("--max-spheres", type=int, default=None)
    parser.add_argument("--sphere-batch", type=int, default=10000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    for case in args.cases:
        globals()[case](args)


if __name__ == "__main__":
    main()
