"""The mlem-neuro command line: parse the arguments, call a pipeline, report.

Every fitting command takes the same fit flags (one per field of
:class:`mlem_neuro.FitOptions`); every command writes its result folder
whole or not at all (:class:`mlem_neuro.outputs.ResultFolder`). A user error
prints one line naming the option and exits with status 2 (``--debug`` shows
the traceback); Ctrl-C leaves a resumable folder and exits with status 130.
"""

import argparse
import shlex
import sys

from .. import __version__
from . import bids, datasets, demo, fmri, group, llm, meeg, report
from .arguments import UsageError
from .console import console, one_line

__all__ = ["main", "build_parser", "UsageError"]

COMMANDS = (demo, datasets, fmri, meeg, llm, group, report, bids)

try:
    from nibabel.filebasedimages import ImageFileError
except ImportError:  # pragma: no cover - every supported nibabel has it
    ImageFileError = ValueError

USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError, ImportError, ImageFileError)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error of the CLI."""

    def error(self, message):
        """Print ``message`` on one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser():
    """The argument parser with every command."""
    parser = _Parser(
        prog="mlem-neuro",
        description="Metric Learning Encoding Models for neuroimaging.",
    )
    parser.add_argument("--version", action="version", version=f"mlem_neuro {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv=None):
    """Entry point of the ``mlem-neuro`` command.

    Returns
    -------
    int
        0 on success, 2 for a user error, 130 when interrupted, 1 for an
        unexpected error or (``bids``) a study in which some subject failed.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a one-line argument error
        return stop.code
    args.command_line = shlex.join(["mlem-neuro", *argv])
    with console(args.command, args.quiet):
        try:
            code = args.run(args)
        except KeyboardInterrupt:
            print(
                f"mlem-neuro {args.command}: interrupted; rerun the same command to resume.",
                file=sys.stderr,
            )
            return 130
        except USER_ERRORS as error:
            if args.debug:
                raise
            print(f"mlem-neuro {args.command}: error: {one_line(error)}", file=sys.stderr)
            return 2
        except SystemExit:
            raise
        except BaseException as error:  # noqa: BLE001 - a bug, or Dask's CancelledError: one line
            if args.debug:
                raise
            print(
                f"mlem-neuro {args.command}: unexpected error ({type(error).__name__}: "
                f"{one_line(error)}); rerun with --debug for the traceback and report it.",
                file=sys.stderr,
            )
            return 1
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
