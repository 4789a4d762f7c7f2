"""fMRI adapter: NIfTI patterns in, MLEM maps and region tables out."""

from .patterns import estimate_patterns, save_patterns
from .roi import RoiResult, roi_analysis
from .searchlight import SearchlightResult, searchlight

__all__ = [
    "estimate_patterns",
    "save_patterns",
    "searchlight",
    "roi_analysis",
    "SearchlightResult",
    "RoiResult",
]
