"""The CUDA path gives the CPU's answers (run where a GPU is present; skipped elsewhere)."""

import numpy as np
import pytest
import torch

from mlem_neuro import fit_units
from mlem_neuro.core.simulation import make_metric_data

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_cuda_fit_matches_cpu_on_planted_units(planted_units):
    features, Y, units = planted_units
    cpu = fit_units(features, Y, units, cv=3, random_state=0)
    cuda = fit_units(features, Y, units, cv=3, random_state=0, device="cuda")
    assert cuda.info["device"].startswith("cuda")
    np.testing.assert_allclose(cuda.scores, cpu.scores, atol=0.02)
    np.testing.assert_allclose(cuda.metrics, cpu.metrics, atol=0.05)
    assert cuda.scores[:10].min() > cuda.scores[10:].max()


def test_cuda_sampled_mode_and_interactions():
    features, Y, truth = make_metric_data(
        n_stimuli=150, n_features=4, n_interactions=1, n_dims=12, noise=0.1, random_state=4
    )
    features = features + np.random.default_rng(0).normal(0, 0.3, features.shape)
    cpu = fit_units(features, Y, interactions=True, random_state=0)
    cuda = fit_units(features, Y, interactions=True, random_state=0, device="cuda")
    np.testing.assert_allclose(cuda.scores, cpu.scores, atol=0.02)


def test_cuda_timecourse_with_generalization():
    from mlem_neuro.datasets import load_eeg_sample
    from mlem_neuro.meeg import timecourse

    epochs = load_eeg_sample().to_epochs()
    options = dict(tag_names=["modality", "side"], window=0.05, step=0.05, generalize=True)
    cpu = timecourse(epochs, random_state=0, **options)
    cuda = timecourse(epochs, random_state=0, device="cuda", **options)
    np.testing.assert_allclose(cuda.generalization, cpu.generalization, atol=0.02)
