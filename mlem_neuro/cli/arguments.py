"""Arguments every command shares: fit options (one flag per FitOptions field), folds, outputs."""

import argparse
import dataclasses
import re
from pathlib import Path

import numpy as np

from ..core.options import METHODS, MISSING_POLICIES, NEURAL_DISTANCES, FitOptions
from ..core.validation import DTYPES, check_device

__all__ = [
    "UsageError",
    "new_command",
    "output_folder",
    "provenance",
    "add_common_arguments",
    "add_fit_arguments",
    "add_output_arguments",
    "fit_options",
    "fold_arguments",
    "read_table",
    "feature_table",
    "load_features",
    "option_flag",
]


class UsageError(ValueError):
    """A command-line argument is wrong: the message names the option."""


# How a FitOptions field is spelt and parsed on the command line, where it differs
# from "--field-name" with the type of its default.
_FLAGS = {"random_state": ("--seed", "--random-state"), "method": ("--fit-method",)}
_CLI_DEFAULTS = {"random_state": 0}
_CHOICES = {
    "distance": NEURAL_DISTANCES,
    "dtype": DTYPES,
    "missing": MISSING_POLICIES,
    "method": METHODS,
}
_NOT_FLAGS = {"verbose"}  # --quiet


def option_flag(field_name):
    """The command-line flag of a FitOptions field ("learning_rate" -> "--learning-rate")."""
    return _FLAGS.get(field_name, (f"--{field_name.replace('_', '-')}",))[0]


def _auto_or_int(text):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected 'auto' or an integer, got {text!r}") from error


def _optional_int(text):
    if text in ("none", "None", "auto"):
        return None
    try:
        return int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from error


def _product_term(text):
    names = [name.strip() for name in text.split(":") if name.strip()]
    if len(names) < 2:
        raise argparse.ArgumentTypeError(f"expected FEATURE:FEATURE[:FEATURE...], got {text!r}")
    return tuple(names)


def _parser_type(field):
    if field.name in _CHOICES:
        return str
    if field.type == int | str:
        return _auto_or_int
    if field.type == int | None:
        return _optional_int
    return field.type


def _parameter_help():
    """First sentence of each parameter's description in the FitOptions docstring."""
    section = FitOptions.__doc__.split("Parameters\n    ----------\n", 1)[1]
    entries = re.split(r"\n    (?=\w+ : )", "\n" + section)
    helps = {}
    for entry in entries:
        if " : " not in entry:
            continue
        name, rest = entry.strip().split(" : ", 1)
        description = " ".join(rest.split("\n", 1)[1].split()) if "\n" in rest else ""
        helps[name] = description.split(". ")[0].rstrip(".")
    return helps


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the empty ones (None, False) that say nothing."""

    def _get_help_string(self, action):
        if action.default in (None, False) or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def new_command(commands, name, run, help, description=None):
    """Add a command with --quiet and --debug and defaults shown in its help."""
    parser = commands.add_parser(
        name, help=help, description=description or help, formatter_class=_HelpFormatter
    )
    add_common_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def output_folder(args, kind):
    """The command's :class:`ResultFolder`, opened (and checked) before any computation."""
    from ..outputs import ResultFolder

    return ResultFolder(args.out, kind, overwrite=args.overwrite, label="--out")


def provenance(args):
    """How the command was called, for summary.json."""
    arguments = {
        key: value for key, value in vars(args).items() if key not in ("run", "command_line")
    }
    return {"command_line": getattr(args, "command_line", None), "arguments": arguments}


