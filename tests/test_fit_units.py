import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import scipy.stats
import torch
from sklearn.model_selection import LeaveOneGroupOut

from mlem_neuro import fit_units
from mlem_neuro.core.chunks import plan_chunks
from mlem_neuro.core.pairs import pairs_within


def test_planted_units_are_found_and_noise_units_are_not(planted_units):
    features, Y, units = planted_units
    results = fit_units(features, Y, units, cv=3, random_state=0)
    assert results.scores.shape == (30,)
    assert results.fold_scores.shape == (3, 30)
    assert results.scores[:10].min() > 0.5
    assert np.abs(results.scores[10:]).max() < 0.15
    assert results.importances.shape == (30, 3)
    planted = results.importances.iloc[:10].to_numpy()
    noise = results.importances.iloc[10:].to_numpy()
    assert planted.mean(axis=0).min() > 0.03
    assert np.abs(noise.mean(axis=0)).max() < 0.015
    table = results.to_dataframe()
    assert list(table.columns) == ["score", "importance_f0", "importance_f1", "importance_f2"]
    np.testing.assert_allclose(
        results.term_weights().to_numpy(), np.diagonal(results.metrics, axis1=1, axis2=2)
    )


def test_sparse_membership_and_column_lists_agree(planted_units):
    features, Y, units = planted_units
    membership = scipy.sparse.lil_array((len(units), Y.shape[1]))
    for row, columns in enumerate(units):
        membership[row, columns] = 1
    from_lists = fit_units(features, Y, units[:6], random_state=0, n_repeats=1)
    from_sparse = fit_units(features, Y, membership[:6], random_state=0, n_repeats=1)
    np.testing.assert_allclose(from_lists.metrics, from_sparse.metrics, atol=1e-6)


def test_chunking_does_not_change_results(planted_units):
    features, Y, units = planted_units
    # units of different sizes land in different chunks
    units = [columns[: 3 + index % 5] for index, columns in enumerate(units[:12])]
    whole = fit_units(features, Y, units, random_state=0, n_repeats=0, dtype="float64")
    chunked = fit_units(
        features, Y, units, random_state=0, n_repeats=0, units_per_chunk=2, dtype="float64"
    )
    np.testing.assert_allclose(whole.metrics, chunked.metrics, atol=1e-6)
    np.testing.assert_allclose(whole.scores, chunked.scores, atol=1e-6)


@pytest.fixture
def two_torch_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_chunks_side_by_side_give_the_results_of_chunks_one_by_one(
    planted_units, two_torch_threads, monkeypatch
):
    import mlem_neuro.core.fit as fit_module

    features, Y, units = planted_units
    settings = dict(
        cv=3, random_state=0, n_repeats=2, units_per_chunk=4, dtype="float64", verbose=True
    )
    assert fit_module.chunks_side_by_side(torch.device("cpu")) == 2
    side_by_side = fit_units(features, Y, units, **settings)
    assert torch.get_num_threads() == 2  # restored after the fit's single-threaded chunks
    monkeypatch.setattr(fit_module, "CPU_CHUNKS_SIDE_BY_SIDE", 1)
    one_by_one = fit_units(features, Y, units, **settings)
    np.testing.assert_allclose(side_by_side.scores, one_by_one.scores, atol=1e-9)
    np.testing.assert_allclose(side_by_side.importances, one_by_one.importances, atol=1e-9)
    np.testing.assert_allclose(side_by_side.metrics, one_by_one.metrics, atol=1e-9)
    assert side_by_side.scores[:10].min() > 0.5


def test_an_error_in_a_chunk_side_by_side_reaches_the_caller(
    planted_units, two_torch_threads, monkeypatch
):
    import mlem_neuro.core.fit as fit_module

    features, Y, units = planted_units

    def failing_fit_chunk(self, members, neural, progress):
        raise MemoryError("chunk too large")

    monkeypatch.setattr(fit_module._ChunkFit, "_fit_chunk", failing_fit_chunk)
    with pytest.raises(MemoryError, match="chunk too large"):
        fit_units(features, Y, units, random_state=0, units_per_chunk=2)
    assert torch.get_num_threads() == 2


def test_in_sample_scores_are_exact_spearman_over_all_pairs(planted_units):
    features, Y, units = planted_units
    results = fit_units(features, Y, units[:2], random_state=0, n_repeats=0)
    i, j = np.triu_indices(len(Y), k=1)
    X = features.to_numpy().astype(float)
    for unit in range(2):
        metric = results.metrics[unit]
        d = np.abs(X[i] - X[j])
        predicted = np.einsum("pf,fg,pg->p", d, metric, d)
        neural = np.linalg.norm(Y[i][:, units[unit]] - Y[j][:, units[unit]], axis=1)
        expected = scipy.stats.spearmanr(predicted, neural)[0]
        assert results.scores[unit] == pytest.approx(expected, abs=1e-5)


