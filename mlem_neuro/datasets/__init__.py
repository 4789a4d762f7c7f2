"""Small real recordings shipped with the package, for tests, tutorials and the demo.

Each loader reads a compact copy derived from public data by
``scripts/make_bundled_data.py``; see the README for credits and licences.
"""

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["EEGSample", "load_eeg_sample"]


@dataclass(frozen=True)
class EEGSample:
    """Epoched EEG of the MNE "sample" auditory/visual recording.

    Attributes
    ----------
    data : array of shape (n_epochs, n_channels, n_times)
        Baseline-corrected EEG in volts (288 epochs, 10 frontal channels,
        91 samples at 150 Hz).
    times : array of shape (n_times,)
        Seconds relative to stimulus onset, -0.1 to 0.5.
    ch_names : list of str
    metadata : DataFrame of shape (n_epochs, 3)
        Columns ``condition`` ("audio/left"...), ``modality`` ("audio" or
        "visual") and ``side`` ("left" or "right").
    """

    data: np.ndarray
    times: np.ndarray
    ch_names: list
    metadata: pd.DataFrame

    @property
    def sfreq(self):
        """Sampling frequency in Hz."""
        return 1 / np.median(np.diff(self.times))


def load_eeg_sample():
    """Load the bundled EEG epochs (MNE sample data, 4 conditions).

    Known effects: an auditory N100 (about -7 microvolts at 100 ms on
    EEG 003); modality is weakly decodable from these 10 frontal channels
    (about 0.65 accuracy at 100 ms and 240-300 ms), side stays near chance.

    Returns
    -------
    EEGSample
    """
    with resources.files(__name__).joinpath("data/eeg_sample.npz").open("rb") as file:
        archive = np.load(file)
        conditions = archive["conditions"].astype(str)
        metadata = pd.DataFrame({"condition": conditions})
        metadata[["modality", "side"]] = metadata["condition"].str.split("/", expand=True)
        return EEGSample(
            data=archive["data"].astype(np.float64),
            times=archive["times"],
            ch_names=[str(name) for name in archive["ch_names"]],
            metadata=metadata,
        )
