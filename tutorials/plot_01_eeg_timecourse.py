"""
When does EEG geometry encode modality? Time-resolved MLEM on real data
=======================================================================

The bundled MNE "sample" EEG has 288 epochs of 4 conditions: auditory or visual
stimuli, on the left or the right. We ask, for every 20 ms window, whether the geometry
of the 10-channel EEG patterns reflects the stimulus *modality* and *side*, and how
strongly.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from mlem_neuro import MLEM, fit_units
from mlem_neuro.datasets import load_eeg_sample
from mlem_neuro.demo import sliding_window_units

eeg = load_eeg_sample()
n_epochs, n_channels, n_times = eeg.data.shape
features = eeg.metadata[["modality", "side"]]
print(eeg.data.shape, features.value_counts())

# %%
# One window first: the 3 samples around 260 ms, all channels (30 numbers per epoch).
# Fit on 4/5 of the epochs, score on the rest.
window = np.abs(eeg.times - 0.26).argmin()
Y = eeg.data[:, :, window - 1 : window + 2].reshape(n_epochs, -1)
rng = np.random.default_rng(0)
test = rng.permutation(n_epochs)[: n_epochs // 5]
train = np.setdiff1d(np.arange(n_epochs), test)
model = MLEM(random_state=0).fit(features.iloc[train], Y[train])
print(model.metric_.round(3))
print("held-out score:", round(model.score(features.iloc[test], Y[test]), 3))
print(model.permutation_importance(features.iloc[test], Y[test]).mean().round(3))

# %%
# Now every window at once. The units are sliding windows over the flattened
# channel x time patterns; ``fit_units`` fits all 91 of them together, with 5-fold
# cross-validation over epochs (pairs never straddle train and test epochs).
units = sliding_window_units(n_channels, n_times, half_width=1)
results = fit_units(features, eeg.data.reshape(n_epochs, -1), units, cv=5, random_state=0)
table = results.to_dataframe()
table.insert(0, "time", eeg.times)
print(table.iloc[::10].round(3))

# %%
figure, axes = plt.subplots(2, 1, sharex=True, figsize=(7, 5), constrained_layout=True)
axes[0].plot(table["time"], table["score"], color="black")
axes[0].set_ylabel("held-out Spearman")
axes[1].plot(table["time"], table["importance_modality"], label="modality")
axes[1].plot(table["time"], table["importance_side"], label="side")
axes[1].set_ylabel("importance")
axes[1].set_xlabel("time (s)")
axes[1].legend()
for axis in axes:
    axis.axhline(0, color="grey", linewidth=0.5)

# %%
# What we find, honestly: the effect is weak, as expected from 10 frontal channels
# (linear decoding of modality reaches only about 0.65 accuracy here). Modality shapes
# the geometry after the stimulus, with peaks near 100 ms, 190 ms and 260 ms (held-out
# Spearman about 0.08 at best); side stays at zero throughout, and the pre-stimulus
# baseline hovers around zero. Whether these bumps are significant is a question for
# permutation statistics, not for this plot.
