"""Continuous features: the sampled mode converges, importances say how precise they are,
least-squares baselines sit beside MLEM, and higher-order terms can be added."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from mlem_neuro import MLEM, FitOptions, fit_units
from mlem_neuro.core.metric import TermLayout
from mlem_neuro.core.simulation import (
    make_bent_distances,
    make_continuous_data,
    make_interacting_distances,
)
from mlem_neuro.core.start import closed_form_start
from mlem_neuro.outputs import ResultFolder, read_result


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampled_mode_recovers_a_continuous_metric(seed):
    features, Y, truth = make_continuous_data(600, random_state=seed)
    results = fit_units(features, Y, random_state=0, n_repeats=2)
    assert results.info["training"].startswith("sampled")
    metric = results.metrics[0]
    # Before the sampled mode judged progress on a fixed sample, errors were 0.05-0.12
    # and the zero-weight feature got 0.05-0.12 (issue 12).
    assert np.linalg.norm(metric - truth) < 0.045
    assert metric[-1, -1] < 0.03
    assert results.importances.loc[0].idxmin() == "f5"


def test_sampled_mode_recovers_a_full_metric_with_interactions():
    features, distances, truth = make_interacting_distances(1000, random_state=0)
    results = fit_units(
        features, distances, distance="precomputed", interactions=True, random_state=0, n_repeats=0
    )
    assert results.info["training"].startswith("sampled")
    # With the smooth phase alone (regularization 1.0) the error was 0.067 here; the
    # sharper second phase brings it to 0.009.
    assert np.linalg.norm(results.metrics[0] - truth) < 0.03
    metric = results.metrics[0]
    assert metric[0, 1] > 0.1 and metric[2, 3] < -0.05


def test_closed_form_start_is_the_least_squares_metric():
    rng = np.random.default_rng(0)
    terms = torch.from_numpy(rng.uniform(size=(500, 3)))
    ranks = terms @ torch.tensor([[2.0, 1.0, 0.5]], dtype=torch.float64).T
    ranks = (ranks.T - ranks.mean()) / torch.linalg.norm(ranks - ranks.mean())
    diagonal = closed_form_start(terms, ranks, TermLayout(3))
    grouped = closed_form_start(terms, ranks, TermLayout(3), counts=torch.ones(500))
    np.testing.assert_allclose(F.softplus(diagonal), F.softplus(grouped), rtol=1e-6)
    np.testing.assert_allclose(F.softplus(diagonal)[0], [1.0, 0.5, 0.25], rtol=1e-4)
    full = TermLayout(3, interactions=True)
    pair_terms = full.values(terms.sqrt())
    start = closed_form_start(pair_terms, ranks, full)
    metric = full.metrics(full.weights(start))[0]
    assert torch.linalg.eigvalsh(metric).min() > 0
    assert metric[0, 0] > metric[1, 1] > metric[2, 2]


def test_importances_on_samples_of_pairs_have_their_standard_error():
    features, Y, _ = make_continuous_data(400, random_state=3)
    coarse = fit_units(features, Y, random_state=0, n_repeats=8, importance_precision=0.02)
    fine = fit_units(features, Y, random_state=0, n_repeats=8, importance_precision=0.005)
    assert coarse.info["importance_pairs"] < fine.info["importance_pairs"] <= 79_800
    assert (coarse.importance_se.to_numpy() > 0).all()
    assert coarse.importance_se.to_numpy().mean() > fine.importance_se.to_numpy().mean()
    # The importances of the two precisions agree within their errors.
    gap = np.abs(coarse.importances.to_numpy() - fine.importances.to_numpy())
    assert (gap < 4 * np.hypot(coarse.importance_se, fine.importance_se).to_numpy() + 1e-3).all()
    categorical = fit_units(features > 0.5, Y, random_state=0, n_repeats=2)
    assert categorical.info["importance_pairs"] == "all"


def test_least_squares_baselines_fit_linear_designs_and_fail_bent_ones():
    features, Y, truth = make_continuous_data(800, random_state=1)
    for method in ("nnls", "ols"):
        linear = fit_units(features, Y, method=method, random_state=0, n_repeats=0)
        assert np.linalg.norm(linear.metrics[0] - truth) < 0.05
        assert linear.info["max_steps_run"] == 1
    nonnegative = fit_units(features, Y, method="nnls", interactions=True, n_repeats=0)
    assert (nonnegative.term_weights().to_numpy() >= -1e-12).all()
    features, distances, truth = make_bent_distances(400, random_state=2)
    errors = {
        method: np.linalg.norm(
            fit_units(
                features,
                distances,
                distance="precomputed",
                method=method,
                random_state=0,
                n_repeats=0,
            ).metrics[0]
            - truth
        )
        for method in ("mlem", "nnls")
    }
    assert errors["mlem"] < 0.04 and errors["nnls"] > 2 * errors["mlem"]


def three_way_design(n=160, seed=0):
    """Binary features; distances gain 1.0 when a, b and c all differ, which moves those
    pairs past the pairs that differ on d alone (a rank-visible interaction)."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(rng.integers(0, 2, (n, 4)).astype(bool), columns=list("abcd"))
    d = np.abs(features.to_numpy(float)[:, None] - features.to_numpy(float)[None])
    squared = d @ np.array([0.4, 0.4, 0.4, 1.5]) + 1.0 * d[..., 0] * d[..., 1] * d[..., 2]
    noise = np.triu(rng.normal(0, 0.1, squared.shape), 1)
    distances = np.sqrt(np.clip(squared + noise + noise.T, 0, None))
    np.fill_diagonal(distances, 0)
    return features, distances


