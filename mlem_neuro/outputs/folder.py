"""ResultFolder: a result folder written in a temporary sibling and renamed into place."""

import contextlib
import datetime
import json
import shutil
from pathlib import Path

import numpy as np

from .lock import WriterLock
from .naming import CHECKPOINT, SUMMARY, bids_label, file_stem
from .provenance import peak_memory_mib, software_versions
from .stored import OutputFolderError, StoredResult, is_finished

__all__ = ["ResultFolder", "OutputFolderError", "open_result_folder", "holds_result"]


class ResultFolder:
    """A result folder, written in a temporary sibling and moved into place when complete.

    Creating it checks, before any computation, that the folder can be
    written: its parent can be created, no other run is writing it, and the
    target is absent, empty, or an earlier mlem_neuro result with
    ``overwrite`` set. A folder that holds anything else is never replaced,
    whatever ``overwrite`` says. A temporary sibling left by an interrupted
    run is reused (its checkpoint is how the run resumes); any other file in
    it is removed, so no stale output survives. A commit that was cut short
    is finished (or undone) first.

    Parameters
    ----------
    path : str or Path
        The final folder (a symbolic link to a folder is followed, and stays
        a link).
    kind : str
        What the folder holds ("searchlight", "roi", "timecourse",
        "layers", "group", "patterns", "demo"...), recorded in summary.json.
    overwrite : bool
        Replace an earlier mlem_neuro result when committing.
    label : str
        How errors name the folder (the command-line option, or the
        parameter of the Python call).
    entities : dict, optional
        BIDS entities ({"sub": "01", "task": "objects", "space": ...}): files
        are then named like BIDS derivatives,
        ``sub-01_task-objects_space-X_desc-score_mlem.nii.gz`` for "score";
        summary.json maps each plain name to the file, and
        :func:`read_result` reads either kind of folder alike.

    Attributes
    ----------
    path : Path
    staging : Path
        Where files are written until :meth:`commit`.
    summary : dict
        Entries of summary.json.
    """

    def __init__(self, path, kind, *, overwrite=False, label="out_dir", entities=None):
        self.path = Path(path)
        self.kind = kind
        self.overwrite = overwrite
        self.label = label
        self.entities = dict(entities or {})
        # Siblings of the real folder: "--out ." and links work, nothing lands inside it.
        target = self.path.expanduser().resolve()
        self._target = target
        self.staging = target.parent / f".{target.name}.partial"
        self._replaced = target.parent / f".{target.name}.replaced"
        self._lock = WriterLock(target.parent / f".{target.name}.lock", self.path, label)
        self.summary = {"kind": kind}
        self._started = datetime.datetime.now(datetime.timezone.utc)
        self._check_parent()
        self._lock.acquire()
        try:
            self._repair_interrupted_commit()
            self._check_target()
            self._prepare_staging()
        except BaseException:
            self._lock.release()
            raise

    @property
    def checkpoint_path(self):
        """Folder for the checkpoint of finished chunks (kept across interruptions)."""
        return self.staging / CHECKPOINT

    def _check_parent(self):
        try:
            self._target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputFolderError(
                f"{self.label} {self.path} cannot be written ({error.strerror or error}); "
                "choose a folder you can write to."
            ) from error

    def _check_target(self):
        path = self._target
        if path.exists() and not path.is_dir():
            raise OutputFolderError(f"{self.label} {self.path} is a file, not a folder.")
        if not path.is_dir() or not any(path.iterdir()):
            return
        entries = sorted(entry.name for entry in path.iterdir())
        if not holds_result(path):
            raise OutputFolderError(
                f"{self.label} {self.path} is not empty and holds no mlem_neuro result (it "
                f"holds {len(entries)} entries, e.g. {entries[0]!r}); choose a new folder: "
                "overwriting only ever replaces an earlier result."
            )
        if not self.overwrite:
            flag = "--overwrite" if self.label.startswith("--") else "overwrite=True"
            raise OutputFolderError(
                f"{self.label} {self.path} is not empty (it holds {len(entries)} entries, e.g. "
                f"{entries[0]!r}); choose a new folder, or pass {flag} to replace it."
            )

    def _prepare_staging(self):
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            for entry in self.staging.iterdir():
                if entry.name != CHECKPOINT:
                    _remove(entry)
            probe = self.staging / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise OutputFolderError(
                f"{self.label} {self.path} cannot be written ({error.strerror or error}); "
                "choose a folder you can write to."
            ) from error

    def _repair_interrupted_commit(self):
        """Finish a commit that was cut between taking the old result out and moving in."""
        if not self._replaced.exists():
            return
        if is_finished(self._target):
            shutil.rmtree(self._replaced)
        elif (self.staging / SUMMARY).exists():
            self._move_into(self.staging, self._target)
            shutil.rmtree(self._replaced)
            self.staging.rmdir()
        else:
            self._move_into(self._replaced, self._target)
            self._replaced.rmdir()

    def file(self, name):
        """Path in the staging folder of a file to write (for writers of other libraries)."""
        return self.staging / name

    def write_map(self, name, img):
        """Write a NIfTI image as NAME.nii.gz; returns its file name."""
        file = self._name(name, ".nii.gz")
        img.to_filename(self.staging / file)
        return file

    def write_table(self, name, table):
        """Write a DataFrame as tab-separated NAME.tsv; returns its file name."""
        file = self._name(name, ".tsv")
        table.to_csv(self.staging / file, sep="\t", index=False, float_format="%.6g")
        return file

    def write_array(self, name, array):
        """Write an array as NAME.npy; returns its file name."""
        file = self._name(name, ".npy")
        np.save(self.staging / file, np.asarray(array))
        return file

    def write_figure(self, name, figure, dpi=120):
        """Write a matplotlib figure (or nilearn display) as NAME.png and close it."""
        import matplotlib.pyplot as plt

        file = self._name(name, ".png")
        figure.savefig(self.staging / file, dpi=dpi)
        if hasattr(figure, "close"):
            figure.close()
        else:
            plt.close(figure)
        return file

    def write_info(self, name, info):
        """Write an :class:`mne.Info` as NAME-info.fif; returns its file name."""
        import mne

        file = self._name(name, "-info.fif")
        mne.io.write_info(self.staging / file, info, overwrite=True)
        return file

    def write_text(self, file, text):
        """Write text to a file of that exact name (an HTML report, a README)."""
        (self.staging / file).write_text(text, encoding="utf-8")
        return file

    def write_units(self, results):
        """Write every unit's results as units.npz and describe them in the summary.

        Parameters
        ----------
        results : UnitResults
        """
        arrays = {
            "scores": results.scores,
            "train_scores": results.train_scores,
            "importances": results.importances.to_numpy(),
            "metrics": results.metrics,
        }
        if results.fold_scores is not None:
            arrays["fold_scores"] = results.fold_scores
        if results.importance_se is not None:
            arrays["importance_se"] = results.importance_se.to_numpy()
        if results.extra_weights is not None:
            arrays["extra_weights"] = results.extra_weights.to_numpy()
        if "unit_steps" in results.info:
            arrays["steps"] = results.info["unit_steps"]
        file = self._name("units", ".npz")
        np.savez_compressed(
            self.staging / file, **{key: np.asarray(value) for key, value in arrays.items()}
        )
        info = {key: value for key, value in results.info.items() if key != "unit_steps"}
        self.update_summary(
            features=list(results.feature_names), terms=list(results.term_names), fit_info=info
        )
        return file

    def _name(self, name, extension):
        """The file name of ``name``: plain, or BIDS-like with this folder's entities."""
        plain = f"{file_stem(name)}{extension}"
        if not self.entities:
            return plain
        prefix = "_".join(f"{key}-{value}" for key, value in self.entities.items())
        suffix = "info.fif" if extension == "-info.fif" else f"mlem{extension}"
        named = f"{prefix}_desc-{bids_label(name)}_{suffix}"
        self.summary.setdefault("files", {})[plain] = named
        return named

    def update_summary(self, **entries):
        """Add entries to summary.json."""
        self.summary.update(entries)

    def stored(self):
        """The folder as written so far, read back (for a report written before commit).

        Returns
        -------
        StoredResult
            Rooted at the staging folder, with the summary as it stands.
        """
        self._write_summary()
        return StoredResult(self.staging, json.loads((self.staging / SUMMARY).read_text()))

    def subfolder(self, name, kind):
        """A result folder inside this one, committed with it (the demo's parts)."""
        return _Subfolder(self, name, kind)

    def commit(self):
        """Write summary.json and move the folder into place.

        An absent target is replaced by the staging folder in one rename. An
        existing one (empty, or an earlier result with ``overwrite``) keeps
        its inode, so that "--out ." and links work: the old entries are
        moved aside, its summary.json first, then the new ones in, their
        summary.json last; a commit cut in between is completed by the next
        run on the folder.

        Returns
        -------
        Path
            The finished folder.
        """
        try:
            self._check_target()
            self._write_summary()
            shutil.rmtree(self.checkpoint_path, ignore_errors=True)
            if not self._target.exists():
                self.staging.rename(self._target)
                return self.path
            self._take_out_old()
            self._move_into(self.staging, self._target)
            shutil.rmtree(self._replaced)
            self.staging.rmdir()
            return self.path
        finally:
            self._lock.release()

    def release(self):
        """Let other runs write the folder without committing.

        The staging folder stays, for a later run to resume from, unless it
        is empty.
        """
        with contextlib.suppress(OSError):
            self.staging.rmdir()  # only when empty
        self._lock.release()

    def _take_out_old(self):
        """Move the old result aside, summary.json first: it stops being a result at once."""
        self._replaced.mkdir()
        for entry in sorted(self._target.iterdir(), key=lambda entry: entry.name != SUMMARY):
            entry.rename(self._replaced / entry.name)

    @staticmethod
    def _move_into(source, target):
        """Move every entry of ``source`` into ``target``, summary.json last."""
        for entry in sorted(source.iterdir(), key=lambda entry: entry.name == SUMMARY):
            entry.rename(target / entry.name)

    def _write_summary(self):
        finished = datetime.datetime.now(datetime.timezone.utc)
        self.summary.setdefault("versions", software_versions())
        self.summary["created"] = finished.isoformat(timespec="seconds")
        self.summary["wall_seconds"] = round((finished - self._started).total_seconds(), 2)
        self.summary["peak_memory_mib"] = peak_memory_mib()
        text = json.dumps(self.summary, indent=2, default=_json_default)
        (self.staging / SUMMARY).write_text(text, encoding="utf-8")

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            self.commit()
        else:
            self.release()
        return False


