"""What a command prints: progress and logs that do not break each other, one-line warnings."""

import contextlib
import logging
import sys
import warnings

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from .. import set_log_level
from ..core.user_warnings import WarningDigest

__all__ = ["console", "one_line"]


def one_line(message):
    """A message on a single line (errors and warnings may span several)."""
    return " ".join(str(message).split())


@contextlib.contextmanager
def console(command, quiet):
    """Route logs through the progress bars and print warnings as one line each.

    mlem_neuro's own warnings are printed as they come. Third-party ones
    (NumPy, nilearn, MNE, PyTorch) never reach the terminal raw: each distinct
    one is printed once, at the end, naming its package and how often it came.

    Parameters
    ----------
    command : str
        Name of the command, to prefix warnings with.
    quiet : bool
        Show only warnings and errors (no progress, no log).
    """
    set_log_level(logging.WARNING if quiet else logging.INFO)
    digest = WarningDigest()

    def show(message, category, filename, lineno, file=None, line=None):
        if digest.add(message, filename) is not None:
            tqdm.write(f"mlem-neuro {command}: warning: {one_line(message)}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            # Not actionable for a user of the command line.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            warnings.showwarning = show
            with logging_redirect_tqdm(loggers=[logging.getLogger("mlem_neuro")]):
                yield
    finally:
        for line in digest.library_lines():
            print(f"mlem-neuro {command}: warning: {line}", file=sys.stderr)
