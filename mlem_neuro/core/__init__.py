"""The MLEM core: arrays and tensors only (no nibabel, nilearn or MNE).

features -> pairs -> metric terms; neural distances per unit; soft ranks;
batched training; exact scores and permutation importances.

The names below are what the rest of the package (the estimator, units,
modality adapters, statistics) uses; import them from here.
"""

import importlib

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
    "check_feature_rows",
    "check_device",
    "check_option",
    "check_positive_float",
    "check_positive_int",
    "warn",
    "recorded_warnings",
]

# Where each name lives. They are imported on first use, so that a light part (FitOptions,
# the checks) can be imported without torch: the command line starts fast.
_HOMES = {
    "fit_units": "fit",
    "FitOptions": "options",
    "UnitResults": "results",
    "Problem": "problem",
    "count_stimuli": "problem",
    "make_generator": "options",
    "unit_distance_ranks": "chunks",
    "unit_columns": "membership",
    "permutation_orders": "permutation",
    "make_metric_data": "simulation",
    "NEURAL_DISTANCES": "options",
    "check_patterns": "distances",
    "check_feature_rows": "features",
    "check_device": "validation",
    "check_option": "validation",
    "check_positive_float": "validation",
    "check_positive_int": "validation",
    "warn": "user_warnings",
    "recorded_warnings": "user_warnings",
}


def __getattr__(name):
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
