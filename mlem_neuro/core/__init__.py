"""The MLEM core: arrays and tensors only (no nibabel, nilearn or MNE).

features -> pairs -> metric terms; neural distances per unit; soft ranks;
batched training; exact scores and permutation importances.

The names below are what the rest of the package (the estimator, units,
modality adapters, statistics) uses; import them from here.
"""

from .chunks import unit_distance_ranks
from .distances import NEURAL_DISTANCES, check_patterns
from .fit import fit_units
from .membership import unit_columns
from .options import FitOptions, make_generator
from .permutation import permutation_orders
from .problem import Problem, count_stimuli
from .results import UnitResults
from .simulation import make_metric_data
from .user_warnings import recorded_warnings, warn
from .validation import (
    check_device,
    check_option,
    check_positive_float,
    check_positive_int,
)

__all__ = [
    "fit_units",
    "FitOptions",
    "UnitResults",
    "Problem",
    "count_stimuli",
    "make_generator",
    "unit_distance_ranks",
    "unit_columns",
    "permutation_orders",
    "make_metric_data",
    "NEURAL_DISTANCES",
    "check_patterns",
    "check_device",
    "check_option",
    "check_positive_float",
    "check_positive_int",
    "warn",
    "recorded_warnings",
]
