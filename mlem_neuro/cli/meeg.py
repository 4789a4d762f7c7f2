"""M/EEG command: timecourse, on sensors or, through an inverse operator, on sources."""

from .arguments import (
    UsageError,
    add_fit_arguments,
    add_output_arguments,
    add_source_arguments,
    feature_table,
    fit_options,
    fold_arguments,
    new_command,
    output_folder,
    provenance,
    read_table,
)
from .reporting import finish

__all__ = ["register"]


def _features_and_groups(args, epochs):
    """Features (a table, metadata column names or None for tags) and the folds over epochs."""
    if args.metadata and args.features:
        raise UsageError("give either --metadata or --features, not both.")
    if args.features:
        table = read_table(args.features, "--features")
        cv, groups = fold_arguments(args, table)
        return feature_table(args, table), cv, groups
    cv, groups = fold_arguments(args, epochs.metadata, source="the epochs' metadata")
    names = [name.strip() for name in (args.metadata or "").split(",") if name.strip()]
    return names or None, cv, groups


def _spatial(args):
    if args.adjacency:
        return "adjacency"
    if args.radius is not None:
        if args.radius < 1:
            raise UsageError(
                f"--radius is in millimetres; {args.radius} mm would hold no neighbour. "
                "Sensors are a few tens of mm apart (e.g. --radius 40)."
            )
        return args.radius / 1000
    return None


def _timecourse(args):
    from ..meeg import read_epochs, timecourse

    options = fit_options(args)
    _check_source_options(args)
    if args.inverse:
        return _source_timecourse(args, options)
    spatial = _spatial(args)
    epochs = read_epochs(args.epochs)
    features, cv, groups = _features_and_groups(args, epochs)
    with output_folder(args, "timecourse") as folder:
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
            spatial=spatial,
            cv=cv,
            groups=groups,
            generalize=args.generalize,
            options=options,
            checkpoint=folder.checkpoint_path,
        )
        result.parameters.update(provenance(args))
        result.save(folder)
        finish(folder, args)
    table = result.to_dataframe()
    peak = table["score"].idxmax()
    print(
        f"Time course written to {folder.path}/ (peak score {table['score'][peak]:.3f} at "
        f"{table['time'][peak] * 1000:.0f} ms)."
    )


def _check_source_options(args):
    """Source options need --inverse; sensor neighbourhoods and generalisation refuse it."""
    source_only = {"--source-radius": args.source_radius, "--labels": args.labels}
    given = [name for name, value in source_only.items() if value is not None]
    if given and not args.inverse:
        raise UsageError(f"{given[0]}: only in source space, with --inverse INV-inv.fif.")
    sensor_only = {"--adjacency": args.adjacency, "--radius": args.radius is not None}
    sensor_only["--generalize"] = args.generalize
    clashing = [name for name, value in sensor_only.items() if value]
    if args.inverse and clashing:
        raise UsageError(
            f"{clashing[0]}: for sensor analyses; with --inverse use --source-radius MM or "
            "--labels LEFT,RIGHT."
        )


def _source_timecourse(args, options):
    from ..meeg import epochs_features, read_epochs, source_timecourse
    from ..meeg.inverse import EpochSourceEstimates, read_inverse

    epochs = read_epochs(args.epochs)
    inverse = read_inverse(args.inverse)
    features, cv, groups = _features_and_groups(args, epochs)
    table = epochs_features(epochs, features, args.tags.split(",") if args.tags else None)
    labels = args.labels.split(",") if args.labels else None
    if labels is not None and len(labels) != 2:
        raise UsageError(f"--labels: expected LEFT,RIGHT annotation files, got {args.labels!r}.")
    with output_folder(args, "source_timecourse") as folder:
        result = source_timecourse(
            EpochSourceEstimates(epochs, inverse, method=args.inverse_method, snr=args.snr),
            table,
            src=inverse["src"],
            radius=args.source_radius,
            labels=labels,
            window=args.window,
            step=args.step,
            cv=cv,
            groups=groups,
            options=options,
            checkpoint=folder.checkpoint_path,
        )
        result.parameters.update(provenance(args), inverse_method=args.inverse_method, snr=args.snr)
        result.save(folder)
        finish(folder, args)
    peak = result.peak()
    print(
        f"Source time course written to {folder.path}/ (peak score {peak['score']:.3f} at "
        f"{peak['time_s'] * 1000:.0f} ms, {peak['name']})."
    )


def register(commands):
    """Add the timecourse command."""
    course = new_command(
        commands,
        "timecourse",
        _timecourse,
        help="MLEM at every time window of M/EEG epochs, on sensors or (--inverse) on sources",
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
        help="how sensor types and units are made comparable",
    )
    course.add_argument(
        "--window", type=float, default=None, help="window width in seconds (default: 1 sample)"
    )
    course.add_argument(
        "--step", type=float, default=None, help="window step in seconds (default: 1 sample)"
    )
    place = course.add_mutually_exclusive_group()
    place.add_argument(
        "--adjacency", action="store_true", help="units: MNE sensor neighbourhoods x windows"
    )
    place.add_argument(
        "--radius",
        type=float,
        default=None,
        help="units: sensors within this radius in mm x windows",
    )
    course.add_argument(
        "--inverse",
        default=None,
        help="an -inv.fif inverse operator: analyse source estimates, computed in chunks",
    )
    add_source_arguments(course, place)
    course.add_argument(
        "--generalize", action="store_true", help="also the temporal generalisation matrix"
    )
    add_output_arguments(course)
    add_fit_arguments(course)
