"""mlem_neuro: Metric Learning Encoding Models for neuroimaging.

Which theoretical features, and which interactions, shape the geometry of
neural patterns in a brain region, a moment in time or a network layer, and
how strongly.
"""

import logging

from .core import FitOptions, UnitResults, fit_units
from .estimator import MLEM

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
