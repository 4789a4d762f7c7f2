"""Reading the user's tables (features, stimuli) whatever their separator or compression.

The separator is sniffed from the content, not guessed from the file name: a
tab-separated ``.csv``, a semicolon-separated export from a spreadsheet and a
``.tsv.gz`` all read as the tables they are. A table that still comes out as
one column whose name holds a separator is refused rather than fitted as one
feature.
"""

import bz2
import gzip
import lzma
from pathlib import Path

import pandas as pd

__all__ = ["read_user_table", "sniff_separator", "TableError"]

SEPARATORS = ("\t", ",", ";", "|")
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "vertical bar"}
_SNIFFED_LINES = 20


class TableError(ValueError):
    """A user table that cannot be read as a table."""


def sniff_separator(lines):
    """The separator that splits every non-empty line into the same number of fields.

    Parameters
    ----------
    lines : list of str
        The first lines of the file, header first.

    Returns
    -------
    str
        One of :data:`SEPARATORS`; the comma for a single-column table.
    """
    lines = [line for line in lines if line.strip()]
    best, most = ",", 0
    for separator in SEPARATORS:
        counts = {line.count(separator) for line in lines}
        if len(counts) == 1 and (count := counts.pop()) > most:
            best, most = separator, count
    return best


def _first_lines(path):
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rt", encoding="utf-8-sig") as stream:
        return [line for _, line in zip(range(_SNIFFED_LINES), stream)]


def read_user_table(path, label):
    """A table file as a DataFrame, with its separator sniffed from its content.

    Parameters
    ----------
    path : str or Path
        A delimited text file (tab, comma, semicolon or vertical bar),
        optionally compressed (.gz, .bz2, .xz).
    label : str
        How errors name the table (``--features``, ``stimuli_table``...).

    Returns
    -------
    DataFrame

    Raises
    ------
    TableError
        The file is missing, a folder, unreadable, empty, or reads as one
        column whose name holds a separator.
    """
    path = Path(path)
    if not path.exists():
        raise TableError(f"{label}: {label.lstrip('-')} file not found: {path}")
    if path.is_dir():
        raise TableError(f"{label}: {path} is a folder; expected a table file.")
    try:
        separator = sniff_separator(_first_lines(path))
        table = pd.read_csv(path, sep=separator)
    except (OSError, UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise TableError(f"{label}: {path} could not be read as a table ({error}).") from None
    if table.shape[1] == 1:
        name = str(table.columns[0])
        held = [_NAMES[sep] for sep in SEPARATORS if sep in name]
        if held:
            raise TableError(
                f"{label}: {path} reads as the single column {name!r}, whose name holds a "
                f"{held[0]}; its rows do not split the same way. Use one separator throughout "
                "(tab, comma or semicolon)."
            )
    if table.empty:
        raise TableError(f"{label}: {path} has columns but no rows.")
    return table
