"""Statistics for MLEM results: per-unit permutation tests, noise ceilings, group tests.

- :func:`permutation_test`: p-values for every unit's score and importances,
  uncorrected, FWER (max statistic) and FDR, with the permuted fits run as
  extra rows of the batched core.
- :func:`noise_ceiling`: split-half reliability of each unit's geometry.
- :func:`group_map_test`, :func:`group_surface_test`, :func:`group_timecourse_test`,
  :func:`group_layer_test`: one-sample tests across subjects with nilearn's
  and MNE's permutation machinery and our max-t sign flips; :func:`group_test`
  runs the right one on subjects' result folders.
"""

from .ceiling import noise_ceiling
from .group import (
    GroupMapResult,
    GroupTimecourseResult,
    group_layer_test,
    group_map_test,
    group_timecourse_test,
)
from .group_folders import GroupTest, check_testable, group_test, read_group_measure
from .group_surface import GroupSurfaceResult, group_surface_test
from .permutation import (
    PermutationTestResult,
    fdr_pvalues,
    permutation_pvalues,
    permutation_test,
)
from .sign_flip import sign_flip_max_t

__all__ = [
    "permutation_test",
    "permutation_pvalues",
    "fdr_pvalues",
    "sign_flip_max_t",
    "check_testable",
    "PermutationTestResult",
    "noise_ceiling",
    "group_map_test",
    "group_surface_test",
    "GroupSurfaceResult",
    "group_timecourse_test",
    "group_layer_test",
    "GroupMapResult",
    "GroupTimecourseResult",
    "group_test",
    "GroupTest",
    "read_group_measure",
]
