"""Where a searchlight's time goes, stage by stage (cProfile), for docs/performance.md.

Runs the searchlight benchmark's data (MNI152 3 mm slab, 96 stimuli, 8 binary
features, 6 mm spheres) under cProfile and prints the cumulative seconds of
each stage of ``fit_units``. Profiling adds overhead (about 30%), so the
stages are for comparing, and the timings of record come from
bench_searchlight.py. cProfile sees only the thread it runs in, so chunks
are fitted one by one here, not side by side as ``fit_units`` does on a
multi-core CPU. Run it with ``PYTHONPATH`` pointing at an older checkout
to profile that version the same way.

Usage::

    python benchmarks/profile_stages.py [--max-spheres 3000] [--cv auto]
"""

import argparse
import cProfile
import pstats
import warnings

import torch
from bench_searchlight import brain_mask, fold_setting, planted_data

import mlem_neuro.core.fit
from mlem_neuro.fmri import searchlight

#: (stage, file, function): cumulative time of that function; absent in a version: "-".
STAGES = [
    ("spheres", "units/spheres.py", "searchlight_spheres"),
    ("neural distances", "core/chunks.py", "of_chunk"),
    ("ranks of the pool's pairs (one sort per unit)", "core/permutation.py", "__init__"),
    ("ranks within folds", "core/permutation.py", "standardised"),
    ("training (closed-form start and optimiser)", "core/training.py", "fit_metrics"),
    ("training: closed-form start", "core/start.py", "closed_form_start"),
    ("training: closed-form start (older versions)", "core/start.py", "pearson_start"),
    ("training: soft ranks", "core/ranking.py", "scaled_soft_rank"),
    ("training: pool-adjacent-violators", "core/ranking.py", "_pool_adjacent_violators"),
    ("training: backward passes", "~", "<method 'run_backward' of 'torch._C._EngineBase' objects>"),
    ("test scores and importances", "core/evaluation.py", "score_weights"),
    ("scoring: importances (shuffled terms)", "core/evaluation.py", "_drops"),
    ("fit_units in all", "core/fit.py", "fit_units"),
]


def stage_seconds(stats):
    """Cumulative seconds of each stage found in the profile."""
    found = {}
    for (path, _, function), (_, _, _, cumulative, _) in stats.stats.items():
        for stage, file, name in STAGES:
            if function == name and (file == "~" or path.endswith(file)):
                found[stage] = found.get(stage, 0.0) + cumulative
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-spheres", type=int, default=3000)
    parser.add_argument("--cv", default="auto")
    args = parser.parse_args()
    torch.set_num_threads(2)
    mlem_neuro.core.fit.CPU_CHUNKS_SIDE_BY_SIDE = 1  # versions without it ignore this
    warnings.simplefilter("ignore", UserWarning)
    mask, mask_img = brain_mask(3, args.max_spheres)
    patterns, features, _ = planted_data(mask, mask_img.affine, 96, 8)
    profiler = cProfile.Profile()
    profiler.enable()
    searchlight(patterns, features, mask_img, 6.0, cv=fold_setting(args.cv), random_state=0)
    profiler.disable()
    found = stage_seconds(pstats.Stats(profiler))
    print(f"| stage ({args.max_spheres} spheres, cv={args.cv}) | seconds |")
    print("|---|---|")
    for stage, _, _ in STAGES:
        seconds = found.get(stage)
        print(f"| {stage} | {'-' if seconds is None else f'{seconds:.2f}'} |")


if __name__ == "__main__":
    main()
