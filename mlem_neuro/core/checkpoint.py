"""Finished chunks of a fit, kept on disk so that an interrupted fit resumes where it stopped.

A chunk's results depend on the data, the settings and the seed only (every
chunk draws its random numbers from streams keyed by the seed and the fold),
so a resumed fit restores the finished chunks, fits the others, and ends with
the results an uninterrupted fit would have given.

A fingerprint of the inputs and settings guards the checkpoint: one written by
a different fit is discarded, never mixed in.
"""

import hashlib
import json
import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

__all__ = ["ChunkCheckpoint", "fingerprint"]

logger = logging.getLogger("mlem_neuro")

_FINGERPRINT = "fingerprint.json"
#: The subfolder a checkpoint owns inside the folder it is given.
SUBFOLDER = "mlem_neuro-checkpoint"


def _stored_key(manifest):
    try:
        return json.loads(manifest.read_text()).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def fingerprint(**parts):
    """A digest of arrays, tensors and JSON-ready values, stable across runs.

    Parameters
    ----------
    **parts
        Named arrays (hashed by content, shape and dtype), lists of arrays,
        or plain values. The package version is always part of the digest:
        chunks computed by another version are never resumed.

    Returns
    -------
    str
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"mlem_neuro {version('mlem_neuro')}".encode())
    for name in sorted(parts):
        digest.update(name.encode())
        _update(digest, parts[name])
    return digest.hexdigest()


def _update(digest, value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.view(np.uint8).reshape(-1) if array.size else b"")
    elif isinstance(value, (list, tuple)) and value and not isinstance(value[0], (str, int)):
        for item in value:
            _update(digest, item)
    else:
        digest.update(json.dumps(value, sort_keys=True, default=str).encode())


class ChunkCheckpoint:
    """A folder of finished chunks for one fit, inside a folder the caller names.

    The chunks live in a subfolder of their own, :data:`SUBFOLDER`, marked by
    its fingerprint file; nothing else in the caller's folder is ever read,
    written or removed. A checkpoint of another fit (other inputs, settings,
    chunks or package version) is discarded chunk file by chunk file.

    Parameters
    ----------
    directory : str or Path
        Where the checkpoint subfolder goes (created if needed).
    key : str
        :func:`fingerprint` of the fit's inputs and settings.
    """

    def __init__(self, directory, key):
        self.directory = Path(directory) / SUBFOLDER
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = self.directory / _FINGERPRINT
        if manifest.exists() and _stored_key(manifest) != key:
            logger.info("Discarding the checkpoint in %s: it belongs to another fit.", directory)
            for chunk in self.directory.glob("chunk-*.npz"):
                chunk.unlink()
        manifest.write_text(json.dumps({"key": key}))

    def _path(self, index):
        return self.directory / f"chunk-{index:06d}.npz"

    def finished(self):
        """How many chunks are done: the length of the run of saved chunks from chunk 0."""
        count = 0
        while self._path(count).exists():
            count += 1
        return count

    def save(self, index, arrays):
        """Keep chunk ``index``'s arrays (atomically)."""
        partial = self.directory / f"chunk-{index:06d}.partial.npz"
        np.savez(partial, **arrays)
        partial.rename(self._path(index))

    def load(self, index):
        """The arrays of chunk ``index``: dict of str to array."""
        with np.load(self._path(index)) as stored:
            return {key: stored[key] for key in stored.files}
