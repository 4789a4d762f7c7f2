"""Call the reference MLEM, in its own environment, on data from a benchmark."""

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

RUNNER = Path(__file__).with_name("reference_runner.py")


def run_reference(python, X, Y, seed=0, interactions=False, continuous=False, precomputed=False):
    """Fit the reference MLEM through reference_runner.py, run by its environment's ``python``.

    Parameters
    ----------
    python : str
    X : array of shape (n_stimuli, n_features)
        0/1 features, or numeric ones with ``continuous``.
    Y : array of shape (n_stimuli, n_dims), or (n_stimuli, n_stimuli) with ``precomputed``
    seed : int
    interactions : bool
    continuous : bool
        ``X`` holds numeric features (else 0/1 categories).
    precomputed : bool
        ``Y`` holds neural distances; ``X`` numeric features.

    Returns
    -------
    output : dict
        ``metric``, ``importances``, ``fit_seconds``, ``importance_seconds`` (see
        reference_runner.py).
    wall_seconds : float
        The whole process, start-up and imports included.
    """
    with tempfile.TemporaryDirectory() as folder:
        data, output = Path(folder, "in.npz"), Path(folder, "out.npz")
        numeric = continuous or precomputed
        np.savez(data, X=np.asarray(X, dtype=float if numeric else int), Y=Y)
        command = [python, str(RUNNER), str(data), str(output), "--seed", str(seed)]
        flags = {
            "--interactions": interactions,
            "--continuous": continuous,
            "--precomputed": precomputed,
        }
        command += [flag for flag, wanted in flags.items() if wanted]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        wall = time.perf_counter() - started
        with np.load(output) as result:
            return {key: result[key] for key in result.files}, wall