def holds_result(path):
    """Whether ``path`` holds a result that mlem_neuro wrote (its summary.json says so)."""
    try:
        summary = json.loads((Path(path) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and "mlem_neuro" in summary.get("versions", {})


def _remove(entry):
    shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


class _Subfolder(ResultFolder):
    """A result folder nested in another's staging folder: atomic with its parent."""

    def __init__(self, parent, name, kind):
        self.path = parent.path / name
        self.kind = kind
        self.label = parent.label
        self.entities = {}
        self.staging = parent.staging / name
        self.summary = {"kind": kind}
        self._started = datetime.datetime.now(datetime.timezone.utc)
        self.staging.mkdir(parents=True, exist_ok=True)

    def commit(self):
        """Write summary.json; the folder moves into place with its parent."""
        self._write_summary()
        shutil.rmtree(self.checkpoint_path, ignore_errors=True)
        return self.path

    def release(self):
        """Nothing to release: the parent holds the lock."""


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


@contextlib.contextmanager
def open_result_folder(out, kind, *, overwrite=False, label="out_dir"):
    """A :class:`ResultFolder` to write into, committed at the end unless the caller owns it.

    Parameters
    ----------
    out : str, Path or ResultFolder
        A path opens (and at the end commits) a new result folder; an open
        ResultFolder is written into as is, its owner commits it.
    kind : str
    overwrite : bool
    label : str

    Yields
    ------
    ResultFolder
    """
    if isinstance(out, ResultFolder):
        if out.summary.get("kind") is None:
            out.summary["kind"] = out.kind = kind
        yield out
        return
    folder = ResultFolder(out, kind, overwrite=overwrite, label=label)
    yield folder
    folder.commit()
