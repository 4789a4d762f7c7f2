import numpy as np
import pandas as pd
import pytest
import torch

from mlem_neuro import MLEM, fit_units


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": rng.integers(0, 2, 20).astype(bool), "b": rng.uniform(size=20)})
    return features, rng.standard_normal((20, 6))


def test_mismatched_stimulus_counts(small):
    features, Y = small
    with pytest.raises(
        ValueError, match="Y has 19 rows .stimuli. but features describe 20 stimuli"
    ):
        MLEM().fit(features, Y[:19])


def test_nan_and_inf_in_Y(small):
    features, Y = small
    Y = Y.copy()
    Y[3, 2] = np.nan
    with pytest.raises(
        ValueError, match="Y contains 1 NaN or infinite value.s., first at row 3, column 2"
    ):
        MLEM().fit(features, Y)
    Y[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_units(features, Y)


def test_constant_feature(small):
    features, Y = small
    features = features.assign(c=1.0)
    with pytest.raises(ValueError, match="Feature 'c' is constant over the stimuli"):
        MLEM().fit(features, Y)


def test_too_few_stimuli(small):
    features, Y = small
    with pytest.raises(ValueError, match="MLEM needs at least 3 stimuli to rank pairs, got 1"):
        MLEM().fit(features[:1], Y[:1])
    with pytest.raises(ValueError, match="MLEM needs at least 3 stimuli to rank pairs, got 2"):
        MLEM().fit(features[:2], Y[:2])


def test_unknown_distance_and_options(small):
    features, Y = small
    with pytest.raises(
        ValueError,
        match="Invalid value for the 'distance' parameter. Allowed values are 'euclidean'.*"
        "but got 'mahalanobis'",
    ):
        MLEM(distance="mahalanobis").fit(features, Y)
    with pytest.raises(ValueError, match="Invalid value for the 'dtype' parameter"):
        MLEM(dtype="float16").fit(features, Y)
    with pytest.raises(
        ValueError, match="'learning_rate' must be a finite positive number, got -1"
    ):
        MLEM(learning_rate=-1).fit(features, Y)
    with pytest.raises(TypeError, match="'max_steps' must be an integer, got float 10.5"):
        MLEM(max_steps=10.5).fit(features, Y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_absent_cuda_device(small):
    features, Y = small
    with pytest.raises(RuntimeError, match="device='cuda' was requested but CUDA is not available"):
        MLEM(device="cuda").fit(features, Y)
    with pytest.raises(ValueError, match="Invalid value for the 'device' parameter"):
        MLEM(device="gpu0").fit(features, Y)


def test_bad_units(small):
    features, Y = small
    with pytest.raises(ValueError, match="Unit 1 refers to column 6, outside the 6 columns of Y"):
        fit_units(features, Y, [np.array([0, 1]), np.array([5, 6])])
    with pytest.raises(ValueError, match="Unit 0 has no column"):
        fit_units(features, Y, [np.array([], dtype=int)])
    with pytest.raises(TypeError, match="units.0. is a boolean mask"):
        fit_units(features, Y, [np.ones(6, dtype=bool)])
    with pytest.raises(TypeError, match="units must be a scipy.sparse matrix"):
        fit_units(features, Y, np.eye(6))


def test_bad_cv(small):
    features, Y = small
    with pytest.raises(
        ValueError, match="groups must have shape .20,., one label per stimulus, got .19,."
    ):
        fit_units(features, Y, cv=2, groups=np.arange(19))
    with pytest.raises(ValueError, match="cv=3 folds need at least 3 distinct groups, got 2"):
        fit_units(features, Y, cv=3, groups=np.arange(20) % 2)
    with pytest.raises(ValueError, match="cv fold 0 has 18 training and 2 test stimuli"):
        fit_units(features, Y, cv=[(np.arange(18), np.arange(18, 20))])


def test_precomputed_inputs_are_checked(small):
    features, Y = small
    with pytest.raises(ValueError, match=r"Y must be a distance matrix of shape \(20, 20\)"):
        MLEM(distance="precomputed").fit(features, Y)
    asymmetric = np.random.default_rng(0).uniform(size=(20, 20))
    with pytest.raises(ValueError, match="must be symmetric"):
        MLEM(distance="precomputed").fit(features, asymmetric)
    with pytest.raises(
        ValueError, match=r"shape \(n_stimuli, n_stimuli, n_features\), got \(20, 2\)"
    ):
        MLEM(precomputed_features=True).fit(features.to_numpy(float), Y)


def test_scoring_with_other_features(small):
    features, Y = small
    model = MLEM(random_state=0, max_steps=5).fit(features, Y)
    with pytest.raises(
        ValueError, match=r"columns \['a'\], but the model was fitted on \['a', 'b'\]"
    ):
        model.score(features[["a"]], Y)
