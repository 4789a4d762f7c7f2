"""The report command: one HTML report for any result folders."""

from .arguments import UsageError, new_command

__all__ = ["register"]


def _report(args):
    from ..report import write_report

    if len(args.results) > 1 and args.out is None:
        raise UsageError("--out is required for a report of several result folders.")
    path = write_report(args.results, out=args.out, title=args.title)
    print(f"Report written to {path}.")


def register(commands):
    """Add the report command."""
    report = new_command(
        commands,
        "report",
        _report,
        help="write an HTML report of result folders (searchlight, roi, timecourse, layers, "
        "group, demo, study)",
    )
    report.add_argument("results", nargs="+", help="result folders")
    report.add_argument(
        "--out", default=None, help="HTML file (default: report.html in the single folder)"
    )
    report.add_argument("--title", default=None, help="title of the report")
