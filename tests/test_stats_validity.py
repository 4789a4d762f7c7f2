"""p-values that hold under the null: NaN folds and units, one-sided group tests, weights."""

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from mlem_neuro import fit_units
from mlem_neuro.cli import main
from mlem_neuro.outputs import ResultFolder
from mlem_neuro.stats import group_layer_test, group_test, permutation_pvalues, permutation_test

N_RUNS, PER_RUN = 6, 4


def blocked_design(seed=0):
    """Stimuli in 6 runs of 4; "task" is constant within each run and over runs 0 and 1.

    Folds hold two runs out each, so the first test fold has a single task: the
    importance of "task" (and the score of a metric on "task" alone) is
    undefined there, in the real fit and in every permuted one.
    """
    rng = np.random.default_rng(seed)
    runs = np.repeat(np.arange(N_RUNS), PER_RUN)
    features = pd.DataFrame(
        {
            "task": np.repeat([0, 0, 1, 0, 1, 0], PER_RUN),
            "category": np.tile([0, 1, 0, 1], N_RUNS),
            "size": np.tile([0, 0, 1, 1], N_RUNS) ^ rng.integers(0, 2, N_RUNS * PER_RUN),
        }
    )
    stimuli = np.arange(len(runs))
    folds = [
        (stimuli[~np.isin(runs, held)], stimuli[np.isin(runs, held)])
        for held in ([0, 1], [2, 3], [4, 5])
    ]
    return features, runs, folds, rng


def noise_units(rng, n_units, width=5):
    Y = rng.standard_normal((N_RUNS * PER_RUN, n_units * width))
    return Y, [np.arange(unit * width, (unit + 1) * width) for unit in range(n_units)]


def test_a_fold_undefined_in_the_real_fit_is_left_out_of_the_null_too():
    features, runs, folds, rng = blocked_design()
    Y, units = noise_units(rng, 6)
    test = permutation_test(
        features, Y, units, n_permutations=49, cv=folds, groups=runs, random_state=0
    )
    task = test.results.term_names.index("task")
    assert np.isnan(test.results.fold_scores).sum() == 0
    # The importance of "task" is undefined in the first fold only, in every fit.
    assert np.isfinite(test.importances["task"]).all()
    assert np.isfinite(test.importance_null[:, :, task]).all()
    assert test.importance_null.dtype == np.float64 and test.null.dtype == np.float64
    # p-values follow from the null that is returned, and are not all at their floor.
    expected, _ = permutation_pvalues(test.importances["task"], test.importance_null[:, :, task])
    np.testing.assert_allclose(test.importance_pvalues["task"], expected)
    assert (test.importance_pvalues["task"] > 1 / 50).any()


def test_the_null_of_a_fold_mean_is_the_fold_mean_of_the_null():
    features, runs, folds, rng = blocked_design(1)
    Y, units = noise_units(rng, 3)
    only_task = features[["task"]]
    orders = np.stack([rng.permutation(len(runs)) for _ in range(3)])
    batched = fit_units(only_task, Y, units, cv=folds, permutations=orders, random_state=0)
    # A metric on "task" alone scores NaN on the first fold, real or permuted.
    assert np.isnan(batched.fold_scores[0]).all()
    for index, order in enumerate(orders):
        direct = fit_units(only_task, Y[order], units, cv=folds, random_state=0)
        np.testing.assert_allclose(batched.null_scores[index], direct.scores, atol=1e-5)


def test_identical_orders_reproduce_the_observed_statistic_exactly():
    features, runs, folds, rng = blocked_design(2)
    Y, units = noise_units(rng, 4)
    identity = np.tile(np.arange(len(runs)), (3, 1))
    results = fit_units(features, Y, units, cv=folds, permutations=identity, random_state=0)
    np.testing.assert_array_equal(results.null_scores, np.tile(results.scores, (3, 1)))
    pvalues, fwer = permutation_pvalues(results.scores, results.null_scores)
    np.testing.assert_array_equal(pvalues, 1.0)


