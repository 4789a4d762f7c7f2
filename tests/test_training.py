import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize

from mlem_neuro.core.evaluation import standardised_ranks
from mlem_neuro.core.grouping import group_pairs, group_sums
from mlem_neuro.core.metric import TermLayout
from mlem_neuro.core.quasi_newton import maximise
from mlem_neuro.core.ranking import pearson_rows, scaled_soft_rank
from mlem_neuro.core.start import closed_form_start
from mlem_neuro.core.training import TrainingSettings, fit_metrics


def test_closed_form_start_of_groups_is_weighted_least_squares_on_the_expanded_pairs():
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

    parameters = closed_form_start(
        torch.from_numpy(group_terms),
        torch.from_numpy(targets),
        TermLayout(3),
        counts=torch.from_numpy(counts),
    )
    weights = F.softplus(parameters).numpy()

    design = np.column_stack([pairs, np.ones(len(pairs))])
    for unit in range(2):
        expected = np.linalg.lstsq(design, standardised[:, unit], rcond=None)[0][:3]
        expected = np.maximum(expected / expected.max(), 0.05)  # negative weights floored
        np.testing.assert_allclose(weights[unit], expected, rtol=1e-5)  # ridge 1e-6
    assert np.isclose(weights[1, 1], 0.05)


def test_bfgs_finds_the_maximum_of_each_unit_in_few_steps():
    # Concave quadratics of different conditioning, one per unit: the maximum is known.
    rng = np.random.default_rng(0)
    n_units, n_params = 6, 5
    factors = torch.from_numpy(rng.standard_normal((n_units, n_params, n_params)))
    curvature = factors @ factors.transpose(1, 2) + 0.1 * torch.eye(n_params)
    peaks = torch.from_numpy(rng.standard_normal((n_units, n_params)))

    def objective(x, rows):
        offset = (x - peaks[rows])[:, :, None]
        value = -0.5 * (offset.transpose(1, 2) @ curvature[rows] @ offset)[:, 0, 0]
        return value, -(curvature[rows] @ offset)[:, :, 0]

    start = torch.zeros(n_units, n_params, dtype=torch.float64)
    found, values, steps = maximise(objective, start, 200, 1e-12, 2)
    np.testing.assert_allclose(found, peaks, atol=1e-4)
    np.testing.assert_allclose(values, 0.0, atol=1e-8)
    assert steps.max() < 60  # gradient ascent needs thousands at this conditioning
    assert len(set(steps.tolist())) > 1  # each unit stops on its own


def test_bfgs_only_accepts_rises_and_keeps_units_without_a_finite_start():
    def objective(x, rows):  # maximum at 1 on every coordinate; unit 1 undefined
        value = -((x - 1) ** 2).sum(dim=1) + torch.where(rows == 1, torch.nan, 0.0)
        return value, -2 * (x - 1)

    start = torch.zeros(3, 2)
    found, values, steps = maximise(objective, start, 50, 1e-9, 2)
    np.testing.assert_allclose(found[[0, 2]], 1.0, atol=1e-6)
    assert torch.equal(found[1], start[1]) and values[1].isnan() and steps[1] == 1


def test_grouped_fit_reaches_the_optimum_scipy_finds():
    rng = np.random.default_rng(1)
    terms = torch.from_numpy(rng.integers(0, 2, (600, 4)).astype(float))
    neural = terms @ torch.tensor([[1.0, 0.3, 0.1, 0.0]], dtype=torch.float64).T
    neural = (neural.T + torch.from_numpy(rng.standard_normal((3, 600)))).abs()
    layout = TermLayout(4)
    settings = TrainingSettings(layout=layout, tol=1e-7)
    _, scores, _ = fit_metrics(terms, neural, settings, 100, torch.Generator())

    group_terms, group_of_pair, counts = group_pairs(terms)
    targets = group_sums(standardised_ranks(neural), group_of_pair, len(counts))
    for unit in range(3):

        def loss(parameters, unit=unit):
            predicted = layout.weights(torch.from_numpy(parameters)[None]) @ group_terms.T
            soft = scaled_soft_rank(predicted, 1.0, counts)
            return -float(pearson_rows(soft, targets[unit : unit + 1], counts)[0])

        best = min(
            minimize(loss, start, method="Nelder-Mead", options={"maxiter": 4000}).fun
            for start in [np.zeros(4), rng.standard_normal(4)]
        )
        assert float(scores[unit]) >= -best - 1e-4


def test_weight_decay_pulls_grouped_fits_towards_equal_weights():
    rng = np.random.default_rng(2)
    terms = torch.from_numpy(rng.integers(0, 2, (500, 3)).astype(float))
    neural = (terms @ torch.tensor([3.0, 1.0, 0.2], dtype=torch.float64))[None]
    neural = neural + 0.5 * torch.from_numpy(rng.standard_normal((1, 500)))
    spread = []
    for decay in [0.0, 1.0]:
        settings = TrainingSettings(layout=TermLayout(3), weight_decay=decay)
        weights, _, _ = fit_metrics(terms, neural, settings, 100, torch.Generator())
        spread.append(float(weights.max() / weights.min()))
    assert spread[0] > 3 and spread[1] < 0.5 * spread[0]
