"""The MLEM core: arrays and tensors only (no nibabel, nilearn or MNE).

features -> pairs -> metric terms; neural distances per unit; soft ranks;
batched training; exact scores and permutation importances.
"""

from .fit import UnitResults, fit_units

__all__ = ["fit_units", "UnitResults"]
