"""The last step of a command: the HTML report beside the results."""

__all__ = ["finish"]


def finish(folder, args):
    """Write report.html into the result folder before it is committed (unless --no-report)."""
    if getattr(args, "no_report", False):
        return
    from ..report import write_report

    folder.update_summary(command_line=getattr(args, "command_line", None))
    write_report(folder)
