"""Warnings that point at the user's call, and a record of those raised during a run."""

import collections
import contextlib
import sys
import warnings
from pathlib import Path

__all__ = ["warn", "recorded_warnings", "warning_source", "WarningDigest"]

_PACKAGE = str(Path(__file__).resolve().parents[1])


def warning_source(filename):
    """The package a warning came from ("numpy", "nilearn"...), or None for mlem_neuro's own.

    mlem_neuro's own warnings (:func:`warn`) point outside the package, at the
    user's call; a warning attributed to a line inside mlem_neuro was raised
    by a library it calls, with a stack level that points at its caller.

    Parameters
    ----------
    filename : str
        Where the warning was raised (:attr:`warnings.WarningMessage.filename`).
    """
    if str(filename).startswith(_PACKAGE):
        inside = Path(filename).relative_to(Path(_PACKAGE).parent).as_posix()
        return f"a library called from {inside}"
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return Path(parts[parts.index(marker) + 1]).stem.split("-")[0]
    return None  # the user's own code, or a warning pointed at the user's call


class WarningDigest:
    """Warnings as one line each: mlem_neuro's own once each, a library's counted.

    Attributes
    ----------
    own : list of str
        mlem_neuro's own messages, in order, once each.
    """

    def __init__(self):
        self.own = []
        self._library = collections.Counter()

    def add(self, message, filename):
        """Take one warning; return its text when it is a new one of mlem_neuro's own.

        Parameters
        ----------
        message : Warning or str
        filename : str
            Where the warning was raised, which tells whose it is
            (:func:`warning_source`).

        Returns
        -------
        str or None
        """
        text, source = str(message), warning_source(filename)
        if source is not None:
            self._library[source, text] += 1
        elif text not in self.own:
            self.own.append(text)
            return text
        return None

    def library_lines(self):
        """One line per distinct library warning: where it came from and how often."""
        return [
            f"{source}: {' '.join(text.split())} ({'once' if count == 1 else f'{count} times'})"
            for (source, text), count in self._library.items()
        ]

    def lines(self):
        """Every warning taken: the own ones, then the library ones."""
        return self.own + self.library_lines()


def _stack_level_outside_package():
    """Stack level of the first frame outside mlem_neuro, as :func:`warnings.warn` counts."""
    frame = sys._getframe(2)  # the caller of warn()
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def warn(message, category=UserWarning):
    """Warn, pointing at the first line of code outside mlem_neuro (the user's call).

    Parameters
    ----------
    message : str
    category : type of Warning
    """
    warnings.warn(message, category, stacklevel=_stack_level_outside_package())


@contextlib.contextmanager
def recorded_warnings():
    """Record the warnings raised inside the block, and let them through as usual.

    Yields
    ------
    list of str
        Filled with the message of every warning raised in the block, once
        each, in order; a third-party warning (NumPy, nilearn, MNE...) as one
        line naming its package and how often it came (:class:`WarningDigest`).
    """
    messages, caught = [], []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        digest = WarningDigest()
        for item in caught:
            digest.add(item.message, item.filename)
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
        messages += digest.lines()
