import numpy as np
import pytest
import scipy.stats
import torch

from mlem_neuro.core import ranking
from mlem_neuro.core.ranking import (
    RowOrder,
    pearson_rows,
    rankdata,
    scaled_soft_rank,
    soft_rank,
    sort_rows,
    standardise_rows,
    weighted_rankdata,
)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_rows_sorts_and_passes_gradients_through_the_values(descending):
    values = torch.randn(6, 50, generator=torch.Generator().manual_seed(3), requires_grad=True)
    sorted_values, order = sort_rows(values, descending=descending)
    expected = values.detach().sort(dim=1, descending=descending).values
    torch.testing.assert_close(sorted_values.detach(), expected)
    torch.testing.assert_close(values.detach().gather(1, order), expected)
    (sorted_values * torch.arange(50.0)).sum().backward()
    assert torch.equal(values.grad.sort(dim=1).values, torch.arange(50.0).expand(6, 50))


def test_one_row_order_ranks_under_any_counts_as_a_fresh_ranking():
    generator = torch.Generator().manual_seed(4)
    values = torch.randint(0, 6, (4, 30), generator=generator).double()
    order = RowOrder(values)
    for _ in range(3):
        counts = torch.randint(0, 4, (30,), generator=generator)  # empty groups too
        kept = counts > 0
        expected = weighted_rankdata(values[:, kept], counts[kept])
        torch.testing.assert_close(order.weighted_ranks(counts)[:, kept], expected)


def test_row_order_pools_ties_only_in_the_rows_that_have_them():
    generator = torch.Generator().manual_seed(5)
    values = torch.randn(5, 30, generator=generator, dtype=torch.float64)
    values[[1, 3], :12] = 0.25  # ties in two rows of five
    order = RowOrder(values)
    counts = torch.randint(0, 4, (30,), generator=generator)
    kept = counts > 0
    expanded = values[:, kept].repeat_interleave(counts[kept], dim=1)
    expected = scipy.stats.rankdata(expanded.numpy(), axis=1)
    got = order.weighted_ranks(counts)[:, kept].repeat_interleave(counts[kept], dim=1)
    np.testing.assert_allclose(got.numpy(), expected)


def test_rankdata_matches_scipy_with_ties():
    values = torch.randint(0, 6, (5, 40), generator=torch.Generator().manual_seed(0)).double()
    expected = scipy.stats.rankdata(values.numpy(), axis=1)
    np.testing.assert_allclose(rankdata(values).numpy(), expected)


def test_rows_with_and_without_ties_are_ranked_alike_in_one_batch():
    """Only tied rows are scanned for runs; untied rows in the same batch rank 1 ... n."""
    rng = np.random.default_rng(3)
    values = rng.standard_normal((6, 40))
    values[[1, 4], :10] = 0.5  # ties in two rows only
    ranks = rankdata(torch.from_numpy(values))
    np.testing.assert_allclose(ranks.numpy(), scipy.stats.rankdata(values, axis=1))
    untied = rankdata(torch.from_numpy(values[[0, 2]]))
    np.testing.assert_allclose(untied.numpy(), scipy.stats.rankdata(values[[0, 2]], axis=1))


def test_weighted_rankdata_equals_ranks_of_expanded_copies():
    generator = torch.Generator().manual_seed(1)
    values = torch.randint(0, 5, (3, 25), generator=generator).double()
    counts = torch.randint(1, 6, (25,), generator=generator)
    expanded = values.repeat_interleave(counts, dim=1)
    expected = scipy.stats.rankdata(expanded.numpy(), axis=1)
    got = weighted_rankdata(values, counts).repeat_interleave(counts, dim=1)
    np.testing.assert_allclose(got.numpy(), expected)


