"""The mlem-neuro command line."""

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, set_log_level

__all__ = ["main"]


def _demo(args):
    from .demo import run_demo

    outputs = run_demo(args.out, device=args.device, random_state=args.seed, verbose=not args.quiet)
    table = outputs["eeg"]
    peak = table["score"].idxmax()
    print(
        f"EEG: peak held-out score {table['score'][peak]:.3f} at "
        f"{table['time'][peak] * 1000:.0f} ms ({args.out}/eeg/)."
    )
    roi = outputs["fmri"].iloc[0]
    print(
        f"fMRI: best searchlight score {outputs['fmri_max_score']:.3f}; ventral temporal ROI "
        f"score {roi['score']:.3f} ({args.out}/fmri/)."
    )


def _read_table(path, name):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{name} file not found: {path}")
    separator = "\t" if path.suffix in (".tsv", ".txt") else ","
    return pd.read_csv(path, sep=separator)


def _patterns(args):
    from .fmri import estimate_patterns

    for path in list(args.bold) + list(args.events):
        if not Path(path).exists():
            raise FileNotFoundError(f"input file not found: {path}")
    patterns, stimuli = estimate_patterns(
        args.bold, args.events, args.t_r, method=args.method, mask_img=args.mask
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    patterns.to_filename(out / "patterns.nii.gz")
    stimuli.to_csv(out / "stimuli.tsv", sep="\t", index=False)
    print(f"{len(stimuli)} patterns written to {out}/patterns.nii.gz and {out}/stimuli.tsv.")


def _fit_options(args, table):
    options = dict(
        interactions=args.interactions,
        distance=args.distance,
        device=args.device,
        random_state=args.seed,
        n_repeats=args.n_repeats,
        verbose=not args.quiet,
    )
    if args.cv_groups:
        if args.cv_groups not in table.columns:
            raise ValueError(
                f"--cv-groups {args.cv_groups!r} is not a column of the features table "
                f"(columns: {list(table.columns)})."
            )
        options["groups"] = table[args.cv_groups].to_numpy()
        options["cv"] = args.cv if args.cv else len(np.unique(options["groups"]))
    elif args.cv:
        options["cv"] = args.cv
    return options


def _feature_columns(table, args):
    dropped = [column for column in (args.cv_groups,) if column]
    return table.drop(columns=dropped)


def _searchlight(args):
    from .demo import software_versions
    from .fmri import searchlight

    table = _read_table(args.features, "features")
    started = time.perf_counter()
    result = searchlight(
        args.patterns,
        _feature_columns(table, args),
        args.mask,
        args.radius,
        **_fit_options(args, table),
    )
    parameters = {"command": "searchlight", "arguments": vars(args) | {"run": None}}
    parameters["seconds"] = round(time.perf_counter() - started, 2)
    parameters["versions"] = software_versions()
    result.save(args.out, parameters)
    print(
        f"Searchlight maps written to {args.out}/ "
        f"(max score {np.nanmax(result.results.scores):.3f})."
    )


def _roi(args):
    from .fmri import roi_analysis

    table = _read_table(args.features, "features")
    regions = roi_analysis(
        args.patterns,
        _feature_columns(table, args),
        args.atlas,
        args.mask,
        **_fit_options(args, table),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    regions.to_csv(out / "roi.tsv", sep="\t", index=False, float_format="%.6g")
    print(f"{len(regions)} region(s) written to {out}/roi.tsv.")


def _add_fit_arguments(parser):
    parser.add_argument("--interactions", action="store_true", help="learn feature interactions")
    parser.add_argument("--distance", default="euclidean", help="neural distance within units")
    parser.add_argument(
        "--cv-groups",
        default=None,
        help="features column with the run of each volume: group-aware cross-validation",
    )
    parser.add_argument(
        "--cv", type=int, default=None, help="number of folds (default: one per group)"
    )
    parser.add_argument("--n-repeats", type=int, default=5, help="permutations per term")
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]'")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--quiet", action="store_true", help="no progress or log messages")


def build_parser():
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mlem-neuro",
        description="Metric Learning Encoding Models for neuroimaging.",
    )
    parser.add_argument("--version", action="version", version=f"mlem_neuro {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="MLEM on the bundled real data: EEG time course, fMRI searchlight and ROI"
    )
    demo.add_argument("--out", default="mlem_neuro_output/demo", help="output folder")
    demo.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]'")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quiet", action="store_true", help="no progress or log messages")
    demo.set_defaults(run=_demo)

    patterns = commands.add_parser(
        "patterns", help="per-stimulus beta maps from BOLD runs and BIDS events (nilearn GLM)"
    )
    patterns.add_argument("bold", nargs="+", help="4D BOLD runs")
    patterns.add_argument("--events", nargs="+", required=True, help="one events TSV per run")
    patterns.add_argument("--t-r", type=float, required=True, help="repetition time (s)")
    patterns.add_argument("--method", default="lsa", choices=["lsa", "lss"])
    patterns.add_argument("--mask", default=None, help="mask image for the GLM")
    patterns.add_argument("--out", required=True, help="output folder")
    patterns.add_argument("--quiet", action="store_true")
    patterns.set_defaults(run=_patterns)

    searchlight = commands.add_parser(
        "searchlight", help="MLEM in a sphere around every mask voxel; writes NIfTI maps"
    )
    searchlight.add_argument("patterns", help="4D image, one volume per stimulus")
    searchlight.add_argument("--features", required=True, help="CSV/TSV, one row per volume")
    searchlight.add_argument("--mask", default=None, help="mask image (default: from the data)")
    searchlight.add_argument("--radius", type=float, required=True, help="sphere radius (mm)")
    searchlight.add_argument("--out", required=True, help="output folder")
    _add_fit_arguments(searchlight)
    searchlight.set_defaults(run=_searchlight)

    roi = commands.add_parser("roi", help="MLEM in every region of a label image; writes roi.tsv")
    roi.add_argument("patterns", help="4D image, one volume per stimulus")
    roi.add_argument("--features", required=True, help="CSV/TSV, one row per volume")
    roi.add_argument("--atlas", required=True, help="label image (0 = background)")
    roi.add_argument("--mask", default=None, help="restrict regions to this mask")
    roi.add_argument("--out", required=True, help="output folder")
    _add_fit_arguments(roi)
    roi.set_defaults(run=_roi)
    return parser


def main(argv=None):
    """Entry point of the ``mlem-neuro`` command."""
    args = build_parser().parse_args(argv)
    if not getattr(args, "quiet", False):
        set_log_level(logging.INFO)
    try:
        args.run(args)
    except (ValueError, TypeError, RuntimeError, FileNotFoundError) as error:
        print(f"mlem-neuro {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
