"""The mlem-neuro command line."""

import argparse
import json
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
    profile = outputs["llm"]
    best = profile.loc[profile["score"].idxmax()]
    print(
        f"Language model: best layer {int(best['layer'])} (held-out score {best['score']:.3f}); "
        f"importance of the random control feature at most "
        f"{profile['importance_random'].max():.3f} ({args.out}/llm/)."
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


def _fit_options(args, table=None):
    """Keyword arguments of the fit shared by every command.

    With a features ``table``, ``--cv-groups`` names one of its columns and
    ``--cv`` defaults to one fold per group.
    """
    options = dict(
        interactions=args.interactions,
        distance=args.distance,
        device=args.device,
        random_state=args.seed,
        n_repeats=args.n_repeats,
        verbose=not args.quiet,
    )
    if args.cv_groups and table is not None:
        options["groups"] = _group_column(table, args.cv_groups)
        options["cv"] = args.cv if args.cv else len(np.unique(options["groups"]))
    elif args.cv:
        options["cv"] = args.cv
    return options


def _group_column(table, name):
    if name not in table.columns:
        raise ValueError(
            f"--cv-groups {name!r} is not a column of the features table "
            f"(columns: {list(table.columns)})."
        )
    return table[name].to_numpy()


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


def _timecourse(args):
    from sklearn.model_selection import LeaveOneGroupOut

    from .demo import software_versions
    from .meeg import read_epochs, timecourse

    epochs = read_epochs(args.epochs)
    if args.metadata and args.features:
        raise ValueError("give either --metadata or --features, not both.")
    groups = None
    if args.features:
        features = _read_table(args.features, "features")
        if args.cv_groups:
            groups = _group_column(features, args.cv_groups)
        features = _feature_columns(features, args)
    elif args.metadata:
        features = [name.strip() for name in args.metadata.split(",") if name.strip()]
        groups = args.cv_groups
    else:
        features = None
        groups = args.cv_groups
    options = _fit_options(args)
    options["cv"] = args.cv or (LeaveOneGroupOut() if groups is not None else 5)
    result = timecourse(
        epochs,
        features,
        tag_names=args.tags.split(",") if args.tags else None,
        picks=args.picks.split(",") if "," in args.picks else args.picks,
        noise_normalization=None
        if args.noise_normalization == "none"
        else args.noise_normalization,
        window=args.window,
        step=args.step,
        spatial="adjacency" if args.adjacency else args.radius,
        groups=groups,
        generalize=args.generalize,
        **options,
    )
    result.parameters["arguments"] = vars(args) | {"run": None}
    result.parameters["versions"] = software_versions()
    result.save(args.out)
    table = result.to_dataframe()
    peak = int(np.argmax(table["score"].to_numpy()))
    print(
        f"Time course written to {args.out}/ (peak score {table['score'].iloc[peak]:.3f} at "
        f"{table['time'].iloc[peak] * 1000:.0f} ms)."
    )


def _layers(args):
    from .demo import software_versions
    from .llm import hidden_states, layer_profile, load_local_model
    from .llm.plotting import plot_layer_profile

    table = _read_table(args.stimuli, "stimuli")
    if args.sentence_column not in table.columns:
        raise ValueError(
            f"--sentence-column {args.sentence_column!r} is not a column of the stimuli table "
            f"(columns: {list(table.columns)})."
        )
    if args.features:
        names = [name.strip() for name in args.features.split(",") if name.strip()]
        unknown = [name for name in names if name not in table.columns]
        if unknown:
            raise ValueError(f"--features {unknown} are not columns of the stimuli table.")
        features = table[names]
    else:
        features = _feature_columns(table.drop(columns=args.sentence_column), args)
    started = time.perf_counter()
    model, tokenizer = load_local_model(args.model_dir, verbose=not args.quiet)
    states = hidden_states(
        model,
        tokenizer,
        table[args.sentence_column].tolist(),
        pooling=args.pooling,
        words=table[args.word_column].tolist() if args.word_column else None,
        batch_size=args.batch_size,
        device=args.device,
        verbose=not args.quiet,
    )
    options = _fit_options(args, table)
    options.setdefault("cv", 5)
    profile = layer_profile(features, states, **options)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile.to_csv(out / "layers.tsv", sep="\t", index=False, float_format="%.6g")
    summary = {
        "command": "layers",
        "model_dir": str(args.model_dir),
        "n_sentences": len(table),
        "n_layers": int(states.shape[0]),
        "features": list(features.columns),
        "pooling": args.pooling,
        "best_layer": int(profile.loc[profile["score"].idxmax(), "layer"]),
        "seconds": round(time.perf_counter() - started, 2),
        "arguments": vars(args) | {"run": None},
        "versions": software_versions(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    plot_layer_profile(profile, out / "layers.png", title=Path(args.model_dir).name)
    print(f"Layer profile written to {out}/ (best layer {summary['best_layer']}).")


def _group(args):
    import scipy.sparse

    from .demo import software_versions
    from .stats import group_layer_test, group_map_test, group_timecourse_test
    from .stats.results_io import read_result_folders
    from .units import sensor_neighbourhoods

    kind, data, axis = read_result_folders(args.results, args.measure)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "command": "group",
        "kind": kind,
        "measure": args.measure,
        "n_subjects": len(args.results),
        "results": [str(path) for path in args.results],
        "n_permutations": args.n_permutations,
        "versions": software_versions(),
    }
    if kind == "searchlight":
        result = group_map_test(
            data,
            n_permutations=args.n_permutations,
            cluster_threshold=args.cluster_threshold,
            tfce=args.tfce,
            random_state=args.seed,
        )
        result.t_img.to_filename(out / "t.nii.gz")
        for name, img in result.logp_imgs.items():
            img.to_filename(out / f"logp_{name}.nii.gz")
        result.clusters.to_csv(out / "clusters.tsv", sep="\t", index=False)
        best = {name: float(np.nanmax(img.get_fdata())) for name, img in result.logp_imgs.items()}
        summary["max_logp"] = best
        message = ", ".join(f"{name} {value:.2f}" for name, value in best.items())
        print(f"Group maps written to {out}/ (max -log10 p: {message}).")
    elif kind == "timecourse":
        adjacency = None
        if "info" in axis:
            neighbourhoods = sensor_neighbourhoods(axis["info"], radius=args.radius)
            rows = np.repeat(np.arange(len(neighbourhoods)), [len(n) for n in neighbourhoods])
            adjacency = scipy.sparse.coo_array(
                (np.ones(len(rows)), (rows, np.concatenate(neighbourhoods)))
            )
        result = group_timecourse_test(
            data,
            axis["times"],
            adjacency=adjacency,
            ch_names=axis.get("ch_names"),
            n_permutations=args.n_permutations,
            random_state=args.seed,
        )
        result.clusters.to_csv(out / "clusters.tsv", sep="\t", index=False)
        if result.mask.ndim == 1:
            table = pd.DataFrame(
                {
                    "time": axis["times"],
                    "mean": data.mean(axis=0),
                    "t": result.t,
                    "significant": result.mask,
                }
            )
            table.to_csv(out / "group_timecourse.tsv", sep="\t", index=False, float_format="%.6g")
        else:
            np.save(out / "t.npy", result.t)
            np.save(out / "mask.npy", result.mask)
        significant = int((result.clusters["pvalue"] < 0.05).sum())
        summary["significant_clusters"] = significant
        print(f"{len(result.clusters)} cluster(s), {significant} with p < 0.05; written to {out}/.")
    else:
        table = group_layer_test(
            data, axis["layers"], n_permutations=args.n_permutations, random_state=args.seed
        )
        table.to_csv(out / "group_layers.tsv", sep="\t", index=False, float_format="%.6g")
        significant = int((table["pvalue_fwer"] < 0.05).sum())
        summary["significant_layers"] = significant
        print(f"{significant} of {len(table)} layers with FWER p < 0.05; written to {out}/.")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))