@pytest.mark.parametrize("n_items", [2, 7, 300])
def test_soft_rank_tends_to_exact_ranks(n_items):
    values = torch.randn(
        4, n_items, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    np.testing.assert_allclose(soft_rank(values, 1e-9).numpy(), rankdata(values).numpy(), atol=1e-6)


def test_soft_rank_of_ties_is_their_average_rank():
    values = torch.tensor([[0.0, 1.0, 1.0, 1.0, 5.0]], dtype=torch.float64)
    np.testing.assert_allclose(soft_rank(values, 1e-6).numpy(), [[1, 3, 3, 3, 5]])


def test_soft_rank_matches_a_plain_isotonic_solver():
    """Against an independent projection onto the permutahedron (sequential PAV)."""

    def reference_soft_rank(row, strength):
        z = row / strength
        order = np.argsort(-z)
        targets = z[order] - np.arange(len(z), 0, -1)
        blocks = []  # [sum, count]
        for value in targets:
            blocks.append([value, 1])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] < blocks[-1][0] / blocks[-1][1]:
                total, count = blocks.pop()
                blocks[-1][0] += total
                blocks[-1][1] += count
        fitted = np.concatenate([[total / count] * count for total, count in blocks])
        result = np.empty_like(z)
        result[order] = z[order] - fitted
        return result

    values = torch.randn(6, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for strength in [0.05, 0.5, 5.0]:
        expected = np.stack([reference_soft_rank(row, strength) for row in values.numpy()])
        np.testing.assert_allclose(soft_rank(values, strength).numpy(), expected, atol=1e-9)


def test_long_rows_solved_by_scipy_match_the_vectorised_passes(monkeypatch):
    generator = torch.Generator().manual_seed(8)
    n_items = ranking.SCIPY_MIN_ITEMS + 500
    values = torch.randn(3, n_items, dtype=torch.float64, generator=generator)
    counts = torch.randint(1, 4, (n_items,), generator=generator)
    upstream = torch.randn(3, n_items, dtype=torch.float64, generator=generator)

    def soft_ranks_and_gradient(weighted):
        leaf = values.clone().requires_grad_(True)
        soft = scaled_soft_rank(leaf, 0.1, counts if weighted else None)
        (gradient,) = torch.autograd.grad((soft * upstream).sum(), leaf)
        return soft.detach(), gradient

    calls = []
    solver = ranking.isotonic_regression
    monkeypatch.setattr(
        ranking, "isotonic_regression", lambda *a, **k: calls.append(1) or solver(*a, **k)
    )
    by_row = [soft_ranks_and_gradient(weighted) for weighted in (False, True)]
    assert len(calls) == 6
    monkeypatch.setattr(ranking, "SCIPY_MIN_ITEMS", 10**9)
    passes = [soft_ranks_and_gradient(weighted) for weighted in (False, True)]
    assert len(calls) == 6
    for (soft, gradient), (expected_soft, expected_gradient) in zip(by_row, passes):
        np.testing.assert_allclose(soft.numpy(), expected_soft.numpy(), atol=1e-8)
        np.testing.assert_allclose(gradient.numpy(), expected_gradient.numpy(), atol=1e-8)


def test_large_regularisation_is_affine_in_the_values():
    values = torch.randn(2, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    soft = soft_rank(values, 1e6)
    slope = (soft - soft.mean(dim=1, keepdim=True)) / (values - values.mean(dim=1, keepdim=True))
    np.testing.assert_allclose(slope.numpy(), 1e-6, rtol=1e-6)


def test_soft_rank_gradcheck():
    values = torch.randn(3, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    values.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: soft_rank(v, 0.7), (values,))
    assert torch.autograd.gradcheck(lambda v: scaled_soft_rank(v, 0.3), (values,))


def test_weighted_soft_rank_equals_soft_rank_of_expanded_copies_and_gradcheck():
    generator = torch.Generator().manual_seed(6)
    values = torch.randn(3, 15, dtype=torch.float64, generator=generator)
    counts = torch.randint(1, 5, (15,), generator=generator)
    for strength in [0.05, 0.5, 5.0]:
        grouped = scaled_soft_rank(values, strength, counts).repeat_interleave(counts, dim=1)
        expanded = scaled_soft_rank(values.repeat_interleave(counts, dim=1), strength)
        np.testing.assert_allclose(grouped.numpy(), expanded.numpy(), atol=1e-9)
    values.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: scaled_soft_rank(v, 0.5, counts), (values,))


def test_scaled_soft_rank_ignores_scale_and_shift():
    values = torch.randn(2, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    a = scaled_soft_rank(values, 0.3)
    b = scaled_soft_rank(1e-6 * values + 5.0, 0.3)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-8)


def test_grouped_pearson_equals_pearson_over_copies():
    generator = torch.Generator().manual_seed(8)
    x = torch.randn(3, 10, dtype=torch.float64, generator=generator)
    counts = torch.randint(1, 4, (10,), generator=generator)
    target = standardise_rows(
        torch.randn(3, int(counts.sum()), dtype=torch.float64, generator=generator)
    )
    group = torch.arange(10).repeat_interleave(counts)
    sums = torch.zeros(3, 10, dtype=torch.float64).index_add_(1, group, target)
    expected = pearson_rows(x.repeat_interleave(counts, dim=1), target)
    np.testing.assert_allclose(pearson_rows(x, sums, counts).numpy(), expected.numpy())
    scipy_r = [
        scipy.stats.pearsonr(row, t)[0]
        for row, t in zip(x.repeat_interleave(counts, dim=1).numpy(), target.numpy())
    ]
    np.testing.assert_allclose(expected.numpy(), scipy_r)


def test_soft_rank_rejects_bad_input():
    with pytest.raises(ValueError, match="values must be 2D"):
        soft_rank(torch.zeros(3))
    with pytest.raises(ValueError, match="regularization_strength must be positive"):
        soft_rank(torch.zeros(1, 3), 0.0)
