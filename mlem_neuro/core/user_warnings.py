"""Warnings that point at the user's call, and a record of those raised during a run."""

import contextlib
import sys
import warnings
from pathlib import Path

__all__ = ["warn", "recorded_warnings"]

_PACKAGE = str(Path(__file__).resolve().parents[1])


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
        each, in order.
    """
    messages, caught = [], []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        for item in caught:
            text = str(item.message)
            if text not in messages:
                messages.append(text)
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
