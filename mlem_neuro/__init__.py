"""mlem_neuro: Metric Learning Encoding Models for neuroimaging.

Which theoretical features, and which interactions, shape the geometry of
neural patterns in a brain region, a moment in time or a network layer, and
how strongly.
"""

import importlib
import logging

__version__ = "0.1.0"
__all__ = ["MLEM", "fit_units", "FitOptions", "UnitResults", "set_log_level", "__version__"]

logging.getLogger("mlem_neuro").addHandler(logging.NullHandler())


def set_log_level(level="INFO"):
    """Show mlem_neuro's log messages at ``level`` and above on stderr.

    Parameters
    ----------
    level : str or int
        "DEBUG", "INFO", "WARNING"...
    """
    logger = logging.getLogger("mlem_neuro")
    logger.setLevel(level)
    if not any(
        isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.NullHandler)
        for handler in logger.handlers
    ):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        logger.addHandler(handler)


_HOMES = {"MLEM": ".estimator", "fit_units": ".core", "FitOptions": ".core", "UnitResults": ".core"}


def __getattr__(name):
    # Imported on first use: "mlem-neuro --version" and "--help" start without torch.
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
