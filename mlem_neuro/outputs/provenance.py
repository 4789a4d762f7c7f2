"""What every summary.json records, and how two records of settings differ.

Versions, how a fit was run, peak memory.
"""

import platform
import resource
import sys
import time

import numpy as np
import pandas as pd

from .. import __version__

__all__ = ["software_versions", "fit_parameters", "peak_memory_mib", "setting_differences"]


def software_versions():
    """Versions of mlem_neuro, Python and the main dependencies, for summary files."""
    import mne
    import nibabel
    import nilearn
    import torch

    return {
        "mlem_neuro": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "nibabel": nibabel.__version__,
        "nilearn": nilearn.__version__,
        "mne": mne.__version__,
    }


def fit_parameters(options, cv, groups, n_stimuli, started):
    """How a fit was run, for summary.json.

    Parameters
    ----------
    options : FitOptions
    cv : None, int or splitter
    groups : array or None
    n_stimuli : int
    started : float
        :func:`time.perf_counter` when the analysis started.

    Returns
    -------
    dict
    """
    return {
        "options": options.to_dict(),
        "cv": None if cv is None else str(cv),
        "grouped_cv": groups is not None,
        "n_stimuli": int(n_stimuli),
        "seconds": round(time.perf_counter() - started, 2),
    }


def peak_memory_mib():
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def setting_differences(first, second):
    """The settings that differ between two records, one level of nesting flattened.

    Parameters
    ----------
    first, second : dict
        Recorded settings (from summary.json); a dict value (``options``)
        is compared entry by entry.

    Returns
    -------
    dict of str to (value, value)
        ``"name"`` or ``"name.entry"`` to its value in ``first`` and in
        ``second`` (None where absent), sorted by name.
    """
    flat = {}
    for side, settings in enumerate((first, second)):
        for name, value in settings.items():
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for entry, inner in entries:
                key = name if entry is None else f"{name}.{entry}"
                flat.setdefault(key, [None, None])[side] = inner
    return {key: tuple(pair) for key, pair in sorted(flat.items()) if pair[0] != pair[1]}
