"""M/EEG benchmarks: planted effect, speed of time courses, generalisation, sensor searchlight.

Data: simulated epochs (300 epochs, 4 binary features planted between 200 and
300 ms on random sensor patterns, Gaussian sensor noise). Every run uses the
public :func:`mlem_neuro.meeg.timecourse` with its defaults (5-fold CV,
permutation importance with 5 repeats).

- ``time``: 60 EEG channels x 150 samples, one unit per sample; the baseline
  is the reference MLEM looped over a few time points in its own environment
  (``--reference-python``), extrapolated to 150.
- ``generalization``: the same with the 150 x 150 generalisation matrix.
- ``spatial``: 306 MEG-like sensors (102 sites x 1 magnetometer + 2
  gradiometers on a helmet-shaped half sphere), 104 samples, 20 ms windows
  stepped by one sample (100 windows), neighbourhoods of 4 cm radius: 30,600
  units. ``--spatial-windows`` fits only the first windows (a CPU baseline).
- ``planted``: real EEG noise (bundled sample, conditions shuffled) with one
  feature planted in 200-300 ms: peak time and importance in and out of the
  window.

Usage::

    python benchmarks/bench_meeg.py time generalization [--reference-python PY]
    python benchmarks/bench_meeg.py spatial --device cuda [--spatial-windows N]
    python benchmarks/bench_meeg.py planted
"""

import argparse
import sys
import time
import warnings

import mne
import numpy as np
import pandas as pd
import torch
from memory import PeakMemory
from reference import run_reference

from mlem_neuro.meeg import sensor_neighbourhoods, timecourse


def simulated_epochs(info, n_epochs, n_times, sfreq, seed=0):
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        rng.integers(0, 2, (n_epochs, 4)), columns=[f"f{index}" for index in range(4)]
    )
    times = np.arange(n_times) / sfreq - 0.1
    data = rng.standard_normal((n_epochs, len(info["ch_names"]), n_times))
    window = (times >= 0.2) & (times <= 0.3)
    for index, column in enumerate(features.columns):
        pattern = rng.standard_normal(len(info["ch_names"])) * (0.1 + 0.05 * index)
        data[:, :, window] += (features[column].to_numpy() - 0.5)[:, None, None] * pattern[
            None, :, None
        ]
    scales = np.where(np.array(info.get_channel_types()) == "grad", 1e-11, 1e-13)
    if "eeg" in info.get_channel_types():
        scales = np.full(len(info["ch_names"]), 1e-6)
    data *= scales[None, :, None]
    return mne.EpochsArray(data, info, tmin=-0.1, metadata=features, verbose="error")


def eeg_info(sfreq):
    montage = mne.channels.make_standard_montage("standard_1005")
    names = montage.ch_names[::5][:60]
    info = mne.create_info(names, sfreq, "eeg")
    return info.set_montage(montage, on_missing="ignore")


def meg_info(sfreq):
    """Neuromag-like info: 102 sites on a 10 cm half sphere, 1 magnetometer + 2 gradiometers."""
    golden = np.pi * (3 - np.sqrt(5))
    index = np.arange(102)
    z = 1 - index / 101  # upper half sphere
    ring = np.sqrt(1 - z**2)
    sites = 0.1 * np.column_stack([ring * np.cos(golden * index), ring * np.sin(golden * index), z])
    names, types, positions = [], [], []
    for site, position in enumerate(sites):
        for suffix, kind in (("1", "mag"), ("2", "grad"), ("3", "grad")):
            names.append(f"MEG{site:03d}{suffix}")
            types.append(kind)
            positions.append(position)
    info = mne.create_info(names, sfreq, types)
    with info._unlock():
        for channel, position in zip(info["chs"], positions):
            channel["loc"][:3] = position
    return info


def time_resolved(args, generalize):
    epochs = simulated_epochs(eeg_info(250.0), 300, 150, 250.0)
    label = "generalization" if generalize else "time"
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = timecourse(
            epochs,
            list(epochs.metadata.columns),
            generalize=generalize,
            device=args.device,
            random_state=0,
        )
        seconds = time.perf_counter() - started
    table = result.to_dataframe()
    peak = table.loc[table["score"].idxmax(), "time"]
    print(
        f"{label}: 300 epochs x 60 channels x 150 samples, 4 features, {len(table)} units: "
        f"{seconds:.1f} s on {args.device}, peak +{memory.extra_mib:.0f} MiB; "
        f"peak score {table['score'].max():.3f} at {peak * 1000:.0f} ms"
    )
    if generalize:
        matrix = result.generalization
        inside = (result.times >= 0.2) & (result.times <= 0.3)
        print(
            f"  generalisation {matrix.shape}: mean inside x inside "
            f"{matrix[np.ix_(inside, inside)].mean():.3f}, outside "
            f"{matrix[np.ix_(~inside, ~inside)].mean():.3f}"
        )
    elif args.reference_python:
        reference_loop(args, epochs, seconds)


