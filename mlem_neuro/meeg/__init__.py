"""MLEM on MEG/EEG epochs: time courses, spatio-temporal maps, temporal generalisation.

Reads :class:`mne.Epochs` (or ``-epo.fif`` files), takes features from the
metadata, a table or the "/" tags of event names, makes sensor types and
units comparable, and fits every time window (and sensor neighbourhood) in
one batched call of the core.
"""

from .epochs import epochs_features, epochs_patterns, read_epochs
from .sensors import sensor_adjacency, sensor_neighbourhoods
from .timecourse import TimecourseResult, timecourse

__all__ = [
    "timecourse",
    "TimecourseResult",
    "read_epochs",
    "epochs_features",
    "epochs_patterns",
    "sensor_neighbourhoods",
    "sensor_adjacency",
]
