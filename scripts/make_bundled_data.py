"""Derive the compact copies of the real sample data shipped inside the package.

Run from the repository root with the shared data beside it::

    python scripts/make_bundled_data.py ../shared/data

Writes mlem_neuro/datasets/data/eeg_sample.npz from
eeg-sample/epochs.csv.gz (MNE "sample" EEG, via neurokit2, MIT licence), and
mlem_neuro/datasets/data/haxby/ from haxby2001/ (Haxby et al. 2001, subject 1,
via PyMVPA, MIT licence): the 12 BOLD runs at 25 mm, BIDS-style events tables
built from the onset files, and the brain and ventral-temporal masks.
"""

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

OUTPUT = Path(__file__).resolve().parents[1] / "mlem_neuro" / "datasets" / "data"


def make_eeg_sample(shared):
    """Epochs as (n_epochs, n_channels, n_times) float32 volts, with times and conditions."""
    table = pd.read_csv(shared / "eeg-sample" / "epochs.csv.gz")
    channels = [column for column in table.columns if column.startswith("EEG")]
    table = table.sort_values(["Label", "Time"])
    epochs = table["Label"].unique()
    n_times = table.groupby("Label").size().unique()
    if len(n_times) != 1:
        raise ValueError(f"Epochs have different lengths: {n_times}")
    data = table[channels].to_numpy(np.float32).reshape(len(epochs), n_times[0], len(channels))
    first = table[table["Label"] == epochs[0]]
    conditions = table.groupby("Label", sort=True)["Condition"].first().to_numpy(str)
    np.savez_compressed(
        OUTPUT / "eeg_sample.npz",
        data=data.transpose(0, 2, 1),  # (n_epochs, n_channels, n_times), volts
        times=first["Time"].to_numpy(np.float64),
        ch_names=np.array(channels),
        conditions=conditions,
    )


def make_haxby(shared):
    """Copy the 25 mm runs and masks; turn condNNN onset files into events TSVs."""
    source = shared / "haxby2001"
    target = OUTPUT / "haxby"
    target.mkdir(exist_ok=True)
    names = [
        line.split()[2]
        for line in (source / "models/model001/condition_key.txt").read_text().splitlines()
        if line.strip()
    ]
    runs = sorted((source / "sub001/BOLD").glob("task001_run*"))
    for number, run in enumerate(runs, start=1):
        shutil.copyfile(run / "bold_25mm.nii.gz", target / f"run{number:02d}_bold.nii.gz")
        rows = []
        for index, name in enumerate(names, start=1):
            onsets = source / f"sub001/model/model001/onsets/{run.name}/cond{index:03d}.txt"
            if not onsets.exists():
                continue
            for onset, duration, _ in np.loadtxt(onsets, ndmin=2):
                rows.append({"onset": onset, "duration": duration, "trial_type": name})
        events = pd.DataFrame(rows).sort_values("onset")
        events.to_csv(target / f"run{number:02d}_events.tsv", sep="\t", index=False)
    for mask in ("brain", "vt"):
        shutil.copyfile(source / f"sub001/masks/25mm/{mask}.nii.gz", target / f"mask_{mask}.nii.gz")
    shutil.copyfile(source / "COPYING", target / "COPYING")


def main():
    """Parse the shared data folder and write every bundled file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("shared_data", type=Path)
    args = parser.parse_args()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    make_eeg_sample(args.shared_data)
    make_haxby(args.shared_data)


if __name__ == "__main__":
    main()
