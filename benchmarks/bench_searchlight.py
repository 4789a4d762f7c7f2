"""Whole-brain searchlight speed and memory, and a planted-sphere recovery check.

Whole brain: the MNI152 brain mask shipped with nilearn (3 mm: about 70,000 voxels;
2 mm: about 235,000), one sphere of ``--radius`` mm around every voxel, 96 stimuli,
8 binary features, diagonal metric, permutation importance with 5 repeats. Patterns
are Gaussian noise with feature ``f0`` planted within 12 mm of one point.

Usage::

    python benchmarks/bench_searchlight.py --resolution 3 [--max-spheres N] [--device cpu] \
        [--cv none|auto|K] [--save maps.npz] [--rsatoolbox-python /path/to/env/bin/python]
    python benchmarks/bench_searchlight.py --planted   # AUC on a small synthetic volume

``--max-spheres`` keeps the first N mask voxels (in C order) to time a slab of the brain.
``--cv`` is in-sample (``none``) by default; ``auto`` is the command line's default (5
folds here). ``--save`` keeps the maps, to compare two versions of the package.
"""

import argparse
import json
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import torch
from memory import PeakMemory
from nilearn.datasets import load_mni152_brain_mask
from sklearn.metrics import roc_auc_score

from mlem_neuro.fmri import searchlight

RSA_RUNNER = Path(__file__).with_name("rsatoolbox_runner.py")


