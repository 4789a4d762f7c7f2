"""Time rsatoolbox's searchlight with one fixed model RDM, on data saved by bench_searchlight.py.

Runs in a separate environment with rsatoolbox installed, never inside
mlem_neuro's own. Usage::

    python rsatoolbox_runner.py INPUT.npz RADIUS_VOXELS

INPUT.npz holds ``data`` (n_stimuli, n_mask_voxels), ``mask`` (3D bool) and
``model`` (n_stimuli * (n_stimuli - 1) / 2,) the model RDM. Prints the number
of searchlights and the seconds of each stage as JSON.
"""

import json
import sys
import time

import numpy as np
from rsatoolbox.inference import eval_fixed
from rsatoolbox.model import ModelFixed
from rsatoolbox.rdm import RDMs
from rsatoolbox.util.searchlight import (
    evaluate_models_searchlight,
    get_searchlight_RDMs,
    get_volume_searchlight,
)


def main():
    archive = np.load(sys.argv[1])
    radius = int(sys.argv[2])
    mask = archive["mask"].astype(bool)
    data = np.zeros((archive["data"].shape[0], mask.size))
    data[:, mask.ravel()] = archive["data"]
    events = np.arange(data.shape[0])
    started = time.perf_counter()
    centers, neighbors = get_volume_searchlight(mask, radius=radius, threshold=0.5)
    found = time.perf_counter()
    rdms = get_searchlight_RDMs(data, centers, neighbors, events, method="correlation")
    computed = time.perf_counter()
    model = ModelFixed("features", RDMs(archive["model"][None]))
    evaluate_models_searchlight(rdms, model, eval_fixed, method="spearman", n_jobs=2)
    evaluated = time.perf_counter()
    print(
        json.dumps(
            {
                "n_searchlights": len(centers),
                "spheres_s": found - started,
                "rdms_s": computed - found,
                "evaluation_s": evaluated - computed,
                "total_s": evaluated - started,
            }
        )
    )


if __name__ == "__main__":
    main()
