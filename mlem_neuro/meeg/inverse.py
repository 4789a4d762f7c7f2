"""Source estimates of epochs through an inverse operator, a few epochs at a time."""

__all__ = ["EpochSourceEstimates", "read_inverse"]

INVERSE_METHODS = ("dSPM", "MNE", "sLORETA", "eLORETA")


def read_inverse(path):
    """An inverse operator from an ``-inv.fif`` file, with a clear error when it is missing."""
    from pathlib import Path

    from mne.minimum_norm import read_inverse_operator

    if not Path(path).exists():
        raise FileNotFoundError(f"inverse: no file {path} (an -inv.fif inverse operator).")
    return read_inverse_operator(path, verbose="error")


class EpochSourceEstimates:
    """One source estimate per epoch, computed through MNE in chunks of epochs.

    A sized iterable for :func:`mlem_neuro.meeg.source_timecourse`, which
    keeps each estimate as float32 as it arrives: 300 epochs x 8,196 sources x
    300 times never exist at once in float64.

    Parameters
    ----------
    epochs : mne.BaseEpochs
    inverse_operator : mne.minimum_norm.InverseOperator
    method : {"dSPM", "MNE", "sLORETA", "eLORETA"}
    snr : float
        Signal-to-noise ratio; ``lambda2 = 1 / snr**2``.
    chunk : int
        Epochs handed to MNE at a time.
    """

    def __init__(self, epochs, inverse_operator, method="dSPM", snr=3.0, chunk=32):
        from ..core import check_option, check_positive_float, check_positive_int

        self.epochs = epochs
        self.inverse_operator = inverse_operator
        self.method = check_option("method", method, INVERSE_METHODS)
        self.lambda2 = 1.0 / check_positive_float("snr", snr) ** 2
        self.chunk = check_positive_int("chunk", chunk)

    def __len__(self):
        return len(self.epochs)

    def __iter__(self):
        from mne.minimum_norm import apply_inverse_epochs
        from mne.utils import use_log_level

        for start in range(0, len(self.epochs), self.chunk):
            # MNE reports every epoch it processes, whatever verbose says, without this.
            with use_log_level("error"):
                yield from apply_inverse_epochs(
                    self.epochs[start : start + self.chunk],
                    self.inverse_operator,
                    self.lambda2,
                    self.method,
                    return_generator=True,
                    verbose="error",
                )