def _add_fit_arguments(parser):
    parser.add_argument("--interactions", action="store_true", help="learn feature interactions")
    parser.add_argument("--distance", default="euclidean", help="neural distance within units")
    parser.add_argument(
        "--cv-groups",
        default=None,
        help="column with the run or session of each stimulus: group-aware cross-validation",
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
        "demo",
        help="MLEM on bundled real data: EEG time course, fMRI searchlight and ROI, MiniLM layers",
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

    course = commands.add_parser(
        "timecourse", help="MLEM at every time window of M/EEG epochs; writes timecourse.tsv"
    )
    course.add_argument("epochs", help="-epo.fif file")
    course.add_argument("--metadata", default=None, help="metadata columns: COL[,COL...]")
    course.add_argument("--features", default=None, help="CSV/TSV, one row per epoch")
    course.add_argument(
        "--tags", default=None, help="names of the '/' tags of event names (when no features)"
    )
    course.add_argument("--picks", default="data", help="MNE picks: data, meg, eeg, grad,mag...")
    course.add_argument(
        "--noise-normalization",
        default="channel-type",
        choices=["channel-type", "noise-cov", "mnn", "none"],
    )
    course.add_argument("--window", type=float, default=None, help="window width (s)")
    course.add_argument("--step", type=float, default=None, help="window step (s)")
    place = course.add_mutually_exclusive_group()
    place.add_argument("--adjacency", action="store_true", help="units: MNE sensor neighbourhoods")
    place.add_argument("--radius", type=float, default=None, help="units: sensors within (m)")
    course.add_argument("--generalize", action="store_true", help="temporal generalisation matrix")
    course.add_argument("--out", required=True, help="output folder")
    _add_fit_arguments(course)
    course.set_defaults(run=_timecourse)

    layers = commands.add_parser(
        "layers", help="MLEM on every layer of a local language model; writes layers.tsv"
    )
    layers.add_argument("model_dir", help="local Hugging Face model folder")
    layers.add_argument("--stimuli", required=True, help="CSV/TSV: sentences and features")
    layers.add_argument("--sentence-column", default="sentence")
    layers.add_argument("--features", default=None, help="COL[,COL...] (default: all others)")
    layers.add_argument("--pooling", default="mean", choices=["mean", "first", "last", "word"])
    layers.add_argument("--word-column", default=None, help="column of words for word pooling")
    layers.add_argument("--batch-size", type=int, default=32)
    layers.add_argument("--out", required=True, help="output folder")
    _add_fit_arguments(layers)
    layers.set_defaults(run=_layers)

    group = commands.add_parser(
        "group",
        help="one-sample permutation tests across subjects' results (maps, time courses, layers)",
    )
    group.add_argument(
        "results", nargs="+", help="result folders of searchlight, timecourse or layers"
    )
    group.add_argument("--out", required=True, help="output folder")
    group.add_argument("--measure", default="score", help="score or importance_<term>")
    group.add_argument("--n-permutations", type=int, default=5000, help="sign flips")
    group.add_argument("--tfce", action="store_true", help="maps: also TFCE")
    group.add_argument(
        "--cluster-threshold", type=float, default=0.001, help="maps: cluster-forming p-value"
    )
    group.add_argument(
        "--radius",
        type=float,
        default=None,
        help="sensor x time: neighbour radius (m); default MNE adjacency",
    )
    group.add_argument("--seed", type=int, default=0, help="random seed")
    group.add_argument("--quiet", action="store_true")
    group.set_defaults(run=_group)
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