def test_a_planted_three_way_interaction_is_found_as_an_extra_term(tmp_path):
    features, distances = three_way_design()
    options = FitOptions(distance="precomputed", random_state=0, n_repeats=3)
    plain = fit_units(features, distances, options=options)
    extra = fit_units(features, distances, options=options, extra_terms=[("a", "b", "c")])
    assert extra.term_names == ["a", "b", "c", "d", "a:b:c"]
    assert extra.extra_weights.loc[0, "a:b:c"] > 0.1
    assert extra.importances.loc[0, "a:b:c"] > 0.01
    assert extra.train_scores[0] > plain.train_scores[0]
    weights = extra.term_weights()
    norm = (np.diag(extra.metrics[0]) ** 2).sum() + extra.extra_weights.loc[0, "a:b:c"] ** 2
    assert norm == pytest.approx(1.0)
    assert list(weights.columns) == extra.term_names
    model = MLEM(extra_terms=(("a", "b", "c"),), distance="precomputed", random_state=0)
    assert model.fit(features, distances).weights_["a:b:c"] > 0.1
    assert model.score(features, distances) == pytest.approx(extra.scores[0], abs=1e-6)
    with ResultFolder(tmp_path / "fit", "units") as folder:
        folder.write_units(extra)
    stored = read_result(tmp_path / "fit").unit_results()
    pd.testing.assert_frame_equal(stored.extra_weights, extra.extra_weights)
    pd.testing.assert_frame_equal(stored.term_weights(), weights)


def test_extra_terms_are_checked():
    features, distances = three_way_design(n=40)
    with pytest.raises(ValueError, match=r"extra_terms \('a', 'z'\) names unknown feature"):
        fit_units(features, distances, distance="precomputed", extra_terms=[("a", "z")])
    with pytest.raises(ValueError, match="already the interaction 'a:b' of interactions=True"):
        fit_units(
            features,
            distances,
            distance="precomputed",
            interactions=True,
            extra_terms=[("a", "b")],
        )
    with pytest.raises(ValueError, match="must hold at least two distinct feature names"):
        FitOptions(extra_terms=[("a",)])
    with pytest.raises(TypeError, match="must be a sequence of feature-name tuples"):
        FitOptions(extra_terms="a:b")
