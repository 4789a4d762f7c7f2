import numpy as np
import torch
import torch.nn.functional as F

from mlem_neuro.core.start import pearson_start


def test_pearson_start_is_weighted_least_squares_on_the_expanded_pairs():
    rng = np.random.default_rng(0)
    group_terms = rng.integers(0, 2, (16, 3)).astype(float)
    counts = rng.integers(1, 6, 16)
    true_weights = np.array([[2.0, 1.0, 0.5], [1.0, -1.0, 3.0]])
    pairs = np.repeat(group_terms, counts, axis=0)
    ranks = pairs @ true_weights.T + 0.1 * rng.standard_normal((len(pairs), 2))
    standardised = ranks - ranks.mean(axis=0)
    standardised /= np.linalg.norm(standardised, axis=0)
    group_of_pair = np.repeat(np.arange(16), counts)
    targets = np.stack([np.bincount(group_of_pair, weights=column) for column in standardised.T])

    parameters = pearson_start(
        torch.from_numpy(group_terms), torch.from_numpy(counts), torch.from_numpy(targets)
    )
    weights = F.softplus(parameters).numpy()

    design = np.column_stack([pairs, np.ones(len(pairs))])
    for unit in range(2):
        expected = np.linalg.lstsq(design, standardised[:, unit], rcond=None)[0][:3]
        expected = np.maximum(expected / expected.max(), 0.05)  # negative weights floored
        np.testing.assert_allclose(weights[unit], expected, rtol=1e-5)  # ridge 1e-6
    assert np.isclose(weights[1, 1], 0.05)
