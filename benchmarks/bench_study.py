"""A whole study on the Dask engine against a plain loop over subjects (issue 14).

8 synthetic subjects (BIDS + fMRIPrep-style derivatives, 4 runs each), a 3 mm
searchlight (6 mm spheres) over a 20,000-voxel brain, 4-fold cross-validation over
runs. Measured in one run: a plain loop over subjects in this process, then the
study engine with 1 and with 2 local worker processes; the engine's overhead with
1 worker against the loop; each worker's peak memory against one subject's.

    python benchmarks/bench_study.py [--subjects 8] [--device cuda]
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlem_neuro import FitOptions
from mlem_neuro.datasets.synthetic import make_fmri_study
from mlem_neuro.study import Engine, StudyConfig, run_participants
from mlem_neuro.study.layout import find_subjects, fmri_inputs
from mlem_neuro.study.participant import run_subject

SHAPE = (35, 36, 35)  # about 20,000 voxels in the brain at 3 mm


def study_config(device):
    return StudyConfig(
        task="objects",
        analysis="searchlight",
        features=("animate", "size"),
        options=FitOptions(random_state=0, n_repeats=1, device=device),
        radius=6.0,
        report=False,
    )


def one_subject_peak(bids, device):
    """Peak memory of a fresh process that analyses one subject (MiB)."""
    code = (
        "import resource, sys, tempfile\n"
        "sys.path.insert(0, 'benchmarks')\n"
        "from bench_study import study_config\n"
        "from mlem_neuro.study.layout import fmri_inputs\n"
        "from mlem_neuro.study.participant import run_subject\n"
        f"bids = {str(bids)!r}\n"
        "subject = fmri_inputs(bids, bids + '/derivatives/fmriprep', 'objects', ['01'])[0]\n"
        f"run_subject(subject, study_config({device!r}), tempfile.mkdtemp())\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(output.stdout.strip().splitlines()[-1])


def loop(bids, out, config):
    labels = find_subjects(bids)
    subjects = fmri_inputs(bids, bids / "derivatives" / "fmriprep", "objects", labels)
    started = time.perf_counter()
    for subject in subjects:
        run_subject(subject, config, str(out))
    return time.perf_counter() - started


def engine_run(bids, out, config, workers):
    with Engine(workers=workers) as engine:
        started = time.perf_counter()
        outcome = run_participants(bids, out, config, engine=engine, verbose=False)
        seconds = time.perf_counter() - started
        peaks = engine.client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    assert outcome.succeeded, outcome.failed
    return seconds, max(peaks.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-study-"))
    try:
        started = time.perf_counter()
        bids = make_fmri_study(root / "bids", n_subjects=args.subjects, shape=SHAPE, voxel_size=3.0)
        print(f"dataset: {args.subjects} subjects in {time.perf_counter() - started:.0f} s")
        config = study_config(args.device)
        looped = loop(bids, root / "loop", config)
        print(f"plain loop: {looped:.1f} s ({looped / args.subjects:.1f} s per subject)")
        for workers in (1, 2):
            seconds, peak = engine_run(bids, root / f"engine{workers}", config, workers)
            print(
                f"engine, {workers} worker(s): {seconds:.1f} s, {seconds / looped:.2f}x the loop,"
                f" {3600 * args.subjects / seconds:.0f} subjects per hour, worker peak "
                f"{peak:.0f} MiB"
            )
        alone = one_subject_peak(bids, args.device)
        print(f"one subject alone in a fresh process: peak {alone:.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
