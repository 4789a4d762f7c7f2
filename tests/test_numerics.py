"""Numbers that depend on the data, the settings and the seed only."""

import numpy as np
import pandas as pd
import pytest
import torch

from mlem_neuro import fit_units
from mlem_neuro.core.distances import unit_pair_distances
from mlem_neuro.core.features import FeatureEncoder
from mlem_neuro.core.options import FitOptions, make_generator
from mlem_neuro.core.permutation import permutation_orders
from mlem_neuro.core.problem import Problem
from mlem_neuro.core.ranking import standardise_rows


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_constant_unit_scores_nan_at_any_number_of_pairs(dtype):
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": rng.integers(0, 2, 210), "b": rng.integers(0, 3, 210)})
    Y = rng.standard_normal((210, 8))
    Y[:, 4:] = 0.3  # 21,945 pairs at one distance
    with pytest.warns(UserWarning, match=r"1 unit\(s\) have the same neural distance"):
        results = fit_units(
            features, Y, [np.arange(4), np.arange(4, 8)], dtype=dtype, n_repeats=1, random_state=0
        )
    assert np.isfinite(results.scores[0]) and np.isnan(results.scores[1])
    assert results.importances.iloc[1].isna().all()


def test_standardised_rows_of_equal_values_are_zero_in_float32():
    rows = torch.full((2, 30_000), 15000.5, dtype=torch.float32)
    rows[1] = torch.arange(30_000, dtype=torch.float32)
    standard = standardise_rows(rows)
    assert (standard[0] == 0).all()
    assert standard[1].norm() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("distance", ["correlation", "cosine"])
def test_a_stimulus_without_a_direction_makes_correlation_and_cosine_undefined(distance):
    patterns = torch.randn(2, 5, 4, dtype=torch.float64)
    patterns[1, 2] = 0.0 if distance == "cosine" else 7.0
    first, second = torch.triu_indices(5, 5, offset=1)
    mask = torch.ones(2, 4, dtype=torch.bool)
    distances = unit_pair_distances(patterns, mask, first, second, distance, all_pairs=True)
    assert torch.isfinite(distances[0]).all()
    assert torch.isnan(distances[1]).all()

    rng = np.random.default_rng(1)
    features = pd.DataFrame({"a": np.tile([0, 1], 15), "b": np.repeat([0, 1, 2], 10)})
    Y = rng.standard_normal((30, 10))
    Y[3, 5:] = 0.0 if distance == "cosine" else 2.0
    with pytest.warns(UserWarning, match=rf"1 unit\(s\) .* {distance} distance .* unit 1"):
        results = fit_units(
            features, Y, [np.arange(5), np.arange(5, 10)], distance=distance, random_state=0
        )
    assert np.isfinite(results.scores[0]) and np.isnan(results.scores[1])


def test_euclidean_distances_of_near_duplicates_keep_their_order():
    rng = np.random.default_rng(2)
    centre = rng.standard_normal(50) * 100
    spread = rng.standard_normal((20, 50)) * 1e-3 * np.linspace(1, 3, 20)[:, None]
    patterns = torch.from_numpy(centre + spread)[None].float()
    first, second = torch.triu_indices(20, 20, offset=1)
    mask = torch.ones(1, 50, dtype=torch.bool)
    distances = unit_pair_distances(patterns, mask, first, second, "euclidean", all_pairs=True)
    exact = np.linalg.norm(spread[first] - spread[second], axis=1)
    from scipy.stats import spearmanr

    assert spearmanr(distances[0].numpy(), exact)[0] > 0.999


def feature_distances(features, dtype=torch.float64):
    options = FitOptions(dtype="float64")
    problem = Problem.build(
        features, np.zeros((len(features), 2)), None, options, make_generator(0)
    )
    return problem.feature_distances.to(dtype)