def test_units_with_nan_scores_get_nan_pvalues_and_are_not_counted():
    observed = np.array([0.5, np.nan, 0.1, 0.3])
    null = np.array([[0.2, 0.9, 0.3, 0.0], [0.6, 0.9, 0.0, 0.1], [0.1, 0.9, 0.05, 0.4]])
    pvalues, fwer = permutation_pvalues(observed, null)
    np.testing.assert_allclose(pvalues, [2 / 4, np.nan, 2 / 4, 2 / 4])
    # Maxima over the tested units (0, 2, 3): 0.3, 0.6, 0.4.
    np.testing.assert_allclose(fwer, [2 / 4, np.nan, 4 / 4, 4 / 4])


def test_a_constant_unit_is_untested_and_leaves_the_others_corrections_alone(planted_units):
    features, Y, units = planted_units
    Y = Y.copy()
    Y[:, units[29]] = 1.0
    test = permutation_test(features, Y, units, n_permutations=39, cv=3, random_state=0)
    assert np.isnan(test.scores[29])
    assert np.isnan(test.pvalues[29]) and np.isnan(test.pvalues_fwer[29])
    assert np.isnan(test.pvalues_fdr[29])
    tested = scipy.stats.false_discovery_control(test.pvalues[:29], method="bh")
    np.testing.assert_allclose(test.pvalues_fdr[:29], tested)
    assert test.importance_pvalues.iloc[29].isna().all()


def test_permutation_pvalues_are_calibrated_with_a_feature_blocked_by_run():
    """Noise data, folds over runs, "task" undefined in one fold: p-values uniform, FWER held."""
    features, runs, folds, rng = blocked_design(3)
    Y, units = noise_units(rng, 200)
    test = permutation_test(
        features, Y, units, n_permutations=99, cv=folds, groups=runs, random_state=1
    )
    for pvalues in (test.pvalues, test.importance_pvalues["task"].to_numpy()):
        assert np.isfinite(pvalues).all()
        assert scipy.stats.kstest(pvalues, "uniform").pvalue > 0.01
    # 20 families of 10 independent units: how often each family's FWER test rejects.
    task = test.results.term_names.index("task")
    statistics = [
        (test.scores, test.null),
        (test.importances["task"].to_numpy(), test.importance_null[:, :, task]),
    ]
    rejections = [
        (permutation_pvalues(observed[family], null[:, family])[1] <= 0.05).any()
        for observed, null in statistics
        for family in np.split(np.arange(200), 20)
    ]
    rate, n = np.mean(rejections), len(rejections)
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n)


def brute_force_max_t(values):
    """p-values of the one-sided max-t test over all 2^n sign flips, computed plainly."""
    n = len(values)

    def t_of(x):
        return x.mean(axis=0) / (x.std(axis=0, ddof=1) / np.sqrt(n))

    observed = t_of(values)
    maxima = [
        np.max(t_of(values * np.array(signs)[:, None]))
        for signs in itertools.product([1, -1], repeat=n)
    ]
    return np.array([np.mean(np.array(maxima) >= t - 1e-9) for t in observed])


def test_the_layer_test_is_one_sided_with_a_floor_of_one_over_two_to_the_n():
    rng = np.random.default_rng(0)
    values = 1 + 0.01 * rng.standard_normal((5, 3))
    table = group_layer_test(values, n_permutations=5000)
    np.testing.assert_allclose(table["pvalue_fwer"], 1 / 32)
    two_sided = group_layer_test(values, n_permutations=5000, two_sided=True)
    np.testing.assert_allclose(two_sided["pvalue_fwer"], 2 / 32)
    mixed = rng.standard_normal((7, 4)) + np.array([0, 0.5, 1, -1])
    np.testing.assert_allclose(
        group_layer_test(mixed, n_permutations=200).pvalue_fwer, brute_force_max_t(mixed)
    )
    sampled = group_layer_test(mixed, n_permutations=2000, random_state=0, exact=False)
    np.testing.assert_allclose(sampled.pvalue_fwer, brute_force_max_t(mixed), atol=0.03)


