"""Result folders: written whole or not at all, and read back by what they are.

Every command and pipeline writes its outputs through :class:`ResultFolder`:
files go to a temporary sibling (``.NAME.partial``) and the folder is renamed
into place only when complete, with its ``summary.json``. So a result folder
that exists is a finished result. An interrupted run leaves the temporary
sibling, with the checkpoint of its finished chunks, for the next run of the
same command to resume from.

:func:`read_result` reads any result folder back (maps, tables, arrays, the
per-unit results), for group tests and reports.
"""

from .folder import OutputFolderError, ResultFolder, open_result_folder
from .naming import bids_label, file_stem
from .provenance import fit_parameters, setting_differences, software_versions
from .stored import StoredResult, is_finished, read_result

__all__ = [
    "ResultFolder",
    "OutputFolderError",
    "open_result_folder",
    "read_result",
    "is_finished",
    "StoredResult",
    "software_versions",
    "fit_parameters",
    "setting_differences",
    "file_stem",
    "bids_label",
]