def test_equal_raw_differences_give_equal_feature_distances():
    levels = pd.DataFrame({"level": np.arange(10)})
    for dtype in (torch.float32, torch.float64):
        distances = feature_distances(levels, dtype)[:, 0]
        assert len(torch.unique(distances)) == 9
    np.testing.assert_allclose(
        torch.unique(feature_distances(levels)).numpy(), np.arange(1, 10) / 9
    )


def test_ordered_categoricals_use_their_order_and_others_are_refused_when_mixed():
    size = pd.Categorical(["small", "large", "medium", "small"], ["small", "medium", "large"], True)
    table = pd.DataFrame({"size": size})
    distances = feature_distances(table)[:, 0].numpy()
    # Pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3): small-large, small-medium, ...
    np.testing.assert_allclose(distances, [1, 0.5, 0, 0.5, 1, 0.5])
    encoder = FeatureEncoder().fit(table)
    assert encoder.describe()[0]["kind"] == "ordinal"
    shuffled = pd.DataFrame({"size": pd.Categorical(["small"], ["large", "medium", "small"], True)})
    with pytest.raises(TypeError, match="'size' was ordinal .* categories"):
        encoder.transform(shuffled)


def chunked_fits(features, Y, units, **settings):
    """The same fit with chunks of 1 unit, 7 units and the default, and with permutations."""
    fits = [fit_units(features, Y, units, units_per_chunk=k, **settings) for k in (1, 7, None)]
    orders = permutation_orders(len(Y), 4, random_state=5)[1:]
    fits.append(fit_units(features, Y, units, units_per_chunk=7, permutations=orders, **settings))
    return fits


def assert_same_results(fits, atol):
    for other in fits[1:]:
        np.testing.assert_allclose(other.scores, fits[0].scores, atol=atol)
        np.testing.assert_allclose(other.importances, fits[0].importances, atol=atol)
        np.testing.assert_allclose(other.metrics, fits[0].metrics, atol=atol)


@pytest.mark.parametrize("dtype, atol", [("float64", 1e-9), ("float32", 2e-5)])
def test_grouped_results_do_not_depend_on_chunks_or_permutations(planted_units, dtype, atol):
    features, Y, units = planted_units
    units = units[6:18]  # 4 planted units and 8 noise units
    fits = chunked_fits(features, Y, units, cv=3, n_repeats=3, dtype=dtype, random_state=0)
    assert fits[0].info["training"].startswith("exact")
    assert_same_results(fits, atol)


def test_sampled_results_do_not_depend_on_chunks_or_permutations():
    rng = np.random.default_rng(3)
    features = pd.DataFrame(rng.uniform(size=(90, 3)), columns=["a", "b", "c"])
    latent = features.to_numpy() * [1.0, 0.5, 0.0]
    Y = np.concatenate([latent + 0.3 * rng.standard_normal((90, 3)) for _ in range(12)], axis=1)
    units = [np.arange(unit * 3, unit * 3 + 3) for unit in range(12)]
    fits = chunked_fits(
        features,
        Y,
        units,
        cv=2,
        n_repeats=2,
        dtype="float64",
        max_steps=60,
        pairs_per_batch=300,
        random_state=0,
    )
    assert fits[0].info["training"].startswith("sampled")
    assert_same_results(fits, 1e-9)


def test_the_closed_form_start_of_extra_terms_is_the_least_squares_optimum():
    from mlem_neuro.core.metric import TermLayout
    from mlem_neuro.core.start import closed_form_start

    rng = np.random.default_rng(4)
    layout = TermLayout(2, False, ((0, 1),))
    distances = torch.from_numpy(rng.uniform(size=(3000, 2)))
    terms = layout.values(distances)
    truth = torch.tensor([1.0, 0.5, -0.3], dtype=torch.float64)
    ranks = standardise_rows((terms @ truth)[None])
    weights = layout.weights(closed_form_start(terms, ranks, layout))[0]
    np.testing.assert_allclose((weights / weights[0]).numpy(), truth.numpy(), atol=1e-4)
