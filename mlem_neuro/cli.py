"""The mlem-neuro command line."""

import argparse
import logging
import sys

from . import __version__, set_log_level

__all__ = ["main"]


def _demo(args):
    from .demo import run_demo

    table = run_demo(args.out, device=args.device, random_state=args.seed, verbose=not args.quiet)
    peak = table["score"].idxmax()
    print(
        f"Peak held-out score {table['score'][peak]:.3f} at {table['time'][peak] * 1000:.0f} ms. "
        f"Outputs written to {args.out}/ (timecourse.tsv, summary.json, timecourse.png)."
    )


def build_parser():
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mlem-neuro",
        description="Metric Learning Encoding Models for neuroimaging.",
    )
    parser.add_argument("--version", action="version", version=f"mlem_neuro {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="time-resolved MLEM on the bundled MNE sample EEG epochs"
    )
    demo.add_argument("--out", default="mlem_neuro_output/demo", help="output folder")
    demo.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]'")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quiet", action="store_true", help="no progress or log messages")
    demo.set_defaults(run=_demo)
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
