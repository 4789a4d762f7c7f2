"""fMRI adapter: NIfTI patterns in, MLEM maps and region tables out."""

from .patterns import estimate_patterns
from .searchlight import SearchlightResult, roi_analysis, searchlight

__all__ = ["estimate_patterns", "searchlight", "roi_analysis", "SearchlightResult"]
