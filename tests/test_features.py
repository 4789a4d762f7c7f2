import numpy as np
import pandas as pd
import pytest
import torch

from mlem_neuro.core.features import FeatureEncoder, pair_feature_distances


def distances(table, **kwargs):
    encoder = FeatureEncoder(**kwargs).fit(table)
    codes = torch.from_numpy(encoder.transform(table))
    first, second = torch.triu_indices(len(table), len(table), offset=1)
    categorical, scales = torch.from_numpy(encoder.categorical_), torch.from_numpy(encoder.scales_)
    return encoder, pair_feature_distances(codes, categorical, scales, first, second)


def test_kinds_and_distances_of_mixed_columns():
    table = pd.DataFrame(
        {
            "size": [1.0, 3.0, 5.0],
            "animate": [True, False, True],
            "category": pd.Categorical(["face", "house", "face"]),
            "word": pd.Series(["a", "b", "c"], dtype="str"),
            "count": [0, 10, 5],
        }
    )
    encoder, d = distances(table)
    assert encoder.kinds_ == ["numeric", "categorical", "categorical", "categorical", "numeric"]
    # pairs (0,1), (0,2), (1,2)
    np.testing.assert_allclose(d[:, 0], [0.5, 1.0, 0.5])
    np.testing.assert_allclose(d[:, 1], [1, 0, 1])
    np.testing.assert_allclose(d[:, 2], [1, 0, 1])
    np.testing.assert_allclose(d[:, 3], [1, 1, 1])
    np.testing.assert_allclose(d[:, 4], [1.0, 0.5, 0.5])


def test_object_strings_and_pandas_string_dtype_are_categorical():
    table = pd.DataFrame(
        {
            "a": np.array(["x", "y", "x"], dtype=object),
            "b": pd.array(["u", "u", "v"], dtype="string"),
        }
    )
    encoder, d = distances(table)
    assert encoder.kinds_ == ["categorical", "categorical"]
    np.testing.assert_allclose(d[:, 1], [0, 1, 1])


def test_missing_values_raise_by_default_and_zero_on_request():
    table = pd.DataFrame({"a": [1.0, np.nan, 3.0, 2.0], "b": ["x", "y", None, "x"]})
    with pytest.raises(ValueError, match=r"Feature 'a' has 1 missing value\(s\) \(rows \[1\]\)"):
        FeatureEncoder().fit(table)
    _, d = distances(table, missing="zero")
    # pairs: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    np.testing.assert_allclose(d[:, 0], [0, 1, 0.5, 0, 0, 0.5])
    np.testing.assert_allclose(d[:, 1], [1, 0, 0, 0, 1, 0])


def test_constant_and_unknown_features_are_refused():
    with pytest.raises(ValueError, match="Feature 'c' is constant"):
        FeatureEncoder().fit(pd.DataFrame({"c": [1, 1, 1], "d": [1, 2, 3]}))
    with pytest.raises(TypeError, match="Feature 'when' has dtype datetime64"):
        FeatureEncoder().fit(pd.DataFrame({"when": pd.to_datetime(["2020", "2021", "2022"])}))
    with pytest.raises(TypeError, match="Feature 'mixed' holds values of type"):
        FeatureEncoder().fit(pd.DataFrame({"mixed": ["a", 1, 2.0]}, dtype=object))
    with pytest.raises(
        ValueError,
        match="Invalid value for the 'missing' parameter. Allowed values are 'raise', 'zero', "
        "but got 'drop'",
    ):
        FeatureEncoder(missing="drop").fit(pd.DataFrame({"a": [1, 2]}))


def test_transform_uses_the_fitted_scale_and_checks_columns():
    encoder = FeatureEncoder().fit(pd.DataFrame({"a": [0.0, 10.0], "b": ["x", "y"]}))
    codes = encoder.transform(pd.DataFrame({"a": [5.0, 20.0], "b": ["y", "z"]}))
    # Numeric values stay as given; their differences are divided by the fitted range.
    np.testing.assert_allclose(codes[:, 0], [5.0, 20.0])
    np.testing.assert_allclose(encoder.scales_, [10.0, 1.0])
    assert codes[0, 1] == 1 and codes[1, 1] == 2  # unseen level gets a new code
    with pytest.raises(
        ValueError, match=r"columns \['a'\], but the model was fitted on \['a', 'b'\]"
    ):
        encoder.transform(pd.DataFrame({"a": [1.0, 2.0]}))


def test_arrays_are_numeric_features_with_generated_names():
    encoder = FeatureEncoder().fit(np.array([[0, 1], [1, 3], [2, 5]]))
    assert encoder.feature_names_ == ["feature_0", "feature_1"]
    with pytest.raises(ValueError, match=r"got an array of shape \(3,\)"):
        FeatureEncoder().fit(np.array([1, 2, 3]))
