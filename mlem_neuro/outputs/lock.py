"""One writer per result folder, through a lock file made by exclusive creation."""

import json
import os
import socket

from .stored import OutputFolderError

__all__ = ["WriterLock"]


class WriterLock:
    """One writer per result folder: a lock file made by exclusive creation.

    A lock whose process has ended on this machine is taken over; one held by
    a live process, or by another machine, makes a second writer refuse.

    Parameters
    ----------
    file : Path
    path : Path
        The result folder, for messages.
    label : str
    """

    def __init__(self, file, path, label):
        self.file, self.path, self.label = file, path, label
        self.held = False

    def acquire(self):
        """Take the lock or raise :class:`OutputFolderError` naming its holder."""
        owner = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                descriptor = os.open(self.file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and not self._stale(holder):
                    raise OutputFolderError(
                        f"{self.label} {self.path} is being written by another run (process "
                        f"{holder.get('pid')} on {holder.get('host')}); wait for it to end, "
                        f"or remove {self.file} if that run is gone."
                    ) from None
                self.file.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as stream:
                json.dump(owner, stream)
            self.held = True
            return
        raise OutputFolderError(f"{self.label} {self.path}: could not take {self.file}.")

    def _holder(self):
        try:
            return json.loads(self.file.read_text())
        except (OSError, ValueError):
            return None  # unreadable: a writer died while creating it

    @staticmethod
    def _stale(holder):
        if holder.get("host") != socket.gethostname():
            return False
        try:
            os.kill(int(holder["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, KeyError, ValueError, TypeError):
            return False
        return False

    def release(self):
        """Remove the lock if this run holds it."""
        if self.held:
            self.file.unlink(missing_ok=True)
            self.held = False