def planted_data(mask_data, affine, n_stimuli, n_features, seed=0, radius=12.0, strength=1.0):
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        rng.integers(0, 2, (n_stimuli, n_features)).astype(bool),
        columns=[f"f{index}" for index in range(n_features)],
    )
    voxels = np.argwhere(mask_data)
    world = voxels @ affine[:3, :3].T + affine[:3, 3]
    centre = world[len(world) // 2]
    distance = np.linalg.norm(world - centre, axis=1)
    Y = rng.standard_normal((n_stimuli, len(voxels))).astype(np.float32)
    planted = distance <= radius
    Y[:, planted] += strength * np.outer(
        features["f0"].to_numpy(float), rng.standard_normal(planted.sum())
    )
    data = np.zeros(mask_data.shape + (n_stimuli,), dtype=np.float32)
    data[mask_data] = Y.T
    return nib.Nifti1Image(data, affine), features, distance


def brain_mask(resolution, max_spheres=None):
    """The MNI152 brain mask shipped with nilearn, or its first ``max_spheres`` voxels (C order).

    Returns
    -------
    mask : bool array of shape (nx, ny, nz)
    mask_img : Nifti1Image
    """
    mask_img = load_mni152_brain_mask(resolution=resolution)
    mask = mask_img.get_fdata() > 0
    if max_spheres:
        keep = np.zeros(mask.size, dtype=bool)
        keep[np.flatnonzero(mask.ravel())[:max_spheres]] = True
        mask = keep.reshape(mask.shape)
    return mask, nib.Nifti1Image(mask.astype(np.uint8), mask_img.affine)


def whole_brain(args):
    mask, mask_img = brain_mask(args.resolution, args.max_spheres)
    patterns, features, _ = planted_data(mask, mask_img.affine, 96, 8)
    print(f"{int(mask.sum())} spheres of radius {args.radius} mm, 96 stimuli, 8 features")
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = searchlight(
            patterns,
            features,
            mask_img,
            args.radius,
            cv=fold_setting(args.cv),
            device=args.device,
            random_state=0,
            units_per_chunk=args.units_per_chunk,
            verbose=args.verbose,
        )
        seconds = time.perf_counter() - started
    n_spheres = int(mask.sum())
    print(f"searchlight: {seconds:.1f} s on {args.device}, peak +{memory.extra_mib:.0f} MiB")
    if args.device.startswith("cuda"):
        print(f"  GPU peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    scores = result.results.scores
    print(
        f"  {seconds / n_spheres * 1000:.2f} ms per sphere; max steps "
        f"{result.results.info['max_steps_run']}, best score {np.nanmax(scores):.3f}, "
        f"mean score {np.nanmean(scores):.5f}"
    )
    if args.save:
        importances = result.results.importances.to_numpy()
        np.savez(args.save, scores=scores, importances=importances)
    if args.rsatoolbox_python:
        rsa = run_rsatoolbox(args, patterns, features, mask, mask_img.affine)
        per_sphere = rsa["total_s"] / rsa["n_searchlights"]
        print(
            f"rsatoolbox (one fixed model RDM, correlation distance, Spearman): "
            f"{rsa['total_s']:.1f} s for {rsa['n_searchlights']} searchlights "
            f"({per_sphere * 1000:.2f} ms per sphere; spheres {rsa['spheres_s']:.1f} s, "
            f"RDMs {rsa['rdms_s']:.1f} s, evaluation {rsa['evaluation_s']:.1f} s)"
        )
        ratio = seconds / n_spheres / per_sphere
        print(f"time ratio per sphere, mlem_neuro / rsatoolbox: {ratio:.2f}")


def fold_setting(text):
    """The ``cv`` argument of --cv: None, "auto" or a number of folds."""
    return None if text == "none" else int(text) if text.isdigit() else text


def run_rsatoolbox(args, patterns, features, mask, affine):
    """Time rsatoolbox's searchlight on the same data in its own environment."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "data.npz")
        X = features.to_numpy().astype(float)
        i, j = np.triu_indices(len(X), k=1)
        data = np.asarray(patterns.dataobj)[mask].T
        np.savez(path, data=data, mask=mask, model=np.abs(X[i] - X[j]).sum(axis=1))
        radius_voxels = int(round(args.radius / abs(affine[0, 0])))
        command = [args.rsatoolbox_python, str(RSA_RUNNER), str(path), str(radius_voxels)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return json.loads(output.strip().splitlines()[-1])


def planted(args):
    shape, affine = (20, 24, 20), np.diag([3.0, 3.0, 3.0, 1.0])
    mask = np.ones(shape, dtype=bool)
    patterns, features, distance = planted_data(mask, affine, 60, 4, strength=0.6)
    result = searchlight(
        patterns,
        features,
        nib.Nifti1Image(mask.astype(np.uint8), affine),
        6.0,
        cv=3,
        random_state=0,
    )
    importance = result.results.importances["f0"].to_numpy()
    other = result.results.importances.drop(columns="f0").to_numpy()
    outside = distance > 12.0 + 6.0  # spheres that cannot reach the planted region
    print(f"{mask.sum()} spheres; planted sphere radius 12 mm, searchlight radius 6 mm")
    for label, inside in [
        ("sphere entirely inside the planted region (centre <= 6 mm)", distance <= 6.0),
        ("centre inside the planted region (<= 12 mm)", distance <= 12.0),
    ]:
        keep = inside | outside
        auc = roc_auc_score(inside[keep], importance[keep])
        print(f"AUC of importance_f0, {label} vs centre beyond 18 mm: {auc:.4f}")
    inside = distance <= 12.0
    print(
        f"mean importance f0 inside {importance[inside].mean():.3f}, "
        f"outside {importance[outside].mean():.4f}; "
        f"other features inside {other[inside].mean():.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=3, choices=[2, 3])
    parser.add_argument("--radius", type=float, default=6.0)
    parser.add_argument("--max-spheres", type=int, default=None)
    parser.add_argument("--units-per-chunk", type=int, default=None)
    parser.add_argument(
        "--cv", default="none", help="'none' (in-sample), 'auto' (the command line's default) or k"
    )
    parser.add_argument("--save", default=None, help="an .npz file for the score and importances")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--planted", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--rsatoolbox-python", default=None, help="python of an rsatoolbox env")
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.simplefilter("ignore", UserWarning)
    planted(args) if args.planted else whole_brain(args)


if __name__ == "__main__":
    main()
