import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from mlem_neuro import MLEM


def test_recovers_a_planted_diagonal_metric(diagonal_data):
    features, Y, truth = diagonal_data
    model = MLEM(random_state=0).fit(features, Y)
    assert isinstance(model.metric_, pd.DataFrame)
    assert list(model.metric_.index) == list(features.columns)
    assert np.linalg.norm(model.metric_.to_numpy()) == pytest.approx(1.0)
    assert np.count_nonzero(model.metric_.to_numpy() - np.diag(np.diag(model.metric_))) == 0
    assert np.linalg.norm(model.metric_.to_numpy() - truth) < 0.08


def test_recovers_negative_interactions(interaction_data):
    features, Y, truth = interaction_data
    model = MLEM(interactions=True, random_state=0).fit(features, Y)
    metric = model.metric_.to_numpy()
    np.testing.assert_allclose(metric, metric.T)
    assert np.linalg.eigvalsh(metric).min() >= -1e-6
    assert np.linalg.norm(metric - truth) < 0.15
    negative = np.argwhere(np.triu(truth, 1) < 0)
    for a, b in negative:
        assert metric[a, b] < -0.05
    assert model.term_names_[:4] == list(features.columns)
    assert model.term_names_[4] == "f0:f1"


def test_held_out_score_and_importance(diagonal_data):
    features, Y, truth = diagonal_data
    model = MLEM(random_state=0).fit(features[:80], Y[:80])
    score = model.score(features[80:], Y[80:])
    assert 0.5 < score <= 1
    importances = model.permutation_importance(features[80:], Y[80:], n_repeats=3)
    assert importances.shape == (3, 4)
    mean = importances.mean()
    # the largest true weight gets the largest importance, the smallest the smallest
    assert mean.idxmax() == features.columns[np.argmax(np.diag(truth))]
    assert mean.idxmin() == features.columns[np.argmin(np.diag(truth))]


def test_same_seed_same_result_and_sklearn_conventions(diagonal_data):
    features, Y, _ = diagonal_data
    a = MLEM(random_state=3, pairs_per_batch=500).fit(features, Y)
    b = clone(a).fit(features, Y)
    np.testing.assert_array_equal(a.metric_.to_numpy(), b.metric_.to_numpy())
    assert a.get_params()["random_state"] == 3
    assert a.set_params(interactions=True).interactions is True
    with pytest.raises(NotFittedError):
        MLEM().score(features, Y)


def test_correlated_features_warn():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 80).astype(bool)
    b = a.copy()
    b[:8] = ~b[:8]
    features = pd.DataFrame({"a": a, "b": b})
    with pytest.warns(UserWarning, match="Terms 'a' and 'b' are correlated across pairs"):
        MLEM(random_state=0, max_steps=5).fit(features, rng.standard_normal((80, 3)))
