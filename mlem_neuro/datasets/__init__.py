"""Small real recordings shipped with the package, for tests, tutorials and the demo.

Each loader reads a compact copy derived from public data by
``scripts/make_bundled_data.py``; see the README for credits and licences.
"""

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "EEGSample",
    "HaxbySample",
    "haxby_features",
    "load_eeg_sample",
    "load_haxby",
    "write_haxby",
    "write_eeg_sample",
]


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

    def to_epochs(self):
        """The same data as :class:`mne.EpochsArray`.

        Event names are the conditions ("audio/left"...), so "/" tags give
        modality and side; ``metadata`` is attached. The channels have no
        positions (the source table carries none).

        Returns
        -------
        mne.EpochsArray
        """
        import mne

        info = mne.create_info(self.ch_names, self.sfreq, "eeg")
        event_id = {
            name: code for code, name in enumerate(sorted(set(self.metadata["condition"])), 1)
        }
        codes = self.metadata["condition"].map(event_id).to_numpy()
        events = np.column_stack(
            [np.arange(len(codes)) * len(self.times), np.zeros_like(codes), codes]
        )
        return mne.EpochsArray(
            self.data,
            info,
            events=events,
            tmin=self.times[0],
            event_id=event_id,
            metadata=self.metadata,
            verbose="error",
        )


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


@dataclass(frozen=True)
class HaxbySample:
    """Paths to the bundled Haxby et al. (2001) fMRI data, subject 1, 25 mm voxels.

    Attributes
    ----------
    bold : list of 12 Path
        4D BOLD runs, shape (6, 10, 10, 121) each.
    events : list of 12 Path
        BIDS-style events TSVs (onset, duration, trial_type), 8 blocks per run.
    mask_brain, mask_vt : Path
        Whole-brain and ventral-temporal masks.
    t_r : float
        Repetition time, 2.5 s.
    """

    bold: list
    events: list
    mask_brain: object
    mask_vt: object
    t_r: float = 2.5


def load_haxby():
    """Paths to the bundled Haxby fMRI runs, events and masks.

    Known effect: object categories (faces against houses above all) are
    separable in ventral temporal cortex (leave-one-run-out linear decoding of
    face against house scores about 0.9 here).

    Returns
    -------
    HaxbySample
    """
    folder = resources.files(__name__).joinpath("data/haxby")
    return HaxbySample(
        bold=[folder.joinpath(f"run{run:02d}_bold.nii.gz") for run in range(1, 13)],
        events=[folder.joinpath(f"run{run:02d}_events.tsv") for run in range(1, 13)],
        mask_brain=folder.joinpath("mask_brain.nii.gz"),
        mask_vt=folder.joinpath("mask_vt.nii.gz"),
    )


#: Feature coding of the 8 Haxby categories used in the demo and tutorial.
HAXBY_CATEGORY_FEATURES = pd.DataFrame(
    {
        # living things
        "animate": [False, False, True, False, False, False, False, True],
        # human faces, the category with its own cortical patch (FFA)
        "face": [False, False, False, False, False, False, False, True],
        # intact pictures of artefacts (tools, furniture, buildings)
        "manmade": [True, False, False, True, True, True, True, False],
        # large real-world size (navigation-relevant objects)
        "large": [True, False, False, False, False, False, True, False],
    },
    index=pd.Index(
        ["house", "scrambledpix", "cat", "shoe", "bottle", "scissors", "chair", "face"],
        name="trial_type",
    ),
)


def haxby_features(trial_types):
    """Features of each stimulus from its category.

    Parameters
    ----------
    trial_types : sequence of str
        Category of each stimulus (house, scrambledpix, cat, shoe, bottle,
        scissors, chair, face).

    Returns
    -------
    DataFrame of shape (n_stimuli, 4)
        Boolean columns animate, face, manmade, large. Scrambled pictures are
        False on every feature: the low-level control.
    """
    trial_types = pd.Index(trial_types)
    unknown = trial_types.difference(HAXBY_CATEGORY_FEATURES.index)
    if len(unknown):
        raise ValueError(
            f"Unknown Haxby categories {sorted(unknown)}; expected "
            f"{sorted(HAXBY_CATEGORY_FEATURES.index)}."
        )
    return HAXBY_CATEGORY_FEATURES.loc[trial_types].reset_index(drop=True)


def write_haxby(out_dir, *, overwrite=False):
    """Write the bundled Haxby data as files a command-line user would have.

    Parameters
    ----------
    out_dir : str, Path or ResultFolder
        Receives ``run01_bold.nii.gz`` ... ``run12_bold.nii.gz`` (4D BOLD, TR
        2.5 s in the headers), ``run01_events.tsv`` ... (BIDS events),
        ``categories.csv`` (the feature coding of the 8 categories, keyed by
        trial_type), ``mask_brain.nii.gz``, ``mask_vt.nii.gz`` and
        ``roi_vt.nii.gz`` (the ventral temporal voxel and its in-brain
        neighbours, the demo's ROI).
    overwrite : bool

    Returns
    -------
    Path
    """
    import shutil

    import nibabel as nib
    from scipy.ndimage import binary_dilation

    from ..outputs import open_result_folder

    haxby = load_haxby()
    with open_result_folder(out_dir, "dataset", overwrite=overwrite) as folder:
        for path in [*haxby.bold, *haxby.events, haxby.mask_brain, haxby.mask_vt]:
            with resources.as_file(path) as source:
                shutil.copyfile(source, folder.file(path.name))
        HAXBY_CATEGORY_FEATURES.reset_index().to_csv(folder.file("categories.csv"), index=False)
        brain = nib.load(folder.file("mask_brain.nii.gz"))
        vt = np.asarray(nib.load(folder.file("mask_vt.nii.gz")).dataobj) > 0
        roi = binary_dilation(vt) & (np.asarray(brain.dataobj) > 0)
        folder.write_map("roi_vt", nib.Nifti1Image(roi.astype(np.uint8), brain.affine))
        folder.update_summary(
            dataset="Haxby et al. (2001), subject 1, 12 runs at 25 mm (PyMVPA 2.6.5, MIT)",
            t_r=haxby.t_r,
        )
    return folder.path


def write_eeg_sample(out_dir, *, overwrite=False):
    """Write the bundled EEG as an MNE epochs file with its metadata.

    Parameters
    ----------
    out_dir : str, Path or ResultFolder
        Receives ``sample-epo.fif``: 288 epochs, 10 channels, metadata
        columns condition, modality and side.
    overwrite : bool

    Returns
    -------
    Path
    """
    from ..outputs import open_result_folder

    with open_result_folder(out_dir, "dataset", overwrite=overwrite) as folder:
        epochs = load_eeg_sample().to_epochs()
        epochs.save(folder.file("sample-epo.fif"), verbose="error")
        folder.update_summary(
            dataset="MNE sample EEG, 288 epochs, 10 frontal channels, 150 Hz (neurokit2, MIT)"
        )
    return folder.path
