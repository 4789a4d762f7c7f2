"""Read the result folders the commands write, for group tests across subjects."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_result_folders"]

KINDS = {
    "searchlight": "score.nii.gz",
    "timecourse": "timecourse.tsv",
    "layers": "layers.tsv",
}


def _kind(folder):
    found = [kind for kind, name in KINDS.items() if (folder / name).exists()]
    if not found:
        raise FileNotFoundError(
            f"{folder} holds no result: expected one of {sorted(KINDS.values())} (the outputs "
            "of mlem-neuro searchlight, timecourse or layers)."
        )
    return found[0]


def read_result_folders(folders, measure="score"):
    """Load one measure from several subjects' result folders, checked for consistency.

    Parameters
    ----------
    folders : list of str or Path
        Output folders of ``mlem-neuro searchlight``, ``timecourse`` or
        ``layers`` (all of one kind).
    measure : str
        "score" or "importance_<term>".

    Returns
    -------
    kind : {"searchlight", "timecourse", "layers"}
    data : list of Nifti1Image (searchlight) or array
        Time courses: (n_subjects, n_times) or (n_subjects, n_times,
        n_channels); layers: (n_subjects, n_layers).
    axis : dict
        "times", "ch_names" and "info" (spatial time courses) or "layers".
    """
    import nibabel as nib

    folders = [Path(folder) for folder in folders]
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"result folder not found: {folder}")
    kinds = [_kind(folder) for folder in folders]
    if len(set(kinds)) > 1:
        raise ValueError(
            "Results of different kinds cannot be mixed in one group test: "
            + ", ".join(f"{folder} is {kind}" for folder, kind in zip(folders, kinds))
        )
    kind = kinds[0]
    features = [_features(folder) for folder in folders]
    for folder, names in zip(folders[1:], features[1:]):
        if names != features[0]:
            raise ValueError(
                f"{folder} has features {names} but {folders[0]} has {features[0]}; a group "
                "test needs the same feature set in every result."
            )
    if kind == "searchlight":
        file = "score.nii.gz" if measure == "score" else f"{measure}.nii.gz"
        paths = [folder / file for folder in folders]
        for path in paths:
            if not path.exists():
                raise FileNotFoundError(f"{path} not found (measure={measure!r}).")
        return kind, [nib.load(path) for path in paths], {}
    name = KINDS[kind]
    tables = [pd.read_csv(folder / name, sep="\t") for folder in folders]
    for folder, table in zip(folders, tables):
        if measure not in table.columns:
            raise ValueError(
                f"{folder / name} has no column {measure!r} (columns: {list(table.columns)})."
            )
    if kind == "layers":
        _check_same(folders, [table["layer"].to_numpy() for table in tables], "layers")
        return (
            kind,
            np.stack([table[measure].to_numpy() for table in tables]),
            {"layers": tables[0]["layer"].to_numpy()},
        )
    if "channel" in tables[0].columns:
        grids = [table.pivot(index="time", columns="channel", values=measure) for table in tables]
        _check_same(folders, [grid.index.to_numpy() for grid in grids], "time points")
        _check_same(folders, [grid.columns.to_numpy() for grid in grids], "channels")
        import mne

        info = mne.io.read_info(folders[0] / "sensors-info.fif", verbose="error")
        if set(grids[0].columns) != set(info["ch_names"]):
            raise ValueError(f"{folders[0]}: sensors-info.fif does not match timecourse.tsv.")
        grids = [grid[info["ch_names"]] for grid in grids]
        return (
            kind,
            np.stack([grid.to_numpy() for grid in grids]),
            {
                "times": grids[0].index.to_numpy(),
                "ch_names": list(grids[0].columns),
                "info": info,
            },
        )
    _check_same(folders, [table["time"].to_numpy() for table in tables], "time points")
    return (
        kind,
        np.stack([table[measure].to_numpy() for table in tables]),
        {"times": tables[0]["time"].to_numpy()},
    )


def _features(folder):
    path = folder / "summary.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: result folders carry their summary.json.")
    return json.loads(path.read_text()).get("features")


def _check_same(folders, arrays, what):
    for folder, array in zip(folders[1:], arrays[1:]):
        if len(array) != len(arrays[0]) or not np.array_equal(array, arrays[0]):
            raise ValueError(f"{folder} has different {what} from {folders[0]}.")