def test_group_aware_cv_keeps_runs_apart(planted_units):
    features, Y, units = planted_units
    runs = np.repeat(np.arange(4), 15)
    results = fit_units(
        features, Y, units[:3], cv=LeaveOneGroupOut(), groups=runs, random_state=0, n_repeats=1
    )
    assert results.fold_scores.shape == (4, 3)
    by_int = fit_units(features, Y, units[:3], cv=4, groups=runs, random_state=0, n_repeats=1)
    assert by_int.fold_scores.shape == (4, 3)


def test_sampled_mode_recovers_a_continuous_design():
    rng = np.random.default_rng(0)
    n = 150
    features = pd.DataFrame(
        {"a": rng.uniform(size=n), "b": rng.uniform(size=n), "c": rng.uniform(size=n)}
    )
    weights = np.array([3.0, 1.0, 0.0])
    Y = features.to_numpy() * np.sqrt(weights) + 0.05 * rng.standard_normal((n, 3))
    results = fit_units(features, Y, random_state=0, pairs_per_batch=1000, n_repeats=2)
    learned = np.diag(results.metrics[0])
    truth = weights / np.linalg.norm(weights)
    assert np.abs(learned - truth).max() < 0.1
    assert (
        results.importances.loc[0, "a"]
        > results.importances.loc[0, "b"]
        > abs(results.importances.loc[0, "c"])
    )


@pytest.mark.parametrize(
    "distance", ["euclidean", "sqeuclidean", "correlation", "cosine", "manhattan"]
)
def test_every_distance_matches_scipy(distance):
    import torch
    from scipy.spatial.distance import pdist

    from mlem_neuro.core.distances import standardise_for_distance, unit_pair_distances

    rng = np.random.default_rng(1)
    Y = rng.standard_normal((9, 7)) * 1e-13 + 1e-12  # tiny MEG-like numbers
    columns = [np.array([0, 2, 3]), np.array([1, 4, 5, 6])]
    patterns = torch.from_numpy(standardise_for_distance(Y, distance))
    padded = torch.zeros(2, 9, 4, dtype=torch.float64)
    mask = torch.zeros(2, 4, dtype=torch.bool)
    for row, unit in enumerate(columns):
        padded[row, :, : len(unit)] = patterns[:, unit]
        mask[row, : len(unit)] = True
    first, second = torch.triu_indices(9, 9, offset=1)
    for all_pairs in (True, False):
        got = unit_pair_distances(padded, mask, first, second, distance, all_pairs)
        for row, unit in enumerate(columns):
            expected = pdist(Y[:, unit], metric={"manhattan": "cityblock"}.get(distance, distance))
            # equal up to a global scale for euclidean-type distances
            ratio = got[row].numpy() / expected
            np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)
            if distance in ("correlation", "cosine"):
                np.testing.assert_allclose(ratio, 1.0, rtol=1e-6)


def test_precomputed_feature_and_neural_distances_match_raw_inputs(diagonal_data):
    features, Y, _ = diagonal_data
    X = features.to_numpy().astype(float)
    feature_distances = np.abs(X[:, None, :] - X[None, :, :])
    neural = np.linalg.norm(Y[:, None] - Y[None], axis=2)
    # Float32 rounding differs between the two inputs; converged fits (tol 1e-6, where
    # the default 1e-4 may stop one iteration apart) agree to it.
    raw = fit_units(features, Y, random_state=0, n_repeats=0, tol=1e-6)
    precomputed = fit_units(
        feature_distances,
        neural,
        distance="precomputed",
        precomputed_features=True,
        random_state=0,
        n_repeats=0,
        feature_names=list(features.columns),
        tol=1e-6,
    )
    np.testing.assert_allclose(raw.metrics, precomputed.metrics, atol=1e-5)
    assert precomputed.feature_names == list(features.columns)


def test_verbose_logs_the_training_mode(planted_units, caplog):
    import logging

    features, Y, units = planted_units
    with caplog.at_level(logging.INFO, logger="mlem_neuro"):
        fit_units(features, Y, units[:2], random_state=0, n_repeats=1, max_steps=3, verbose=True)
    assert "Fitting 2 units, exact over 1770 pairs in 8 groups" in caplog.text


def test_chunks_of_many_stimuli_count_no_n_squared_memory():
    # Sampled pairs of a million stimuli are compared by differences, never through an
    # n x n Gram matrix: budgeting one (8 TB a unit) put every unit in a chunk of its own.
    columns = [np.arange(10)] * 100
    cpu = torch.device("cpu")
    sampled = plan_chunks(columns, 1_000_000, 1_000_000, None, cpu, torch.float32)
    assert len(sampled) <= 20
    every_pair_of_20000 = plan_chunks(columns, 19_999 * 10_000, 20_000, None, cpu, torch.float32)
    assert len(every_pair_of_20000) == 100


def test_pairs_within_a_subset_whose_last_stimulus_no_pair_touches():
    # A pool of pairs sampled from many need not touch every stimulus; a fold holding an
    # untouched stimulus of the highest index once raised an IndexError (a flaky test).
    first, second = torch.tensor([0, 1, 2]), torch.tensor([1, 2, 3])
    assert pairs_within(first, second, np.array([1, 2, 5])).tolist() == [1]
    assert pairs_within(first, second, np.array([], dtype=int)).tolist() == []