def add_common_arguments(parser):
    """--quiet and --debug."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars or log messages")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of errors")


def add_fit_arguments(parser, folds=True, precomputed=False):
    """One flag per :class:`FitOptions` field, plus --cv and --cv-groups.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    folds : bool
        Also add --cv and --cv-groups.
    precomputed : bool
        Offer --precomputed-features (for commands whose --features can be an
        .npy array of feature distances).
    """
    helps = _parameter_help()
    group = parser.add_argument_group("fit options (see mlem_neuro.FitOptions)")
    for field in dataclasses.fields(FitOptions):
        if field.name in _NOT_FLAGS or (field.name == "precomputed_features" and not precomputed):
            parser.set_defaults(**{field.name: field.default})
            continue
        flags = _FLAGS.get(field.name, (option_flag(field.name),))
        default = _CLI_DEFAULTS.get(field.name, field.default)
        if field.type is bool:
            group.add_argument(*flags, dest=field.name, action="store_true", help=helps[field.name])
            continue
        if field.name == "extra_terms":
            group.add_argument(
                *flags,
                dest=field.name,
                nargs="*",
                type=_product_term,
                default=(),
                metavar="A:B:C",
                help=helps[field.name] + " (on the command line: a:b:c ...)",
            )
            continue
        group.add_argument(
            *flags,
            dest=field.name,
            type=_parser_type(field),
            default=default,
            choices=_CHOICES.get(field.name),
            help=helps[field.name],
        )
    if folds:
        group.add_argument(
            "--cv",
            default="auto",
            help="folds: 'auto' (the most folds, up to 5, over --cv-groups when given, whose "
            "test folds can score every term), an integer, or 'none' for in-sample scores",
        )
        group.add_argument(
            "--cv-groups",
            default=None,
            metavar="COLUMN",
            help="column of the features table with the run or session of each stimulus: "
            "folds keep groups apart",
        )


def add_output_arguments(parser, report=True):
    """--out, --overwrite and (for results with a report) --no-report."""
    parser.add_argument("--out", required=True, help="output folder (must be new or empty)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier mlem_neuro result in --out as a whole (never other files)",
    )
    if report:
        parser.add_argument("--no-report", action="store_true", help="do not write report.html")


def fit_options(args, check_device_here=True):
    """The :class:`FitOptions` of parsed arguments; errors name the flags.

    Parameters
    ----------
    args : argparse.Namespace
    check_device_here : bool
        Also check that --device exists on this machine (not for commands
        whose fits run on other machines).
    """
    values = {
        field: getattr(args, field) for field in FitOptions.field_names() if field not in _NOT_FLAGS
    }
    try:
        options = FitOptions(**values, verbose=not args.quiet)
    except (TypeError, ValueError) as error:
        message = str(error)
        for field in FitOptions.field_names():
            message = message.replace(f"'{field}'", option_flag(field))
        raise UsageError(message) from None
    if check_device_here:
        check_device(options.device)
    return options


def fold_arguments(args, table=None, source="the features table"):
    """``cv`` and ``groups`` from --cv and --cv-groups (a column of ``table``).

    Parameters
    ----------
    args : argparse.Namespace
    table : DataFrame or None
        Where the --cv-groups column is looked up.
    source : str
        What ``table`` is, for error messages.

    Returns
    -------
    cv : None, "auto" or int
    groups : array or None
    """
    cv = args.cv
    if cv in ("none", "None"):
        cv = None
    elif cv != "auto":
        try:
            cv = int(cv)
        except ValueError:
            raise UsageError(
                f"--cv expects 'auto', an integer or 'none', got {args.cv!r}."
            ) from None
    groups = None
    if args.cv_groups is not None:
        if table is None or args.cv_groups not in table.columns:
            columns = [] if table is None else list(table.columns)
            raise UsageError(
                f"--cv-groups {args.cv_groups!r} is not a column of {source} (columns: {columns})."
            )
        groups = table[args.cv_groups].to_numpy()
    return cv, groups


def read_table(path, option):
    """A table file as a DataFrame (separator sniffed), with errors that name the option."""
    from ..tables import TableError, read_user_table

    try:
        return read_user_table(path, option)
    except TableError as error:
        raise UsageError(str(error)) from None


def feature_table(args, table, exclude=()):
    """The features: the table without its grouping column (and the ``exclude`` ones)."""
    dropped = [column for column in (args.cv_groups, *exclude) if column]
    return table.drop(columns=[column for column in dropped if column in table.columns])


def load_features(args, path, option="--features"):
    """Features from --features: a table, or precomputed distances (.npy).

    With ``--stimuli`` (one row per volume, as the patterns command writes),
    the features table may describe trial types instead of volumes: it is
    joined to the stimuli on the columns they share.

    Returns
    -------
    features : DataFrame or array
    table : DataFrame or None
        The table with one row per stimulus (for --cv-groups), None for an
        array.
    """
    if args.precomputed_features:
        if Path(path).suffix != ".npy":
            raise UsageError(
                f"{option}: with --precomputed-features, give an .npy array of shape "
                f"(n_stimuli, n_stimuli, n_features), got {path}."
            )
        return np.load(path), None
    table = read_table(path, option)
    if getattr(args, "stimuli", None) is None:
        return feature_table(args, table), table
    stimuli = read_table(args.stimuli, "--stimuli")
    return _joined(args, table, stimuli, option)


def _joined(args, table, stimuli, option):
    keys = [column for column in table.columns if column in stimuli.columns]
    if not keys:
        raise UsageError(
            f"{option} and --stimuli share no column to join on ({option} has "
            f"{list(table.columns)}, --stimuli has {list(stimuli.columns)})."
        )
    if table.duplicated(keys).any():
        raise UsageError(f"{option} has several rows for some value of {keys}; expected one.")
    joined = stimuli.merge(table, on=keys, how="left", indicator=True)
    unmatched = joined.loc[joined["_merge"] == "left_only", keys].drop_duplicates()
    if len(unmatched):
        raise UsageError(
            f"{option} has no row for {unmatched.to_dict('records')[:3]} of --stimuli."
        )
    names = [column for column in table.columns if column not in keys + [args.cv_groups]]
    return joined[names], joined.drop(columns="_merge")


def add_source_arguments(parser, places):
    """M/EEG in source space: --source-radius or --labels (in ``places``), --inverse-method, --snr.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    places : argparse mutually exclusive group
        Where the kinds of units are chosen, one at a time.
    """
    places.add_argument(
        "--source-radius",
        type=float,
        default=None,
        help="source space: the sources within this many mm along the cortex (a ball for "
        "volume sources) x windows",
    )
    places.add_argument(
        "--labels",
        default=None,
        help="source space: one unit per label of LEFT,RIGHT annotation files (.annot) x windows",
    )
    parser.add_argument(
        "--inverse-method",
        default="dSPM",
        choices=["dSPM", "MNE", "sLORETA", "eLORETA"],
        help="source space: the inverse method",
    )
    parser.add_argument(
        "--snr", type=float, default=3.0, help="source space: SNR, lambda2 = 1 / SNR**2"
    )
