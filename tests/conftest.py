import numpy as np
import pytest

from mlem_neuro.core.simulation import make_metric_data


@pytest.fixture(scope="session")
def diagonal_data():
    """Binary features with a known diagonal metric, little noise."""
    return make_metric_data(n_stimuli=120, n_features=4, n_dims=12, noise=0.15, random_state=0)


@pytest.fixture(scope="session")
def interaction_data():
    """Binary features with two XOR interactions (negative off-diagonal truth)."""
    return make_metric_data(
        n_stimuli=160, n_features=4, n_interactions=2, n_dims=12, noise=0.1, random_state=1
    )


@pytest.fixture(scope="session")
def planted_units():
    """30 units of 7 columns; only units 0-9 carry the feature geometry."""
    features, latent, _ = make_metric_data(
        n_stimuli=60, n_features=3, n_dims=7, noise=0.2, random_state=2
    )
    rng = np.random.default_rng(3)
    blocks = [latent if unit < 10 else rng.standard_normal(latent.shape) for unit in range(30)]
    Y = np.concatenate(blocks, axis=1)
    units = [np.arange(unit * 7, (unit + 1) * 7) for unit in range(30)]
    return features, Y, units