def reference_loop(args, epochs, ours):
    """Loop the reference MLEM over a few time points (one fit + importance each)."""
    data = epochs.get_data()
    points = np.linspace(60, 110, args.reference_points).astype(int)
    per_point = []
    for point in points:
        output, wall = run_reference(
            args.reference_python, epochs.metadata.to_numpy(), data[:, :, point] / 1e-6
        )
        per_point.append(float(output["fit_seconds"] + output["importance_seconds"]))
        print(
            f"  reference at sample {point}: fit {float(output['fit_seconds']):.1f} s + "
            f"importance {float(output['importance_seconds']):.1f} s (process {wall:.1f} s)"
        )
    estimate = np.mean(per_point) * 150
    print(
        f"  reference looped over 150 time points (fit + importance, no CV, extrapolated from "
        f"{len(points)}): {estimate:.0f} s; ratio reference / mlem_neuro: {estimate / ours:.1f}"
    )


def spatial(args):
    sfreq = 250.0
    epochs = simulated_epochs(meg_info(sfreq), 300, 104, sfreq)
    if args.spatial_windows:
        epochs = epochs.crop(tmax=epochs.times[args.spatial_windows + 3])
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = timecourse(
            epochs,
            list(epochs.metadata.columns),
            window=0.02,
            spatial=0.04,
            device=args.device,
            random_state=0,
            verbose=args.verbose,
        )
        seconds = time.perf_counter() - started
    n_units = len(result.results.scores)
    sizes = [len(unit) for unit in sensor_neighbourhoods(epochs.info, radius=0.04)]
    print(
        f"spatial: 306 sensors x {len(result.times)} windows = {n_units} units, 300 epochs: "
        f"{seconds:.1f} s on {args.device} ({seconds / n_units * 1000:.2f} ms per unit), "
        f"peak +{memory.extra_mib:.0f} MiB host; max steps {result.results.info['max_steps_run']}"
        f"; {min(sizes)}-{max(sizes)} sensors per neighbourhood"
    )
    if torch.cuda.is_available() and args.device.startswith("cuda"):
        print(f"  GPU peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


def planted(args):
    from mlem_neuro.datasets import load_eeg_sample

    sample = load_eeg_sample().to_epochs()
    rng = np.random.default_rng(0)
    data = sample.get_data()[rng.permutation(len(sample))]
    metadata = pd.DataFrame({"planted": rng.integers(0, 2, len(data))})
    metadata["unrelated"] = rng.integers(0, 2, len(data))
    window = (sample.times >= 0.2) & (sample.times <= 0.3)
    noise = data[..., sample.times < 0].std()
    pattern = rng.standard_normal(data.shape[1])
    for strength in (0.5, 1.0, 1.5):
        planted_data = data.copy()
        planted_data[:, :, window] += (
            strength
            * noise
            * (metadata["planted"].to_numpy() - 0.5)[:, None, None]
            * pattern[None, :, None]
        )
        epochs = mne.EpochsArray(
            planted_data, sample.info, tmin=sample.tmin, metadata=metadata, verbose="error"
        )
        table = timecourse(
            epochs, ["planted", "unrelated"], window=0.02, random_state=0
        ).to_dataframe()
        inside = (table["time"] >= 0.2) & (table["time"] <= 0.3)
        peak = table.loc[table["score"].idxmax(), "time"]
        print(
            f"planted strength {strength} x noise SD: peak at {peak * 1000:.0f} ms; importance "
            f"planted inside {table['importance_planted'][inside].mean():.3f}, outside "
            f"{table['importance_planted'][~inside].mean():.4f} (max |.| "
            f"{table['importance_planted'][~inside].abs().max():.3f}); unrelated max |.| "
            f"{table['importance_unrelated'].abs().max():.3f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "cases", nargs="+", choices=["time", "generalization", "spatial", "planted"]
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference-python", default=None)
    parser.add_argument("--reference-points", type=int, default=3)
    parser.add_argument("--spatial-windows", type=int, default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)
    mne.set_log_level("ERROR")
    for case in args.cases:
        if case == "spatial":
            spatial(args)
        elif case == "planted":
            planted(args)
        else:
            time_resolved(args, generalize=case == "generalization")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
