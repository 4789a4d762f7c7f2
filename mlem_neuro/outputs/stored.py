"""Reading result folders back: maps, tables, arrays, per-unit results, nested parts."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import UnitResults
from .naming import SUMMARY, file_stem

__all__ = ["StoredResult", "read_result", "is_finished", "OutputFolderError"]


class OutputFolderError(OSError):
    """A result folder cannot be written, or is not a finished result."""


@dataclasses.dataclass
class StoredResult:
    """A finished result folder, read back.

    Attributes
    ----------
    path : Path
    summary : dict
        The content of summary.json.
    """

    path: Path
    summary: dict

    @property
    def kind(self):
        """What the folder holds ("searchlight", "timecourse", "layers"...)."""
        return self.summary.get("kind")

    @property
    def features(self):
        """The features the result was fitted on."""
        return self.summary.get("features")

    def has(self, file):
        """Whether the folder holds a file of that (plain) name."""
        return (self.path / self.summary.get("files", {}).get(file, file)).exists()

    def file(self, name):
        """Path of a file of the folder by its plain name (a figure...); it must exist."""
        return self._existing(name, name)

    def map(self, measure):
        """The NIfTI map of a measure ("score", "importance_<term>", "weight_<term>")."""
        import nibabel as nib

        return nib.load(self._existing(f"{file_stem(measure)}.nii.gz", measure))

    def table(self, name):
        """A tab-separated table of the folder, as a DataFrame.

        Run and session columns are read as text: labels such as "01" stay
        labels, not numbers.
        """
        path = self._existing(f"{file_stem(name)}.tsv", name)
        return pd.read_csv(path, sep="\t", dtype={"run": str, "session": str})

    def array(self, name):
        """A .npy array of the folder."""
        return np.load(self._existing(f"{file_stem(name)}.npy", name))

    def info(self, name="sensors"):
        """The :class:`mne.Info` written as NAME-info.fif."""
        import mne

        return mne.io.read_info(self._existing(f"{name}-info.fif", name), verbose="error")

    def unit_results(self):
        """Every unit's results (scores, importances, metrics...) as :class:`UnitResults`."""
        with np.load(self._existing("units.npz", "unit results")) as arrays:
            stored = {key: arrays[key] for key in arrays.files}
        info = dict(self.summary.get("fit_info", {}))
        if "steps" in stored:
            info["unit_steps"] = stored["steps"]
        terms = list(self.summary["terms"])

        def frame(key, columns):
            return pd.DataFrame(stored[key], columns=columns) if key in stored else None

        n_extra = stored["extra_weights"].shape[1] if "extra_weights" in stored else 0
        return UnitResults(
            scores=stored["scores"],
            fold_scores=stored.get("fold_scores"),
            importances=frame("importances", terms),
            metrics=stored["metrics"],
            feature_names=list(self.summary["features"]),
            term_names=terms,
            train_scores=stored["train_scores"],
            info=info,
            importance_se=frame("importance_se", terms),
            extra_weights=frame("extra_weights", terms[len(terms) - n_extra :]),
        )

    def parts(self):
        """Result folders nested in this one (the parts of a demo or a study), by name."""
        return {
            entry.name: read_result(entry)
            for entry in sorted(self.path.iterdir())
            if is_finished(entry)
        }

    def _existing(self, file, what):
        path = self.path / self.summary.get("files", {}).get(file, file)
        if not path.exists():
            raise FileNotFoundError(
                f"{self.path} ({self.kind} result) has no {what!r}: {file} not found."
            )
        return path


def is_finished(path):
    """Whether ``path`` is a finished result folder (written whole, with its summary.json)."""
    return (Path(path) / SUMMARY).exists()


def read_result(path):
    """Read a finished result folder.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    StoredResult
    """
    path = Path(path)
    partial = path.parent / f".{path.name}.partial"
    if not is_finished(path):
        if partial.exists():
            raise OutputFolderError(
                f"{path} is an unfinished result: its run was interrupted. Rerun the same "
                "command to resume it."
            )
        if not path.is_dir():
            raise FileNotFoundError(f"result folder not found: {path}")
        raise OutputFolderError(f"{path} is not a finished mlem_neuro result: it has no {SUMMARY}.")
    summary = json.loads((path / SUMMARY).read_text(encoding="utf-8"))
    return StoredResult(path, summary)