def write_layers(folder, values):
    """A layer profile of 3 layers: scores near 1 and weights of "a" near 0.4."""
    with ResultFolder(folder, "layers") as result:
        table = pd.DataFrame({"layer": np.arange(3), "score": values[0]})
        table["weight_a"] = values[1] - 0.6
        result.write_table("layers", table)
        result.update_summary(features=["a"])


def test_group_summary_follows_the_test_that_ran_and_weights_need_a_baseline(tmp_path, capsys):
    rng = np.random.default_rng(1)
    folders = []
    for subject in range(5):
        folders.append(tmp_path / f"sub{subject}")
        write_layers(folders[-1], 1 + 0.01 * rng.standard_normal((2, 3)))
    test = group_test(folders, n_permutations=5000)
    assert test.summary["smallest_possible_pvalue"] == pytest.approx(1 / 32)
    assert test.summary["exact_test"] and test.summary["n_permutations_run"] == 31
    np.testing.assert_allclose(test.outcome["pvalue_fwer"], 1 / 32)
    from mlem_neuro.report.text import group_methods_paragraph

    methods = group_methods_paragraph(test.summary)
    assert "the largest t, not the largest |t|" in methods and "all 32 sign flips" in methods
    assert any("skewed" in message for message in test.summary["warnings"])
    assert not any("cannot reach" in message for message in test.summary["warnings"])
    few = group_test(folders[:4], n_permutations=5000)
    assert few.summary["smallest_possible_pvalue"] == pytest.approx(1 / 16)
    assert any("nothing can reach p < 0.05" in message for message in few.summary["warnings"])

    with pytest.raises(ValueError, match="weight_a has no null at 0: weights are non-negative"):
        group_test(folders, measure="weight_a")
    against = group_test(folders, measure="weight_a", baseline=0.5, n_permutations=100)
    assert (against.outcome["pvalue_fwer"] > 0.5).all()
    assert against.summary["baseline"] == 0.5
    out = str(tmp_path / "group")
    assert main(["group", *map(str, folders), "--measure", "weight_a", "--out", out]) == 2
    assert "weights are non-negative" in capsys.readouterr().err


def test_the_generalisation_diagonal_equals_the_scores_with_undefined_folds_and_units():
    features, runs, folds, rng = blocked_design(4)
    Y, units = noise_units(rng, 5)
    Y[:, units[3]] = 2.0  # a flat unit: no ranking of its distances
    results = fit_units(features[["task"]], Y, units, cv=folds, generalize=True, random_state=0)
    assert np.isnan(results.scores[3]) and np.isfinite(np.delete(results.scores, 3)).all()
    np.testing.assert_allclose(np.diag(results.generalization), results.scores, atol=1e-6)
    assert np.isnan(results.generalization[:, 3]).all()


def test_the_group_command_refuses_results_of_other_settings(tmp_path, capsys):
    folders = []
    for subject, radius in enumerate([8.0, 8.0, 16.0]):
        folders.append(tmp_path / f"sub{subject}")
        with ResultFolder(folders[-1], "layers") as result:
            result.write_table("layers", pd.DataFrame({"layer": [0], "score": [0.1]}))
            result.update_summary(features=["a"], radius_mm=radius, options={"method": "mlem"})
    with pytest.raises(ValueError, match=r"sub2 was analysed with other settings .*radius_mm"):
        group_test(folders)
    with ResultFolder(folders[2], "layers", overwrite=True) as result:
        result.write_table("layers", pd.DataFrame({"layer": [0], "score": [0.1]}))
        result.update_summary(features=["a"], radius_mm=8.0, options={"method": "nnls"})
    with pytest.raises(ValueError, match=r"options.method differ"):
        group_test(folders)
