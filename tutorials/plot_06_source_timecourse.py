"""
When and where in the brain: MLEM on M/EEG source estimates
===========================================================

Sensor-space time courses say *when* a feature is encoded; source estimates can say
*where* too. This tutorial simulates EEG epochs whose sources in a patch of left
temporal cortex encode one feature between 200 and 300 ms, builds the forward model and
the inverse operator offline (nilearn's fsaverage5 surfaces, MNE's fsaverage head
transform and a spherical head), and runs a spatio-temporal searchlight in source
space: a disc of sources along the cortex around every source, in every 50 ms window.
Then the same question per label.
"""

# %%
import tempfile

import mne
import numpy as np

from mlem_neuro.datasets.sources import fsaverage5_subjects_dir, make_source_epochs
from mlem_neuro.meeg import source_timecourse
from mlem_neuro.meeg.inverse import EpochSourceEstimates
from mlem_neuro.meeg.source_plotting import plot_source_peak_map, plot_source_timecourse

subjects_dir = fsaverage5_subjects_dir(tempfile.mkdtemp())
epochs, inverse, planted = make_source_epochs(subjects_dir, n_epochs=60)
print(epochs)
print(inverse["src"])
print(f"{len(planted)} sources encode 'animate' from 200 to 300 ms")

# %%
# 1. Source estimates. ``EpochSourceEstimates`` runs MNE's
# ``apply_inverse_epochs`` (dSPM) a few epochs at a time; ``source_timecourse`` keeps
# each estimate as float32 as it arrives, so long recordings on dense source spaces
# need no float64 copy of everything at once. On the command line:
# ``mlem-neuro timecourse sim-epo.fif --metadata animate --inverse sim-inv.fif
# --source-radius 10 --window 0.05 --step 0.05 --out sources/``.
stcs = EpochSourceEstimates(epochs, inverse, method="dSPM")

# %%
# 2. The searchlight: the sources within 10 mm along the cortex (never across a
# sulcus) around every source, in 50 ms windows, 5-fold cross-validated. The source
# positions and the mesh beneath them come from the inverse's source space (``src``);
# for estimates morphed to fsaverage, nothing is needed.
result = source_timecourse(
    stcs,
    epochs.metadata[["animate"]],
    src=inverse["src"],
    radius=10.0,
    window=0.05,
    step=0.05,
    cv=5,
    random_state=0,
)
print(result.parameters["place_sources"])
print(result.peak())

# %%
# The score over time at the best source, and the mean over all sources:
plot_source_timecourse(result)

# %%
# The score at the peak time on the cortex. EEG cannot localise as sharply as the
# simulated patch, but the map peaks on the left temporal lobe and stays flat elsewhere.
plot_source_peak_map(result)

# %%
# ``to_stc`` gives an ``mne.SourceEstimate`` (one time point per window), for MNE's
# own plotting and morphing, and result folders keep them as ``score-lh.stc``...:
score = result.to_stc("score")
window = np.argmin(np.abs(score.times - 0.25))
left = score.data[: len(score.vertices[0]), window]
planted_score = left[np.isin(score.vertices[0], planted)].mean()
median = np.median(score.data[:, window])
print(f"{score.times[window] * 1000:.0f} ms: planted {planted_score:.2f}, median {median:.2f}")

# %%
# 3. Labels. With ``labels`` (``mne.Label`` objects, or an annotation's
# ``lh.``/``rh.`` files), each label is one unit per window. Here: the planted patch,
# and a patch of the same size on the right occipital lobe.
right = inverse["src"][1]
right = inverse["src"][1]
occipital = np.sort(right["vertno"][np.argsort(right["rr"][right["vertno"], 1])[: len(planted)]])
labels = [
    mne.Label(np.sort(planted), hemi="lh", name="planted-lh"),
    mne.Label(occipital, hemi="rh", name="occipital-rh"),
]
by_label = source_timecourse(
    EpochSourceEstimates(epochs, inverse),
    epochs.metadata[["animate"]],
    src=inverse["src"],
    labels=labels,
    window=0.05,
    step=0.05,
    cv=5,
    random_state=0,
)
print(by_label.to_dataframe().pivot(index="time", columns="label", values="score").round(2))
