"""MLEM on MEG/EEG epochs and source estimates: time courses, spatio-temporal maps.

Reads :class:`mne.Epochs` (or ``-epo.fif`` files), takes features from the
metadata, a table or the "/" tags of event names, makes sensor types and
units comparable, and fits every time window (and sensor neighbourhood) in
one batched call of the core. Source estimates (``mne.SourceEstimate`` per
epoch) get a spatio-temporal searchlight of discs along the cortex, or labels.
"""

from .epochs import epochs_features, epochs_patterns, read_epochs
from .sensors import sensor_adjacency, sensor_neighbourhoods
from .source_timecourse import SourceTimecourseResult, source_timecourse
from .sources import SourceSpace, source_space
from .timecourse import TimecourseResult, timecourse

__all__ = [
    "timecourse",
    "TimecourseResult",
    "source_timecourse",
    "SourceTimecourseResult",
    "source_space",
    "SourceSpace",
    "read_epochs",
    "epochs_features",
    "epochs_patterns",
    "sensor_neighbourhoods",
    "sensor_adjacency",
]
