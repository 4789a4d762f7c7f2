import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import scipy.spatial
import scipy.stats
import torch

from mlem_neuro import fit_units
from mlem_neuro.cli import main
from mlem_neuro.core import chunks
from mlem_neuro.core.evaluation import standardised_ranks
from mlem_neuro.core.permutation import SubsetRanks, permutation_orders
from mlem_neuro.outputs import ResultFolder
from mlem_neuro.stats import (
    group_layer_test,
    group_map_test,
    group_timecourse_test,
    noise_ceiling,
    permutation_pvalues,
    permutation_test,
)


def test_permutation_orders_stay_within_groups_and_start_with_the_identity():
    groups = np.repeat([0, 1, 2], 4)
    orders = permutation_orders(12, 50, groups, random_state=0).numpy()
    np.testing.assert_array_equal(orders[0], np.arange(12))
    assert (groups[orders] == groups).all()
    assert len({tuple(order) for order in orders}) > 40


def test_permutation_order_errors():
    with pytest.raises(ValueError, match=r"group\(s\) \['2'\] have a single member"):
        permutation_orders(5, 10, [0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="n_permutations=10 needs more distinct orders than the 3"):
        permutation_orders(3, 10)


@pytest.mark.parametrize("ties", ["none", "every unit", "one unit", "constant unit"])
@pytest.mark.parametrize("size", [10, 40])  # sorted directly / counted over the pool
def test_subset_ranks_match_scipy(ties, size):
    generator = torch.Generator().manual_seed(0)
    neural = torch.randn(3, 45, generator=generator, dtype=torch.float64)
    if ties == "every unit":
        neural = torch.randint(0, 8, (3, 45), generator=generator).double()
    if ties == "one unit":  # tied units are ranked apart from the others
        neural[1] = torch.randint(0, 8, (45,), generator=generator).double()
    if ties == "constant unit":  # one run of every pair: standardised to zeros, not NaN
        neural[2] = 0.5
    subsets = torch.stack([torch.randperm(45, generator=generator)[:size] for _ in range(4)])
    ranks = SubsetRanks(neural).standardised(subsets).reshape(3, len(subsets), size)
    for unit in range(3):
        for index, subset in enumerate(subsets):
            centred = scipy.stats.rankdata(neural[unit, subset].numpy())
            centred -= centred.mean()
            norm = np.linalg.norm(centred)
            expected = centred / norm if norm else centred
            np.testing.assert_allclose(ranks[unit, index].numpy(), expected, atol=1e-12)
    whole = torch.stack([torch.randperm(45, generator=generator) for _ in range(2)])
    full = SubsetRanks(neural).standardised(whole).reshape(3, 2, 45)
    np.testing.assert_allclose(full[1, 0], standardised_ranks(neural[1:2, whole[0]])[0])


def test_null_fits_equal_fits_of_permuted_patterns(planted_units):
    features, Y, units = planted_units
    orders = permutation_orders(len(Y), 3, random_state=0)
    options = dict(cv=3, random_state=0, n_repeats=0)
    batched = fit_units(features, Y, units, permutations=orders[1:], **options)
    plain = fit_units(features, Y, units, **options)
    np.testing.assert_allclose(batched.scores, plain.scores, atol=1e-12)
    for index, order in enumerate(orders[1:]):
        direct = fit_units(features, Y[order.numpy()], units, **options)
        np.testing.assert_allclose(batched.null_scores[index], direct.scores, atol=1e-5)


def test_closed_form_null_fits_keep_real_training_scores(planted_units, monkeypatch):
    # Without steps only the real rows' training scores are computed: they must be the
    # plain fit's, and the null copies' held-out scores those of the permuted patterns.
    features, Y, units = planted_units
    orders = permutation_orders(len(Y), 3, random_state=0)
    options = dict(cv=3, random_state=0, n_repeats=0, max_steps=1)
    batched = fit_units(features, Y, units, permutations=orders[1:], **options)
    plain = fit_units(features, Y, units, **options)
    assert np.isfinite(batched.train_scores).all()
    np.testing.assert_allclose(batched.train_scores, plain.train_scores, atol=1e-6)
    np.testing.assert_allclose(batched.scores, plain.scores, atol=1e-6)
    direct = fit_units(features, Y[orders[2].numpy()], units, **options)
    np.testing.assert_allclose(batched.null_scores[1], direct.scores, atol=1e-5)
    # A budget of a few rows splits the orders into blocks: the later ones hold no real row.
    monkeypatch.setattr(chunks, "BYTES_PER_CHUNK", 1)
    blocked = fit_units(features, Y, units, permutations=orders[1:], **options)
    np.testing.assert_allclose(blocked.train_scores, plain.train_scores, atol=1e-6)
    np.testing.assert_allclose(blocked.null_scores, batched.null_scores, atol=1e-6)


def test_permutation_pvalues_count_exceedances():
    observed = np.array([0.5, 0.1])
    null = np.array([[0.2, 0.3], [0.6, 0.0], [0.1, 0.05], [0.0, 0.1]])
    pvalues, fwer = permutation_pvalues(observed, null)
    np.testing.assert_allclose(pvalues, [2 / 5, 3 / 5])
    # Maxima over units: 0.3, 0.6, 0.1, 0.1.
    np.testing.assert_allclose(fwer, [2 / 5, 5 / 5])


def test_permutation_test_finds_planted_units_only(planted_units):
    features, Y, units = planted_units
    result = permutation_test(features, Y, units, n_permutations=99, cv=3, random_state=0)
    assert result.null.shape == (99, 30)
    assert (result.pvalues_fwer[:10] <= 0.01).all()
    assert (result.pvalues_fwer[10:] > 0.05).all()
    assert (result.pvalues_fdr[:10] <= 0.05).all()
    # Noise units' uncorrected p-values spread over (0, 1].
    assert 0.25 < np.median(result.pvalues[10:]) < 0.75
    # f1 and f2 carry most of the planted metric (f0's true weight is small).
    assert (result.importance_pvalues_fwer.iloc[:10][["f1", "f2"]] <= 0.05).all().all()
    assert (result.importance_pvalues_fwer.iloc[10:] > 0.05).mean().mean() > 0.9
    table = result.to_dataframe()
    assert {"score", "pvalue", "pvalue_fwer", "pvalue_fdr", "pvalue_f0", "pvalue_fwer_f0"} <= set(
        table.columns
    )


def test_permutation_test_needs_all_pairs(planted_units):
    features, Y, units = planted_units
    with pytest.raises(ValueError, match="permutations need every pair of stimuli in the pool"):
        permutation_test(features, Y, units, n_permutations=5, cv=None, max_pairs=100)


def simulated_runs(signal, n_runs, rng):
    rows, stimuli, runs = [], [], []
    for run in range(n_runs):
        for stimulus, pattern in enumerate(signal):
            reliable = pattern + rng.standard_normal(pattern.shape)
            rows.append(np.concatenate([reliable, rng.standard_normal(pattern.shape)]))
            stimuli.append(stimulus)
            runs.append(run)
    return np.array(rows), np.array(stimuli), np.array(runs)


def test_noise_ceiling_predicts_the_reliability_of_the_averaged_geometry():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal((12, 20)) * 0.6
    Y, stimuli, runs = simulated_runs(signal, 8, rng)
    units = [np.arange(20), np.arange(20, 40)]
    ceiling = noise_ceiling(Y, stimuli, runs, units, random_state=0)
    # Known answer: the Spearman correlation between the averaged geometries of two
    # independent 8-run datasets, simulated directly.
    replicates = []
    for _ in range(40):
        halves = [simulated_runs(signal, 8, rng)[0] for _ in range(2)]
        means = [half[:, :20].reshape(8, 12, 20).mean(axis=0) for half in halves]
        distances = [scipy.spatial.distance.pdist(mean) for mean in means]
        replicates.append(scipy.stats.spearmanr(*distances)[0])
    assert ceiling.loc[0, "noise_ceiling"] == pytest.approx(np.mean(replicates), abs=0.12)
    assert abs(ceiling.loc[1, "split_half_r"]) < 0.2
    with pytest.raises(ValueError, match="needs at least 2 repetitions"):
        noise_ceiling(Y, stimuli, np.zeros(len(Y)), units)
    with pytest.raises(ValueError, match=r"Stimuli \['11'\] do not occur in both halves"):
        keep = (stimuli != 11) | (runs == 0)  # stimulus 11 seen in run 0 only
        noise_ceiling(Y[keep], stimuli[keep], runs[keep], units)


def blob_maps(n_subjects=8, seed=0):
    rng = np.random.default_rng(seed)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    maps = []
    for _ in range(n_subjects):
        data = rng.standard_normal((10, 10, 10)) * 0.05
        data[2:5, 2:5, 2:5] += 0.1
        data[0] = np.nan  # outside a searchlight mask
        maps.append(nib.Nifti1Image(data, affine))
    return maps


def test_group_map_test_finds_the_blob():
    result = group_map_test(blob_maps(), n_permutations=200, random_state=0)
    mass = result.logp_imgs["cluster_mass"].get_fdata()
    assert mass[3, 3, 3] > -np.log10(0.05)
    assert np.nanmax(mass[6:, 6:, 6:]) < -np.log10(0.05)
    assert result.clusters.iloc[0]["Peak Stat"] > 5
    shifted = nib.Nifti1Image(blob_maps()[0].get_fdata(), np.diag([2.0, 2.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="every map must be in the same space"):
        group_map_test(blob_maps()[:3] + [shifted], n_permutations=10)


def test_group_timecourse_and_layer_tests():
    rng = np.random.default_rng(1)
    times = np.linspace(-0.1, 0.4, 51)
    values = rng.standard_normal((12, 51)) * 0.05
    values[:, 25:35] += 0.06
    result = group_timecourse_test(values, times, n_permutations=500, random_state=0)
    best = result.clusters.iloc[0]
    assert best["pvalue"] < 0.05
    assert 0.13 <= best["start"] and best["stop"] <= 0.26
    assert result.mask[25:35].mean() > 0.7 and not result.mask[:20].any()
    layers = rng.standard_normal((10, 5)) * 0.05 + np.array([0, 0, 0.1, 0.1, 0])
    table = group_layer_test(layers, n_permutations=1000, random_state=0)
    np.testing.assert_array_equal(table["pvalue_fwer"] < 0.05, [False, False, True, True, False])
    with pytest.raises(ValueError, match="needs at least 2 subjects"):
        group_layer_test(layers[:1])


def write_timecourse(folder, values, times, features=("modality", "side")):
    with ResultFolder(folder, "timecourse") as result:
        result.write_table("timecourse", pd.DataFrame({"time": times, "score": values}))
        result.update_summary(features=list(features))


def test_group_command_on_time_courses_and_maps(tmp_path, capsys):
    rng = np.random.default_rng(2)
    times = np.linspace(-0.1, 0.4, 51)
    folders = []
    for subject in range(10):
        values = rng.standard_normal(51) * 0.05
        values[25:35] += 0.08
        folders.append(tmp_path / f"sub{subject}")
        write_timecourse(folders[-1], values, times)
    out = tmp_path / "group"
    assert main(["group", *map(str, folders), "--out", str(out), "--n-permutations", "500"]) == 0
    clusters = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert clusters.loc[0, "pvalue"] < 0.05
    assert pd.read_csv(out / "group_timecourse.tsv", sep="\t")["significant"].iloc[25:35].all()

    maps = []
    for subject, img in enumerate(blob_maps()):
        folder = tmp_path / f"map{subject}"
        with ResultFolder(folder, "searchlight") as result:
            result.write_map("score", img)
            result.update_summary(features=["modality", "side"])
        maps.append(str(folder))
    assert main(["group", *maps, "--out", str(tmp_path / "gmap"), "--n-permutations", "100"]) == 0
    assert (tmp_path / "gmap" / "logp_cluster_mass.nii.gz").exists()
    capsys.readouterr()

    fresh = str(tmp_path / "refused")
    assert main(["group", maps[0], str(folders[0]), "--out", fresh]) == 2
    assert "different kinds cannot be mixed" in capsys.readouterr().err
    odd = tmp_path / "odd"
    write_timecourse(odd, np.zeros(51), times, features=("colour",))
    assert main(["group", str(folders[0]), str(odd), "--out", fresh]) == 2
    assert "needs the same feature set" in capsys.readouterr().err
